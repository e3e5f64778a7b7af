// The web portal end to end, in Debian's Chromium driven by Playwright (playwright-core):
// started by run-portal-e2e.sh, which prepares the installation and the environment.
//
// A notary enrols TOTP on first login (QR code page), logs in with a code, signs a PDF with a
// visible stamp, downloads it (pdfsig accepts it), verifies it on the verify page (green),
// revokes its certificate, and sees the verify page and the stamp's status page turn red.
// A clerk sees no revoke action and the API refuses it. An administrator's pages (users, API
// keys, jobs, audit, certificates with the expiry chart) render. Every page is screenshotted
// into E2E_ARTIFACTS, at desktop and phone size; any CSP violation or script error fails.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/web/run-portal-e2e.sh)`);
  return v;
};
const base = env('E2E_BASE_URL');
const artifacts = env('E2E_ARTIFACTS');
const samplePdf = env('E2E_PDF');
const nssDir = env('E2E_NSS_DIR');
const users = {
  notary: { name: 'ana.souza', password: env('E2E_NOTARY_PASSWORD') },
  clerk: { name: 'bruno', password: env('E2E_CLERK_PASSWORD') },
  admin: { name: 'carla', password: env('E2E_ADMIN_PASSWORD') },
};

// oathtool: an implementation of RFC 6238 independent of ours. Each time step is accepted
// once per user, so a login right after enrolment uses the next step (within the ±1 skew).
const totp = (secret, offset = 0) =>
  execFileSync('oathtool', ['--totp', '-b', secret, '-N', `now + ${offset} seconds`]).toString().trim();

const problems = [];
let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

// Every form control has an accessible name, and the page does not scroll sideways.
async function checkPage(page, name) {
  const unlabeled = await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
      .filter((e) => e.offsetParent !== null)
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') &&
        !(e.tagName === 'BUTTON' && e.textContent.trim()))
      .map((e) => e.id || e.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabeled, [], `${name}: controls without a label`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name}: the page scrolls sideways by ${overflow}px`);
}

async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, locale: 'pt-BR', acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (m) => {
    // HTTP error statuses are expected (a 401 before login, the refusals tested below);
    // anything else logged as an error (a CSP violation: "Refused to ...") is a failure.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of'))
      problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page };
}

async function goto(page, route) {
  await page.goto(`${base}/portal/#/${route}`);
  await page.locator('main#app').waitFor();
}

async function login(page, user, otp = '') {
  await goto(page, 'login');
  await page.fill('#login-username', user.name);
  await page.fill('#login-password', user.password);
  await page.fill('#login-otp', otp);
  await page.click('#login-submit');
}

// First login: enrol TOTP from the QR code page; returns the secret.
async function enrol(page, user, label) {
  await login(page, user);
  await page.waitForURL(/#\/enroll/);
  await page.locator('#enroll-qr').waitFor();
  const src = await page.getAttribute('#enroll-qr', 'src');
  assert.match(src, /^data:image\/svg\+xml;base64,/);
  const secret = (await page.textContent('#enroll-secret')).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]+=*$/);
  await checkPage(page, `${label} enrolment`);
  await screenshot(page, `${label}-enroll-qr`);
  await page.fill('#enroll-code', totp(secret));
  await page.click('#enroll-confirm');
  await page.locator('#enroll-recovery-codes li').first().waitFor();
  assert.equal(await page.locator('#enroll-recovery-codes li').count(), 10);
  await screenshot(page, `${label}-enroll-recovery-codes`);
  await page.click('#enroll-done');
  await page.waitForURL(/#\/login/);
  return secret;
}

