import { t } from '../i18n.js';
import { h, heading, field, dataTable, dl, fmtTime, alertBox, errorText } from '../dom.js';
import { api } from '../api.js';

// <input type=datetime-local> value (local time) -> Unix seconds, or null.
function unix(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

export async function auditPage(view) {
  heading(view, t('audit.title'));
  const form = h('form', { id: 'audit-filters', class: 'filters card', role: 'search' },
    field(t('audit.actor'), { id: 'audit-actor', name: 'actor', placeholder: 'user:alice' }),
    field(t('audit.action'), { id: 'audit-action', name: 'action', placeholder: 'certificate.revoke' }),
    field(t('audit.target'), { id: 'audit-target', name: 'target' }),
    field(t('audit.since'), { id: 'audit-since', name: 'since', type: 'datetime-local' }),
    field(t('audit.until'), { id: 'audit-until', name: 'until', type: 'datetime-local' }),
    h('div', { class: 'field' }, h('button', { type: 'submit', id: 'audit-apply', class: 'primary' }, t('common.apply'))));
  const error = alertBox('audit-error');
  const slot = h('div');
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true }, t('common.more'));
  const head = h('section', { id: 'tree-head', class: 'card', 'aria-labelledby': 'tree-head-title' },
    h('h2', { id: 'tree-head-title' }, t('audit.treeHead')));
  view.append(head, form, error, slot, more);
  let events = [];
  let next = null;

  const load = async (append) => {
    const p = new URLSearchParams({ limit: 100 });
    for (const name of ['actor', 'action', 'target']) {
      const v = form.elements[name].value.trim();
      if (v) p.set(name, v);
    }
    for (const name of ['since', 'until']) {
      const v = unix(form.elements[name].value);
      if (v !== null) p.set(name, v);
    }
    if (append && next !== null) p.set('after_id', next);
    error.textContent = '';
    try {
      const res = await api('GET', `/api/v1/audit/events?${p}`);
      events = append ? events.concat(res.events || []) : res.events || [];
      next = res.next_after_id ?? null;
    } catch (err) {
      error.textContent = errorText(err);
      return;
    }
    const rows = events.map((e) => h('tr', { dataset: { eventId: e.id } },
      h('th', { scope: 'row' }, String(e.id)), h('td', null, fmtTime(e.time)), h('td', null, e.actor),
      h('td', null, e.action), h('td', { class: 'wrap' }, e.target),
      h('td', null, h('span', { class: e.result === 'success' ? 'status-good badge' : 'status-revoked badge' }, e.result)),
      h('td', null, e.source),
      h('td', null, e.details && Object.keys(e.details).length
        ? h('details', null, h('summary', null, t('audit.details')), h('pre', null, JSON.stringify(e.details, null, 2))) : '—')));
    slot.replaceChildren(dataTable('audit-table', t('audit.caption', { n: events.length }),
      [t('audit.id'), t('audit.time'), t('audit.actor'), t('audit.action'), t('audit.target'), t('audit.result'),
        t('audit.source'), t('audit.details')], rows));
    more.hidden = next === null;
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(false); });
  more.addEventListener('click', () => load(true));
  await Promise.all([load(false), treeHead(head)]);
}

async function treeHead(section) {
  try {
    const th = await api('GET', '/api/v1/audit/tree-head');
    section.append(dl('tree-head-detail', [
      [t('audit.treeSize'), String(th.tree_size)],
      [t('audit.rootHash'), h('code', { class: 'wrap' }, th.root_hash)],
      [t('audit.signedAt'), fmtTime(th.timestamp ? th.timestamp / 1000 : 0)],
      [t('audit.keyId'), h('code', { class: 'wrap' }, th.key_id)],
      [t('audit.origin'), th.origin],
    ]));
  } catch (err) {
    section.append(h('p', { class: 'muted' }, err.status === 404 ? t('audit.noHead') : errorText(err)));
  }
}
