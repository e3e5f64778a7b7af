import { t } from '../i18n.js';
import { h, heading, field, alertBox } from '../dom.js';
import { login, enrolling } from '../api.js';

export function loginPage(view) {
  heading(view, t('login.title'));
  const error = alertBox('login-error');
  const submit = h('button', { type: 'submit', id: 'login-submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { id: 'login-form', class: 'card narrow', novalidate: true },
    field(t('login.username'), { id: 'login-username', name: 'username', autocomplete: 'username', required: true }),
    field(t('login.password'), { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    field(t('login.otp'), { id: 'login-otp', name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code' }, t('login.otpHint')),
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      error.textContent = t('login.missing');
      return;
    }
    error.textContent = '';
    submit.disabled = true;
    try {
      await login(username, password, form.elements.otp.value.trim());
      location.hash = enrolling() ? '#/enroll' : '#/';
    } catch (err) {
      form.elements.password.value = '';
      if (err.code === 'slow_down' || err.status === 429) error.textContent = t('login.slowDown', { n: err.retryAfter || 30 });
      else if (err.code === 'invalid_grant' || err.status === 401) error.textContent = t('login.wrong');
      else if (!err.status) error.textContent = t('common.networkError');
      else error.textContent = err.detail || t('login.failed');
      form.elements.username.focus();
    } finally {
      submit.disabled = false;
    }
  });
  view.append(form);
}
