// The API client and the browser session. The tokens live in HttpOnly cookies; this script
// only holds the CSRF token the session answer gives it, sent on every non-GET request.

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const b = body && typeof body === 'object' ? body : {};
    super(b.detail || b.error_description || b.title || `HTTP ${status}`);
    this.status = status;
    this.code = b.code || b.error || '';
    this.title = b.title || '';
    this.detail = b.detail || b.error_description || '';
    this.retryAfter = Number.parseInt(retryAfter || '', 10) || 0;
  }
}

export const session = { subject: null, scope: null, csrf: null, me: null, perms: new Set() };

const listeners = { expired: () => {}, changed: () => {} };
export function onSession(name, fn) { listeners[name] = fn; }

export const loggedIn = () => session.subject !== null;
export const enrolling = () => session.scope === 'mfa_enroll';
export const can = (permission) => session.perms.has(permission);

function setSession(body) {
  session.subject = body.subject;
  session.scope = body.scope;
  session.csrf = body.csrf_token;
}

function clearSession() {
  Object.assign(session, { subject: null, scope: null, csrf: null, me: null, perms: new Set() });
  listeners.changed();
}

function send(method, path, { json, body, headers } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && session.csrf) h['X-CSRF-Token'] = session.csrf;
  let payload = body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  return fetch(path, { method, headers: h, body: payload, credentials: 'same-origin' });
}

async function parse(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) return res.json().catch(() => null);
  return res.text();
}

async function check(res) {
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data, res.headers.get('Retry-After'));
  return data;
}

// One refresh at a time, shared by every request that met a 401 meanwhile.
let refreshing = null;
export function refresh() {
  if (!session.csrf) return Promise.resolve(false);
  refreshing ??= send('POST', '/api/v1/session/refresh')
    .then(async (res) => {
      if (!res.ok) return false;
      setSession(await res.json());
      return true;
    })
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}

function expired(res) {
  clearSession();
  listeners.expired();
  return new ApiError(res.status, null);
}

// An authenticated call: a 401 refreshes the session once and retries; then it is over.
export async function api(method, path, opts) {
  let res = await send(method, path, opts);
  if (res.status === 401 && loggedIn()) {
    if (await refresh()) res = await send(method, path, opts);
    if (res.status === 401) throw expired(res);
  }
  return check(res);
}

// A public call (no refresh dance), e.g. the verifier, which works logged out.
export async function publicCall(method, path, opts) {
  return check(await send(method, path, opts));
}

async function loadMe() {
  // An enrolment-only session may do nothing else, /me included.
  if (enrolling()) {
    session.me = null;
    session.perms = new Set();
    return;
  }
  const me = await api('GET', '/api/v1/me');
  session.me = me;
  session.perms = new Set(me.permissions || []);
}

export async function login(username, password, otp) {
  const body = await publicCall('POST', '/api/v1/session', { json: { username, password, otp } });
  setSession(body);
  await loadMe();
  listeners.changed();
}

// At start-up: an existing session cookie restores the session (and gives a CSRF token).
export async function restore() {
  try {
    const res = await send('GET', '/api/v1/session');
    if (res.status === 401) {
      // An expired access token: its CSRF token lets the refresh cookie renew the session.
      const body = await res.json().catch(() => null);
      if (!body || !body.csrf_token) return false;
      session.csrf = body.csrf_token;
      if (!(await refresh())) {
        session.csrf = null;
        return false;
      }
    } else if (!res.ok) {
      return false;
    } else {
      setSession(await res.json());
    }
    await loadMe();
    listeners.changed();
    return true;
  } catch {
    clearSession();
    return false;
  }
}

export async function logout() {
  try {
    if (session.csrf) await send('DELETE', '/api/v1/session');
  } finally {
    clearSession();
  }
}

function xhrOnce(path, form, onProgress, onUploaded) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    if (session.csrf) xhr.setRequestHeader('X-CSRF-Token', session.csrf);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(Math.round((100 * e.loaded) / e.total));
    });
    xhr.upload.addEventListener('load', onUploaded);
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      resolve({ status: xhr.status, data, retryAfter: xhr.getResponseHeader('Retry-After') });
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, null)));
    xhr.addEventListener('abort', () => reject(new ApiError(0, null)));
    xhr.send(form);
  });
}

// A multipart upload with progress (fetch has no upload progress); same 401 rule as api().
export async function upload(path, form, onProgress, onUploaded) {
  let r = await xhrOnce(path, form, onProgress, onUploaded);
  if (r.status === 401 && loggedIn()) {
    if (await refresh()) r = await xhrOnce(path, form, onProgress, onUploaded);
    if (r.status === 401) throw expired(r);
  }
  if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.data, r.retryAfter);
  return r.data;
}