// Each lands on the first page its permissions allow (documents, else certificates).
async function loginWithTotp(page, user, secret) {
  await login(page, user, totp(secret, 30));
  await page.locator('#logout').waitFor({ state: 'visible' });
  await page.waitForURL(/#\/(documents|certificates)/);
}

async function verifyFile(page, file) {
  await goto(page, 'verify');
  await page.setInputFiles('#verify-file', file);
  const overall = page.locator('#verify-overall');
  await overall.waitFor();
  return overall.getAttribute('data-status');
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  // --- the notary ----------------------------------------------------------------------------
  const { page } = await newPage(browser);
  await page.goto(`${base}/`);
  await page.waitForURL(/\/portal\/#\/login/);
  await checkPage(page, 'login');
  await screenshot(page, 'login');

  // A wrong password is refused with a message, and nothing more is said.
  await login(page, { ...users.notary, password: 'not the password at all' });
  await page.locator('#login-error').waitFor({ state: 'visible' });
  assert.ok((await page.textContent('#login-error')).trim().length > 0);

  const notarySecret = await enrol(page, users.notary, 'notary');
  await loginWithTotp(page, users.notary, notarySecret);
  await checkPage(page, 'documents');
  await screenshot(page, 'notary-documents-empty');

  // Sign with a visible stamp on page 2.
  await page.setInputFiles('#sign-file', samplePdf);
  await page.fill('#sign-title', 'Contrato de compra e venda');
  await page.check('#sign-visible');
  await page.fill('#sign-page', '2');
  await page.click('#sign-submit');
  await page.locator('#sign-result').waitFor({ timeout: 60000 });
  await screenshot(page, 'notary-signed');
  const statusHref = await page.getAttribute('#sign-status-link', 'href');
  const documentId = statusHref.split('/').pop();
  assert.match(statusHref, /\/verify\/[A-Za-z0-9_-]+$/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sign-download')]);
  const signedPdf = path.join(artifacts, 'signed.pdf');
  await download.saveAs(signedPdf);
  // An independent validator: poppler's pdfsig, trusting only our root.
  const pdfsig = execFileSync('pdfsig', ['-nssdir', nssDir, signedPdf]).toString();
  assert.match(pdfsig, /Signature Validation: Signature is Valid\./, pdfsig);
  assert.match(pdfsig, /Certificate Validation: Certificate is Trusted\./, pdfsig);

  // The document is in the notary's list, with its certificate.
  await goto(page, 'documents');
  const row = page.locator(`#documents-table tr[data-document-id="${documentId}"]`);
  await row.waitFor();
  const certHref = await row.locator('a.cert-link').getAttribute('href');
  const serial = certHref.split('/').pop();
  await screenshot(page, 'notary-documents');

  assert.equal(await verifyFile(page, signedPdf), 'valid');
  assert.ok(await page.locator('#verify-overall.status-valid').count(), 'the valid banner is green');
  await checkPage(page, 'verify');
  await screenshot(page, 'verify-valid');

  await page.goto(`${base}${statusHref}`);
  assert.equal(await page.getAttribute('#status', 'data-status'), 'good');
  await screenshot(page, 'status-page-good');

  // Revoke the document's certificate, with a reason and a confirmation.
  await goto(page, `certificates/${serial}`);
  await page.locator('#cert-detail').waitFor();
  assert.equal(await page.getAttribute('#cert-status', 'data-status'), 'good');
  await checkPage(page, 'certificate');
  await screenshot(page, 'notary-certificate');
  await page.click('#cert-revoke');
  await page.locator('#revoke-dialog[open]').waitFor();
  await page.selectOption('#revoke-reason', 'cessationOfOperation');
  await screenshot(page, 'notary-revoke-confirm');
  await page.click('#revoke-confirm');
  await page.locator('#cert-status[data-status="revoked"]').waitFor();
  await screenshot(page, 'notary-certificate-revoked');

  // The verify page turns red, and so does the page behind the stamp's QR code.
  assert.equal(await verifyFile(page, signedPdf), 'invalid');
  assert.ok(await page.locator('#verify-overall.status-invalid').count(), 'the invalid banner is red');
  assert.ok(await page.locator('.signature-card[data-status="invalid"]').count(), 'the signature is marked invalid');
  await screenshot(page, 'verify-revoked');
  await page.goto(`${base}${statusHref}`);
  assert.equal(await page.getAttribute('#status', 'data-status'), 'revoked');
  await screenshot(page, 'status-page-revoked');

  // English, on a phone-sized screen.
  const phone = await newPage(browser, { width: 390, height: 844 });
  await goto(phone.page, 'verify');
  await phone.page.selectOption('#lang', 'en');
  assert.equal(await phone.page.getAttribute('html', 'lang'), 'en');
  await phone.page.setInputFiles('#verify-file', signedPdf);
  await phone.page.locator('#verify-overall').waitFor();
  await checkPage(phone.page, 'verify (phone)');
  await screenshot(phone.page, 'phone-verify-en');
  await phone.context.close();

  // --- the clerk: no revoke action, and the API refuses it ------------------------------------
  const clerk = await newPage(browser);
  const clerkSecret = await enrol(clerk.page, users.clerk, 'clerk');
  await loginWithTotp(clerk.page, users.clerk, clerkSecret);
  assert.equal(await clerk.page.locator('#sign-form').count(), 0, 'a clerk has no sign form');
  await goto(clerk.page, `certificates/${serial}`);
  await clerk.page.locator('#cert-detail').waitFor();
  assert.equal(await clerk.page.locator('#cert-revoke').count(), 0, 'a clerk sees no revoke button');
  await screenshot(clerk.page, 'clerk-certificate');
  const refused = await clerk.page.evaluate(async (s) => {
    const session = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json();
    const r = await fetch(`/api/v1/certificates/${s}/revoke`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: JSON.stringify({ reason: 'keyCompromise' }),
    });
    return { status: r.status, code: (await r.json()).code };
  }, serial);
  assert.deepEqual(refused, { status: 403, code: 'auth.permission_denied' });
  // Without the CSRF token the session cookie alone does nothing.
  const forged = await clerk.page.evaluate(async () =>
    (await fetch('/api/v1/me/password', { method: 'POST', credentials: 'same-origin', body: '{}' })).status);
  assert.equal(forged, 401);
  await clerk.context.close();

  // --- the administrator's pages ------------------------------------------------------------
  const admin = await newPage(browser);
  const adminSecret = await enrol(admin.page, users.admin, 'admin');
  await loginWithTotp(admin.page, users.admin, adminSecret);
  for (const [route, ready] of [['certificates', '#cert-table'], ['audit', '#audit-table'], ['users', '#users-table'],
    ['api-keys', '#apikeys-table'], ['jobs', '#jobs-table']]) {
    await goto(admin.page, route);
    await admin.page.locator(ready).waitFor();
    await checkPage(admin.page, route);
    await screenshot(admin.page, `admin-${route}`);
  }
  // Users: a new clerk, created from the form.
  await goto(admin.page, 'users');
  await admin.page.fill('#user-username', 'diego');
  await admin.page.fill('#user-display-name', 'Diego Alves');
  await admin.page.fill('#user-password', 'senha do diego 2026 longa');
  await admin.page.check('#user-role-clerk');
  await admin.page.click('#user-create-submit');
  await admin.page.locator('#users-table tr[data-username="diego"]').waitFor();
  // API keys: shown once, then revoked after a confirmation.
  await goto(admin.page, 'api-keys');
  await admin.page.fill('#apikey-name', 'sistema-de-protocolo');
  await admin.page.click('#apikey-create-submit');
  const key = (await admin.page.locator('#apikey-secret').textContent()).trim();
  assert.match(key, /^ck_/);
  await screenshot(admin.page, 'admin-api-key-created');
  const keyRow = admin.page.locator('#apikeys-table tbody tr', { hasText: 'sistema-de-protocolo' });
  await keyRow.locator('.apikey-revoke').click();
  await admin.page.click('#apikey-revoke-confirm');
  await keyRow.locator('.status-revoked').waitFor();
  const revokedKey = await admin.page.evaluate(async (k) =>
    (await fetch('/api/v1/me', { headers: { Authorization: `ApiKey ${k}` }, credentials: 'omit' })).status, key);
  assert.equal(revokedKey, 401, 'a revoked API key no longer works');

  await goto(admin.page, 'certificates');
  await admin.page.locator('#expiry-chart').waitFor();
  assert.ok(await admin.page.locator(`#cert-table tr[data-serial="${serial}"]`).count(), 'the document certificate is listed');
  await goto(admin.page, 'audit');
  await admin.page.locator('#tree-head').waitFor();
  await admin.page.locator('#audit-table tbody tr').first().waitFor();
  await admin.page.click('#logout');
  await admin.page.waitForURL(/#\/login/);
  await admin.context.close();

  assert.deepEqual(problems, [], 'no CSP violation or script error on any page');
  console.log(`portal e2e: ok (${shot} screenshots in ${artifacts})`);
} finally {
  await browser.close();
}
