import { t, has } from '../i18n.js';
import { h, fill, heading, dl, fmtTime, fmtBytes, errorText } from '../dom.js';
import { publicCall } from '../api.js';

export function verifyPage(view) {
  heading(view, t('verify.title'));
  view.append(h('p', null, t('verify.intro')));
  const input = h('input', { id: 'verify-file', type: 'file', accept: 'application/pdf,.pdf' });
  const drop = h('div', { id: 'verify-drop', class: 'drop-zone', tabindex: 0, role: 'button', 'aria-describedby': 'verify-drop-hint' },
    h('p', { class: 'drop-title' }, t('verify.drop')),
    h('p', { id: 'verify-drop-hint', class: 'hint' }, t('verify.dropHint')));
  const status = h('div', { id: 'verify-status', 'aria-live': 'polite', class: 'muted' });
  const result = h('div', { id: 'verify-result' });
  view.append(drop, h('div', { class: 'field' }, h('label', { for: 'verify-file' }, t('verify.file')), input), status, result);

  const run = async (file) => {
    if (!file) return;
    result.replaceChildren();
    status.textContent = t('verify.checking', { name: file.name });
    try {
      const report = await publicCall('POST', '/api/v1/verify', { body: file, headers: { 'Content-Type': 'application/pdf' } });
      status.textContent = '';
      renderReport(result, report, file.name);
    } catch (err) {
      status.textContent = '';
      result.replaceChildren(h('p', { role: 'alert', class: 'error-box' }, errorText(err)));
    }
  };
  input.addEventListener('change', () => run(input.files[0]));
  drop.addEventListener('click', () => input.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); }
  });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('dragging'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('dragging');
    run(e.dataTransfer.files[0]);
  });
}

const yesNo = (v) => (v ? t('common.yes') : t('common.no'));

// A known finding code in the reader's language, else the server's English message.
function finding(f) {
  const key = `finding.${f.code}`;
  return h('li', { class: `finding sev-${f.severity}`, dataset: { code: f.code } },
    h('span', { class: 'sev' }, t(`severity.${f.severity}`)), ' ',
    has(key) ? t(key) : f.message, ' ', h('span', { class: 'small muted' }, `[${f.code}]`));
}

function findings(list) {
  return list && list.length ? h('ul', { class: 'findings' }, list.map(finding)) : null;
}

function timeText(s) {
  const ts = s.timestamp || {};
  if (ts.present && ts.valid && ts.gen_time) return t('verify.timeProven', { time: fmtTime(ts.gen_time), tsa: ts.tsa || '?' });
  if (s.claimed_signing_time) return t('verify.timeClaimed', { time: fmtTime(s.claimed_signing_time) });
  return t('verify.timeNone');
}

function revocationText(r) {
  if (!r) return '—';
  const base = t(`revocation.${r.status}`);
  const when = r.revocation_time ? ` ${t('verify.revokedAt', { time: fmtTime(r.revocation_time), reason: r.revocation_reason || '' })}` : '';
  return `${base}${r.source ? ` (${r.source})` : ''}${when}`;
}

function coverageText(c) {
  if (!c) return '—';
  if (c.covers_whole_file) return t('verify.coverWhole');
  return t('verify.coverPartial', { n: (c.later_revisions || []).length });
}

function signatureCard(s, i) {
  const isTs = s.kind === 'document_timestamp';
  const signer = s.signer;
  const integrity = s.integrity || {};
  const chain = s.chain || {};
  return h('section', { class: `signature-card status-border-${s.status}`, dataset: { status: s.status } },
    h('h3', null, t(isTs ? 'verify.timestampN' : 'verify.signatureN', { n: i + 1 }), ' ',
      h('span', { class: `badge status-${s.status}` }, t(`status.${s.status}`))),
    dl(null, [
      [t(isTs ? 'verify.tsa' : 'verify.signer'), signer ? signer.subject : s.name || '—'],
      signer ? [t('verify.issuer'), signer.issuer] : null,
      signer && signer.serial ? [t('verify.serial'), signer.serial] : null,
      s.name && signer ? [t('verify.name'), s.name] : null,
      [t('verify.time'), timeText(s)],
      s.reason ? [t('verify.reason'), s.reason] : null,
      [t('verify.level'), s.sub_filter || '—'],
      [t('verify.integrity'), integrity.digest_ok && integrity.signature_ok ? t('verify.intact') : t('verify.notIntact')],
      [t('verify.chain'), chain.trusted ? t('verify.trusted') : `${t('verify.untrusted')}${chain.error ? ` (${chain.error})` : ''}`],
      [t('verify.revocation'), revocationText(s.revocation)],
      [t('verify.coverage'), coverageText(s.coverage)],
    ]),
    s.findings && s.findings.length ? [h('h4', null, t('verify.findings')), findings(s.findings)] : null);
}

function renderReport(result, report, name) {
  const status = report.status || 'indeterminate';
  const sigs = report.signatures || [];
  const file = report.file || {};
  fill(result,
    h('div', { id: 'verify-overall', class: `banner status-${status}`, dataset: { status }, role: 'status' },
      h('strong', null, t(`status.${status}`)), ' — ', t(`verify.overall.${status}`)),
    h('p', { class: 'small muted' }, t('verify.fileInfo', { name, size: fmtBytes(file.size || 0), n: sigs.length, revisions: file.revisions || 0 }),
      h('br'), 'SHA-256: ', h('code', { class: 'wrap' }, file.sha256 || '')),
    findings(report.findings),
    sigs.map(signatureCard));
}
