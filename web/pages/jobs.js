import { t } from '../i18n.js';
import { h, heading, dataTable, fmtTime, alertBox, errorText } from '../dom.js';
import { api } from '../api.js';

function health(job) {
  const r = job.last_run;
  if (!r) return ['indeterminate', t('jobs.never')];
  if (r.result === 'success') return ['good', t('jobs.ok')];
  if (r.result === 'running') return ['indeterminate', t('jobs.running')];
  return ['revoked', t('jobs.failed', { result: r.result })];
}

export async function jobsPage(view) {
  heading(view, t('jobs.title'));
  const error = alertBox('jobs-error');
  const runs = h('section', { id: 'job-runs-section', 'aria-live': 'polite' });
  view.append(error);
  let jobs;
  try {
    jobs = (await api('GET', '/api/v1/jobs')).jobs || [];
  } catch (err) {
    error.textContent = errorText(err);
    return;
  }
  const rows = jobs.map((j) => {
    const [cls, text] = health(j);
    return h('tr', { dataset: { job: j.name } },
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link-button', click: () => showRuns(runs, j.name) }, j.name)),
      h('td', null, j.schedule || '—'),
      h('td', null, h('span', { class: `badge status-${cls}` }, text)),
      h('td', null, j.last_run ? fmtTime(j.last_run.started_at) : '—'),
      h('td', null, fmtTime(j.last_success_at)),
      h('td', null, fmtTime(j.next_due)),
      h('td', null, j.running ? t('common.yes') : t('common.no')));
  });
  view.append(dataTable('jobs-table', t('jobs.caption'),
    [t('jobs.name'), t('jobs.schedule'), t('jobs.health'), t('jobs.lastRun'), t('jobs.lastSuccess'), t('jobs.nextDue'), t('jobs.runningCol')], rows), runs);
}

async function showRuns(section, name) {
  const title = h('h2', { tabindex: '-1' }, t('jobs.runsOf', { name }));
  section.replaceChildren(title, h('p', { class: 'muted' }, t('common.loading')));
  try {
    const res = await api('GET', `/api/v1/jobs/${encodeURIComponent(name)}/runs?limit=50`);
    const rows = (res.runs || []).map((r) => h('tr', { dataset: { runId: r.id } },
      h('th', { scope: 'row' }, String(r.id)), h('td', null, fmtTime(r.scheduled_at)), h('td', null, String(r.attempt)),
      h('td', null, r.trigger), h('td', null, r.instance), h('td', null, fmtTime(r.started_at)), h('td', null, fmtTime(r.ended_at)),
      h('td', null, h('span', { class: `badge status-${r.result === 'success' ? 'good' : r.result === 'running' ? 'indeterminate' : 'revoked'}` }, r.result)),
      h('td', { class: 'wrap' }, r.error || '')));
    section.replaceChildren(title, dataTable('job-runs', t('jobs.runsCaption', { name }),
      [t('jobs.runId'), t('jobs.scheduled'), t('jobs.attempt'), t('jobs.trigger'), t('jobs.instance'), t('jobs.started'),
        t('jobs.ended'), t('jobs.result'), t('jobs.error')], rows));
  } catch (err) {
    section.replaceChildren(title, h('p', { role: 'alert', class: 'error-box' }, errorText(err)));
  }
  title.focus();
}
