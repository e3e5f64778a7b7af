import { t } from '../i18n.js';
import { h, heading, field, alertBox, errorText } from '../dom.js';
import { api, logout } from '../api.js';

// UTF-8 safe base64 (btoa alone takes only Latin-1).
function base64(text) {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export async function enrollPage(view) {
  heading(view, t('enroll.title'));
  view.append(h('p', null, t('enroll.intro')));
  const error = alertBox('enroll-error');
  const status = h('p', { 'aria-live': 'polite' }, t('common.loading'));
  view.append(status, error);
  let start;
  try {
    start = await api('POST', '/api/v1/me/mfa/totp');
  } catch (err) {
    status.textContent = '';
    error.textContent = errorText(err);
    return;
  }
  status.textContent = '';
  // The SVG goes in as an image: never parsed into the page.
  const qr = h('img', { id: 'enroll-qr', src: `data:image/svg+xml;base64,${base64(start.qr_svg)}`, alt: t('enroll.qrAlt'), width: 220, height: 220 });
  const confirm = h('button', { type: 'submit', id: 'enroll-confirm', class: 'primary' }, t('enroll.confirm'));
  const form = h('form', { id: 'enroll-form', class: 'card narrow', novalidate: true },
    h('ol', { class: 'steps' },
      h('li', null, t('enroll.step1')),
      h('li', null, t('enroll.step2'), h('div', { class: 'qr' }, qr),
        h('p', null, t('enroll.secret'), ' ', h('code', { id: 'enroll-secret', class: 'secret' }, start.secret))),
      h('li', null, t('enroll.step3'))),
    field(t('enroll.code'), { id: 'enroll-code', name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true }),
    confirm);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = form.elements.code.value.trim();
    if (!code) { error.textContent = t('enroll.missing'); return; }
    error.textContent = '';
    confirm.disabled = true;
    try {
      const res = await api('POST', '/api/v1/me/mfa/totp/confirm', { json: { code } });
      showRecovery(view, res.recovery_codes || []);
    } catch (err) {
      error.textContent = err.status === 400 || err.status === 401 || err.status === 403 ? `${t('enroll.wrong')} ${errorText(err)}` : errorText(err);
      confirm.disabled = false;
    }
  });
  view.append(form);
}

function showRecovery(view, codes) {
  const done = h('button', { type: 'button', id: 'enroll-done', class: 'primary' }, t('enroll.done'));
  done.addEventListener('click', async () => {
    done.disabled = true;
    await logout().catch(() => {});
    location.hash = '#/login';
  });
  const h2 = h('h2', { tabindex: '-1' }, t('enroll.recoveryTitle'));
  const section = h('section', { class: 'card narrow', 'aria-labelledby': 'enroll-recovery-title' },
    h2, h('p', { class: 'warning', role: 'alert' }, t('enroll.recoveryWarning')),
    h('ol', { id: 'enroll-recovery-codes', class: 'codes' }, codes.map((c) => h('li', null, h('code', null, c)))),
    h('p', null, t('enroll.relogin')), done);
  h2.id = 'enroll-recovery-title';
  view.querySelector('#enroll-form').replaceWith(section);
  h2.focus();
}
