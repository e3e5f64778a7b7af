// The portal's shell: hash router, navigation, language and session wiring.
import { t, getLang, setLang, applyStatic } from './i18n.js';
import { h, heading, toast } from './dom.js';
import { session, onSession, loggedIn, enrolling, can, restore, logout } from './api.js';
import { loginPage } from './pages/login.js';
import { enrollPage } from './pages/enroll.js';
import { documentsPage } from './pages/documents.js';
import { verifyPage } from './pages/verify.js';
import { certificatesPage, certificatePage } from './pages/certificates.js';
import { auditPage } from './pages/audit.js';
import { usersPage } from './pages/users.js';
import { apiKeysPage } from './pages/apikeys.js';
import { jobsPage } from './pages/jobs.js';

// `perm`: the permission a route needs; `public`: open logged out; `nav`: its menu label.
const routes = [
  { path: 'login', public: true, render: loginPage },
  { path: 'enroll', enroll: true, render: enrollPage },
  { path: 'documents', perm: 'document:request', nav: 'nav.documents', render: documentsPage },
  { path: 'verify', public: true, nav: 'nav.verify', render: verifyPage },
  { path: 'certificates', perm: 'certificate:read', nav: 'nav.certificates', render: certificatesPage },
  { pattern: /^certificates\/([0-9A-Fa-f:]+)$/, perm: 'certificate:read', render: certificatePage },
  { path: 'audit', perm: 'audit:read', nav: 'nav.audit', render: auditPage },
  { path: 'users', perm: 'user:admin', nav: 'nav.users', render: usersPage },
  { path: 'api-keys', perm: 'api_key:admin', nav: 'nav.apiKeys', render: apiKeysPage },
  { path: 'jobs', perm: 'job:read', nav: 'nav.jobs', render: jobsPage },
];

// Where a user lands: the first page they may use.
export function home() {
  if (!loggedIn()) return '#/login';
  if (enrolling()) return '#/enroll';
  const first = routes.find((r) => r.nav && r.perm && can(r.perm));
  return first ? `#/${first.path}` : '#/verify';
}

const allowed = (r) => r.public || (r.enroll ? enrolling() : loggedIn() && !enrolling() && (!r.perm || can(r.perm)));

function currentPath() {
  const hash = location.hash;
  return hash.startsWith('#/') ? decodeURIComponent(hash.slice(2)) : hash === '' || hash === '#' ? '' : null;
}

function renderNav() {
  const nav = document.getElementById('main-nav');
  const path = currentPath() || '';
  const items = routes.filter((r) => r.nav && allowed(r)).map((r) => {
    const active = path === r.path || path.startsWith(`${r.path}/`);
    return h('li', null, h('a', { href: `#/${r.path}`, 'aria-current': active ? 'page' : null }, t(r.nav)));
  });
  if (!loggedIn()) items.push(h('li', null, h('a', { href: '#/login', 'aria-current': path === 'login' ? 'page' : null }, t('nav.login'))));
  nav.replaceChildren(h('ul', null, items));
  document.getElementById('logout').hidden = !loggedIn();
  document.getElementById('whoami').textContent = loggedIn()
    ? (session.me && session.me.display_name) || session.subject.replace(/^user:/, '') : '';
}

let renderCount = 0;
async function route() {
  const path = currentPath();
  const main = document.getElementById('app');
  const view = h('div', { class: 'view' });
  const token = ++renderCount;
  let page = null;
  let params = [];
  if (path === '') {
    location.replace(home());
    return;
  }
  if (path !== null) {
    for (const r of routes) {
      const m = r.pattern ? path.match(r.pattern) : path === r.path ? [path] : null;
      if (m) { page = r; params = m.slice(1); break; }
    }
  }
  if (page && !page.public && !loggedIn()) { location.replace('#/login'); return; }
  if (page && page.path === 'login' && loggedIn()) { location.replace(home()); return; }
  // An enrolment-only session may enrol (and verify, which is public), nothing else.
  if (page && enrolling() && !page.enroll && !page.public) { location.replace('#/enroll'); return; }
  if (page && page.enroll && !enrolling()) { location.replace(home()); return; }
  renderNav();
  main.replaceChildren(view);
  if (!page) {
    heading(view, t('notFound.title'));
    view.append(h('p', null, t('notFound.text')), h('p', null, h('a', { href: home() }, t('notFound.home'))));
  } else if (!allowed(page)) {
    heading(view, t('forbidden.title'));
    view.append(h('p', null, t('forbidden.text')), h('p', null, h('a', { href: home() }, t('notFound.home'))));
  } else {
    const done = page.render(view, ...params);
    if (done && done.catch) done.catch((e) => { if (token === renderCount) toast(e.message || String(e)); });
  }
  const h1 = view.querySelector('h1');
  document.title = h1 ? `${h1.textContent} · ${t('app.name')}` : t('app.name');
  if (h1) h1.focus();
}

function start() {
  const lang = document.getElementById('lang');
  lang.value = getLang();
  applyStatic();
  lang.addEventListener('change', () => {
    setLang(lang.value);
    applyStatic();
    route();
  });
  document.getElementById('logout').addEventListener('click', async () => {
    await logout();
    toast(t('app.loggedOut'));
    location.hash = '#/login';
  });
  document.getElementById('skip-link').addEventListener('click', () => {
    const target = document.querySelector('#app h1') || document.getElementById('app');
    target.focus();
  });
  onSession('changed', renderNav);
  onSession('expired', () => {
    toast(t('app.sessionEnded'));
    location.hash = '#/login';
  });
  window.addEventListener('hashchange', route);
  restore().finally(route);
}

start();
