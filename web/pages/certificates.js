import { t } from '../i18n.js';
import { h, heading, select, dataTable, dl, fmtTime, alertBox, errorText, openDialog, toast } from '../dom.js';
import { api, can } from '../api.js';

const PROFILES = ['tls-server', 'tls-client', 'document-signing', 'ocsp', 'tsa'];
const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded',
  'cessationOfOperation', 'privilegeWithdrawn'];
const PAGE = 100;
const SVG = 'http://www.w3.org/2000/svg';

function statusBadge(status, id) {
  return h('span', { id, class: `badge status-${status}`, dataset: { status } }, t(`status.${status}`));
}

export async function certificatesPage(view) {
  heading(view, t('certs.title'));
  const state = { items: [], next: null };
  const statusSel = select('cert-status', [['', t('common.all')], ['good', t('status.good')], ['revoked', t('status.revoked')]], '');
  const profileSel = select('cert-profile', [['', t('common.all')], ...PROFILES.map((p) => [p, p])], '');
  const search = h('input', { id: 'cert-search', type: 'search', autocomplete: 'off' });
  const filters = h('form', { id: 'cert-filters', class: 'filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'cert-status' }, t('certs.status')), statusSel),
    h('div', { class: 'field' }, h('label', { for: 'cert-profile' }, t('certs.profile')), profileSel),
    h('div', { class: 'field' }, h('label', { for: 'cert-search' }, t('certs.search')), search));
  const tableSlot = h('div');
  const more = h('button', { type: 'button', id: 'cert-more', hidden: true }, t('common.more'));
  const error = alertBox('cert-error');
  const chart = h('section', { id: 'expiry', 'aria-labelledby': 'expiry-title' }, h('h2', { id: 'expiry-title' }, t('certs.chartTitle')));
  view.append(filters, error, tableSlot, more, chart);

  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = q ? state.items.filter((c) => `${c.subject} ${c.serial}`.toLowerCase().includes(q)) : state.items;
    const rows = shown.map((c) => {
      const href = `#/certificates/${c.serial}`;
      const tr = h('tr', { dataset: { serial: c.serial }, class: 'clickable' },
        h('th', { scope: 'row' }, h('a', { href }, c.serial)),
        h('td', null, c.subject), h('td', null, c.profile), h('td', null, c.issuer),
        h('td', null, fmtTime(c.not_after)), h('td', null, statusBadge(c.status)));
      tr.addEventListener('click', (e) => { if (!e.target.closest('a')) location.hash = href; });
      return tr;
    });
    tableSlot.replaceChildren(dataTable('cert-table', t('certs.caption', { shown: shown.length, loaded: state.items.length }),
      [t('certs.serial'), t('certs.subject'), t('certs.profile'), t('certs.issuer'), t('certs.notAfter'), t('certs.status')], rows));
    more.hidden = state.next === null;
  };
  const load = async (append) => {
    const params = new URLSearchParams({ limit: PAGE, offset: append ? state.next : 0 });
    if (statusSel.value) params.set('status', statusSel.value);
    if (profileSel.value) params.set('profile', profileSel.value);
    error.textContent = '';
    try {
      const page = await api('GET', `/api/v1/certificates?${params}`);
      state.items = append ? state.items.concat(page.items || []) : page.items || [];
      state.next = page.next_offset ?? null;
      draw();
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  statusSel.addEventListener('change', () => load(false));
  profileSel.addEventListener('change', () => load(false));
  search.addEventListener('input', draw);
  filters.addEventListener('submit', (e) => e.preventDefault());
  more.addEventListener('click', () => load(true));
  await Promise.all([load(false), expiryChart(chart)]);
}

// Certificates still good that expire in the next 90 days, counted per week.
async function expiryChart(section) {
  const weeks = 13;
  const now = Date.now();
  const counts = new Array(weeks).fill(0);
  try {
    let offset = 0;
    for (let pages = 0; offset !== null && pages < 50; pages++) {
      const page = await api('GET', `/api/v1/certificates?status=good&expiring_within_days=90&limit=1000&offset=${offset}`);
      for (const c of page.items || []) {
        const week = Math.floor((new Date(c.not_after).getTime() - now) / (7 * 86400e3));
        if (week >= 0 && week < weeks) counts[week]++;
      }
      offset = page.next_offset ?? null;
    }
  } catch (err) {
    section.append(h('p', { role: 'alert', class: 'error-box' }, errorText(err)));
    return;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const label = t('certs.chartLabel', { n: total });
  const max = Math.max(1, ...counts);
  const W = 640, H = 220, pad = 30, bw = (W - 2 * pad) / weeks;
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el('svg', { id: 'expiry-chart', role: 'img', 'aria-label': label, viewBox: `0 0 ${W} ${H}`, width: '100%', class: 'chart' });
  svg.append(el('title', {}, label));
  svg.append(el('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis' }));
  const weekStart = (i) => new Date(now + i * 7 * 86400e3);
  counts.forEach((n, i) => {
    const bh = ((H - 2 * pad) * n) / max;
    const x = pad + i * bw + 4;
    svg.append(el('rect', { x, y: H - pad - bh, width: bw - 8, height: bh, class: 'bar' }));
    svg.append(el('text', { x: x + (bw - 8) / 2, y: H - pad - bh - 4, 'text-anchor': 'middle', class: 'bar-value' }, String(n)));
    svg.append(el('text', { x: x + (bw - 8) / 2, y: H - pad + 16, 'text-anchor': 'middle', class: 'bar-label' }, t('certs.weekShort', { n: i + 1 })));
  });
  const rows = counts.map((n, i) => h('tr', null,
    h('th', { scope: 'row' }, t('certs.weekShort', { n: i + 1 })), h('td', null, weekStart(i).toLocaleDateString()), h('td', null, String(n))));
  section.append(h('div', { class: 'chart-wrap' }, svg),
    h('details', null, h('summary', null, t('certs.chartTable')),
      dataTable('expiry-table', label, [t('certs.week'), t('certs.weekFrom'), t('certs.count')], rows)));
}

export async function certificatePage(view, serial) {
  heading(view, t('cert.title', { serial }));
  view.append(h('p', null, h('a', { href: '#/certificates' }, t('cert.back'))));
  const body = h('div');
  const error = alertBox('cert-detail-error');
  view.append(error, body);
  let c;
  try {
    c = await api('GET', `/api/v1/certificates/${encodeURIComponent(serial)}`);
  } catch (err) {
    error.textContent = errorText(err);
    return;
  }
  const revoked = c.status === 'revoked';
  const pemUrl = URL.createObjectURL(new Blob([c.pem || ''], { type: 'application/x-pem-file' }));
  body.replaceChildren(
    dl('cert-detail', [
      [t('certs.subject'), c.subject],
      [t('certs.serial'), h('code', { class: 'wrap' }, c.serial)],
      [t('certs.profile'), c.profile],
      [t('certs.issuer'), c.issuer],
      c.sans && c.sans.length ? [t('cert.sans'), c.sans.join(', ')] : null,
      [t('cert.notBefore'), fmtTime(c.not_before)],
      [t('certs.notAfter'), fmtTime(c.not_after)],
      [t('certs.status'), statusBadge(c.status, 'cert-status')],
      revoked ? [t('cert.revokedAt'), fmtTime(c.revoked_at)] : null,
      revoked ? [t('cert.reason'), t(`reason.${c.revocation_reason}`)] : null,
      c.requester ? [t('cert.requester'), c.requester] : null,
    ]),
    h('p', { class: 'links' },
      h('a', { id: 'cert-pem', href: pemUrl, download: `${c.serial}.pem` }, t('cert.pem')),
      h('a', { id: 'cert-chain', href: `/api/v1/certificates/${encodeURIComponent(c.serial)}/chain`, download: `${c.serial}-chain.pem` }, t('cert.chain'))));
  if (!revoked && can('certificate:revoke')) {
    const btn = h('button', { type: 'button', id: 'cert-revoke', class: 'danger' }, t('cert.revoke'));
    btn.addEventListener('click', () => revoke(view, c.serial));
    body.append(btn);
  }
}

async function revoke(view, serial) {
  const reason = select('revoke-reason', REASONS.map((r) => [r, t(`reason.${r}`)]), 'unspecified');
  const ok = await openDialog({
    id: 'revoke-dialog', title: t('cert.revokeTitle'), confirmId: 'revoke-confirm', cancelId: 'revoke-cancel',
    confirmLabel: t('cert.revokeConfirm'), danger: true,
    content: [h('p', null, t('cert.revokeWarning', { serial })),
      h('div', { class: 'field' }, h('label', { for: 'revoke-reason' }, t('cert.reason')), reason)],
  });
  if (!ok) return;
  try {
    await api('POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, { json: { reason: reason.value } });
    toast(t('cert.revoked'));
    view.replaceChildren();
    await certificatePage(view, serial);
    const h1 = view.querySelector('h1');
    if (h1) h1.focus();
  } catch (err) {
    view.querySelector('#cert-detail-error').textContent = errorText(err);
  }
}
