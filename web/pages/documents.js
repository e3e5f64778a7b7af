import { t } from '../i18n.js';
import { h, heading, field, checkbox, dataTable, fmtTime, alertBox, errorText, toast } from '../dom.js';
import { api, can, upload } from '../api.js';

export async function documentsPage(view) {
  heading(view, t('docs.title'));
  const list = h('section', { 'aria-labelledby': 'docs-list-title' }, h('h2', { id: 'docs-list-title' }, t('docs.listTitle')));
  const reload = () => loadList(list);
  if (can('document:sign')) view.append(signForm(reload));
  view.append(list);
  await reload();
}

function signForm(reload) {
  const progress = h('progress', { id: 'sign-progress', max: 100, value: 0, hidden: true, 'aria-labelledby': 'sign-status' });
  const status = h('div', { id: 'sign-status', 'aria-live': 'polite', class: 'muted' });
  const error = alertBox('sign-error');
  const result = h('div', { class: 'sign-result-slot' });
  const submit = h('button', { type: 'submit', id: 'sign-submit', class: 'primary' }, t('sign.submit'));
  const form = h('form', { id: 'sign-form', class: 'card', novalidate: true },
    h('h2', null, t('sign.title')),
    field(t('sign.file'), { id: 'sign-file', name: 'file', type: 'file', accept: 'application/pdf', required: true }),
    field(t('sign.docTitle'), { id: 'sign-title', name: 'title', type: 'text', maxlength: 200 }),
    h('div', { class: 'row' },
      checkbox(t('sign.visible'), { id: 'sign-visible', name: 'visible' }),
      field(t('sign.page'), { id: 'sign-page', name: 'page', type: 'number', min: 1, value: 1, step: 1, inputmode: 'numeric' })),
    submit, progress, status, error, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = form.elements.file.files[0];
    error.textContent = '';
    if (!file) { error.textContent = t('sign.noFile'); form.elements.file.focus(); return; }
    const page = Number.parseInt(form.elements.page.value || '1', 10);
    if (!(page >= 1)) { error.textContent = t('sign.badPage'); form.elements.page.focus(); return; }
    const title = form.elements.title.value.trim();
    const data = new FormData();
    data.append('file', file, file.name);
    data.append('title', title);
    data.append('visible', form.elements.visible.checked ? 'true' : 'false');
    data.append('page', String(page));
    submit.disabled = true;
    result.replaceChildren();
    progress.hidden = false;
    progress.value = 0;
    status.textContent = t('sign.uploading', { pct: 0 });
    try {
      const doc = await upload('/api/v1/documents', data,
        (pct) => { progress.value = pct; status.textContent = t('sign.uploading', { pct }); },
        () => { progress.removeAttribute('value'); status.textContent = t('sign.signing'); });
      progress.value = 100;
      status.textContent = t('sign.done');
      const name = `${(doc.title || doc.id).replace(/[\\/:*?"<>|]+/g, '_')}.pdf`;
      result.replaceChildren(h('div', { id: 'sign-result', class: 'notice status-valid' },
        h('p', null, t('sign.resultText', { id: doc.id })),
        h('p', { class: 'links' },
          h('a', { id: 'sign-download', href: doc.download_url, download: name }, t('sign.download')),
          h('a', { id: 'sign-status-link', href: `/verify/${encodeURIComponent(doc.id)}`, target: '_blank', rel: 'noopener' }, t('docs.statusPage')))));
      form.elements.file.value = '';
      form.elements.title.value = '';
      toast(t('sign.done'));
      await reload();
    } catch (err) {
      progress.hidden = true;
      status.textContent = '';
      error.textContent = err.status === 429 ? t('common.slowDown', { n: err.retryAfter || 30 }) : errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function download(e, doc) {
  e.preventDefault();
  try {
    // Links expire: ask for a fresh one at click time.
    const fresh = await api('GET', `/api/v1/documents/${encodeURIComponent(doc.id)}`);
    const a = h('a', { href: fresh.download_url, download: `${doc.id}.pdf`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    toast(errorText(err));
  }
}

async function loadList(section) {
  const slot = section.querySelector('.slot') || section.appendChild(h('div', { class: 'slot' }));
  slot.replaceChildren(h('p', { class: 'muted' }, t('common.loading')));
  let docs;
  try {
    docs = (await api('GET', '/api/v1/documents?limit=200')).documents || [];
  } catch (err) {
    slot.replaceChildren(h('p', { role: 'alert', class: 'error-box' }, errorText(err)));
    return;
  }
  const certs = can('certificate:read');
  const rows = docs.map((d) => h('tr', { dataset: { documentId: d.id } },
    h('th', { scope: 'row' }, d.title || t('docs.untitled'), h('div', { class: 'small muted' }, d.id)),
    h('td', null, fmtTime(d.created_at)),
    h('td', null, d.level || '—'),
    h('td', null, d.signer_name || '—'),
    h('td', { class: 'actions-cell' },
      h('a', { class: 'doc-download', href: `/api/v1/documents/${encodeURIComponent(d.id)}`, click: (e) => download(e, d) }, t('docs.download')),
      h('a', { class: 'doc-status', href: `/verify/${encodeURIComponent(d.id)}`, target: '_blank', rel: 'noopener' }, t('docs.statusPage')),
      certs && d.signer_serial ? h('a', { class: 'cert-link', href: `#/certificates/${d.signer_serial}` }, t('docs.certificate')) : null)));
  slot.replaceChildren(dataTable('documents-table', t('docs.caption', { n: docs.length }),
    [t('docs.colTitle'), t('docs.colSigned'), t('docs.colLevel'), t('docs.colSigner'), t('docs.colActions')], rows));
}
