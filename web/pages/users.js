import { t } from '../i18n.js';
import { h, heading, field, checkbox, dataTable, fmtTime, alertBox, errorText, openDialog, toast } from '../dom.js';
import { api } from '../api.js';

const ROLES = ['admin', 'notary', 'clerk', 'auditor'];

function roleBoxes(prefix, checked = []) {
  return h('fieldset', { class: 'roles' }, h('legend', null, t('users.roles')),
    ROLES.map((r) => checkbox(t(`role.${r}`), { id: `${prefix}-${r}`, name: 'roles', value: r, checked: checked.includes(r) })));
}

const chosen = (root) => [...root.querySelectorAll('input[name="roles"]:checked')].map((i) => i.value);
const userPath = (u) => `/api/v1/users/${encodeURIComponent(u.username)}`;

export async function usersPage(view) {
  heading(view, t('users.title'));
  const error = alertBox('users-error');
  const slot = h('div');
  const reload = () => loadUsers(slot, error);
  view.append(createForm(reload), error, slot);
  await reload();
}

function createForm(reload) {
  const error = alertBox('user-create-error');
  const form = h('form', { id: 'user-create', class: 'card', novalidate: true },
    h('h2', null, t('users.create')),
    field(t('users.username'), { id: 'user-username', name: 'username', autocomplete: 'off', required: true }),
    field(t('users.displayName'), { id: 'user-display-name', name: 'display_name', autocomplete: 'off' }),
    field(t('users.password'), { id: 'user-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true }),
    roleBoxes('user-role'), error,
    h('button', { type: 'submit', id: 'user-create-submit', class: 'primary' }, t('users.createSubmit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      username: form.elements.username.value.trim(),
      display_name: form.elements.display_name.value.trim(),
      password: form.elements.password.value,
      roles: chosen(form),
    };
    if (!body.username || !body.password || !body.roles.length) { error.textContent = t('users.missing'); return; }
    error.textContent = '';
    try {
      await api('POST', '/api/v1/users', { json: body });
      form.reset();
      toast(t('users.created', { name: body.username }));
      await reload();
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return form;
}

async function loadUsers(slot, error) {
  let users;
  try {
    users = (await api('GET', '/api/v1/users?limit=1000')).items || [];
  } catch (err) {
    error.textContent = errorText(err);
    return;
  }
  const act = (fn) => async () => {
    error.textContent = '';
    try {
      if (await fn()) await loadUsers(slot, error);
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  const rows = users.map((u) => h('tr', { dataset: { username: u.username } },
    h('th', { scope: 'row' }, u.username), h('td', null, u.display_name || '—'),
    h('td', null, (u.roles || []).map((r) => t(`role.${r}`)).join(', ') || '—'),
    h('td', null, u.mfa_enabled ? t('users.mfaOn') : t('users.mfaOff')),
    h('td', null, h('span', { class: `badge status-${u.disabled ? 'revoked' : 'good'}` }, u.disabled ? t('users.disabled') : t('users.active'))),
    h('td', null, fmtTime(u.created_at)),
    h('td', { class: 'actions-cell' },
      h('button', { type: 'button', class: 'user-roles', click: act(() => editRoles(u)) }, t('users.editRoles')),
      h('button', { type: 'button', class: 'user-toggle', click: act(() => toggle(u)) }, u.disabled ? t('users.enable') : t('users.disable')),
      h('button', { type: 'button', class: 'user-mfa-reset', click: act(() => resetMfa(u)) }, t('users.resetMfa')))));
  slot.replaceChildren(dataTable('users-table', t('users.caption', { n: users.length }),
    [t('users.username'), t('users.displayName'), t('users.roles'), t('users.mfa'), t('users.status'), t('users.createdAt'), t('common.actions')], rows));
}

async function editRoles(u) {
  const boxes = roleBoxes('edit-role', u.roles || []);
  const ok = await openDialog({ id: 'roles-dialog', title: t('users.editRolesOf', { name: u.username }), content: [boxes],
    confirmId: 'roles-confirm', cancelId: 'roles-cancel', confirmLabel: t('common.save') });
  if (!ok) return false;
  await api('PATCH', userPath(u), { json: { roles: chosen(boxes) } });
  toast(t('users.saved'));
  return true;
}

async function toggle(u) {
  await api('PATCH', userPath(u), { json: { disabled: !u.disabled } });
  toast(t(u.disabled ? 'users.enabled' : 'users.disabledMsg', { name: u.username }));
  return true;
}

async function resetMfa(u) {
  const ok = await openDialog({ id: 'mfa-reset-dialog', title: t('users.resetMfa'), content: [h('p', null, t('users.resetMfaWarning', { name: u.username }))],
    confirmId: 'mfa-reset-confirm', cancelId: 'mfa-reset-cancel', confirmLabel: t('users.resetMfa'), danger: true });
  if (!ok) return false;
  await api('POST', `${userPath(u)}/mfa/reset`);
  toast(t('users.mfaResetDone', { name: u.username }));
  return true;
}
