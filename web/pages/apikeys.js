import { t } from '../i18n.js';
import { h, heading, field, checkbox, dataTable, fmtTime, alertBox, errorText, openDialog, toast } from '../dom.js';
import { api } from '../api.js';

const ROLES = ['service', 'clerk', 'notary', 'auditor', 'admin'];

export async function apiKeysPage(view) {
  heading(view, t('keys.title'));
  const error = alertBox('apikeys-error');
  const slot = h('div');
  const secret = h('div', { class: 'secret-slot', 'aria-live': 'polite' });
  const reload = () => loadKeys(slot, error);
  view.append(createForm(secret, reload), secret, error, slot);
  await reload();
}

function createForm(secretSlot, reload) {
  const error = alertBox('apikey-create-error');
  const form = h('form', { id: 'apikey-create', class: 'card', novalidate: true },
    h('h2', null, t('keys.create')),
    field(t('keys.name'), { id: 'apikey-name', name: 'name', autocomplete: 'off', required: true }),
    h('fieldset', { class: 'roles' }, h('legend', null, t('users.roles')),
      ROLES.map((r) => checkbox(t(`role.${r}`), { id: `apikey-role-${r}`, name: 'roles', value: r, checked: r === 'service' }))),
    error, h('button', { type: 'submit', id: 'apikey-create-submit', class: 'primary' }, t('keys.createSubmit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = form.elements.name.value.trim();
    const roles = [...form.querySelectorAll('input[name="roles"]:checked')].map((i) => i.value);
    if (!name || !roles.length) { error.textContent = t('keys.missing'); return; }
    error.textContent = '';
    try {
      const created = await api('POST', '/api/v1/api-keys', { json: { name, roles } });
      form.reset();
      const copy = h('button', { type: 'button', id: 'apikey-copy' }, t('keys.copy'));
      copy.addEventListener('click', () => navigator.clipboard.writeText(created.key).then(() => toast(t('keys.copied')), () => {}));
      secretSlot.replaceChildren(h('div', { class: 'notice status-indeterminate' },
        h('p', null, h('strong', null, t('keys.onceWarning'))),
        h('p', null, h('code', { id: 'apikey-secret', class: 'secret wrap' }, created.key)), copy));
      await reload();
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return form;
}

async function loadKeys(slot, error) {
  let keys;
  try {
    keys = (await api('GET', '/api/v1/api-keys')).items || [];
  } catch (err) {
    error.textContent = errorText(err);
    return;
  }
  const rows = keys.map((k) => h('tr', { dataset: { prefix: k.prefix } },
    h('th', { scope: 'row' }, h('code', null, k.prefix)), h('td', null, k.name),
    h('td', null, (k.roles || []).map((r) => t(`role.${r}`)).join(', ')), h('td', null, k.owner || '—'),
    h('td', null, fmtTime(k.created_at)), h('td', null, fmtTime(k.last_used_at)),
    h('td', null, k.revoked_at ? h('span', { class: 'badge status-revoked' }, `${t('status.revoked')} ${fmtTime(k.revoked_at)}`)
      : h('span', { class: 'badge status-good' }, t('keys.active'))),
    h('td', null, k.revoked_at ? null : h('button', { type: 'button', class: 'apikey-revoke danger', click: () => revoke(k, slot, error) }, t('keys.revoke')))));
  slot.replaceChildren(dataTable('apikeys-table', t('keys.caption', { n: keys.length }),
    [t('keys.prefix'), t('keys.name'), t('users.roles'), t('keys.owner'), t('users.createdAt'), t('keys.lastUsed'), t('users.status'), t('common.actions')], rows));
}

async function revoke(k, slot, error) {
  const ok = await openDialog({ id: 'apikey-revoke-dialog', title: t('keys.revokeTitle'),
    content: [h('p', null, t('keys.revokeWarning', { name: k.name, prefix: k.prefix }))],
    confirmId: 'apikey-revoke-confirm', cancelId: 'apikey-revoke-cancel', confirmLabel: t('keys.revoke'), danger: true });
  if (!ok) return;
  error.textContent = '';
  try {
    await api('DELETE', `/api/v1/api-keys/${encodeURIComponent(k.prefix)}`);
    toast(t('keys.revoked', { name: k.name }));
    await loadKeys(slot, error);
  } catch (err) {
    error.textContent = errorText(err);
  }
}
