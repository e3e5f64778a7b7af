// DOM helpers. Everything is built with createElement/textContent: server data never
// reaches an HTML parser, and the CSP forbids inline styles and handlers anyway.
import { t, getLang } from './i18n.js';

// h('a', {href: '#/x', class: 'y', click: fn}, 'text', child, [more]): a function value
// is an event listener (addEventListener), never an inline handler attribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'style') throw new Error('inline styles are forbidden by the CSP');
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (typeof v === 'function') el.addEventListener(k, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// replaceChildren that takes the same children as h() (arrays, null).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// The page's <h1>; the router moves focus to it after each route change.
export function heading(view, text) {
  const h1 = h('h1', { tabindex: '-1' }, text);
  view.append(h1);
  return h1;
}

// A labelled input row: returns the wrapper; `attrs.id` is required for the label.
export function field(label, attrs, hint) {
  const hintId = hint ? `${attrs.id}-hint` : null;
  const input = h(attrs.tag || 'input', { ...attrs, tag: null, 'aria-describedby': hintId });
  return h('div', { class: 'field' }, h('label', { for: attrs.id }, label), input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

export function checkbox(label, attrs) {
  return h('div', { class: 'check' }, h('input', { type: 'checkbox', ...attrs }), h('label', { for: attrs.id }, label));
}

export function select(id, options, value) {
  return h('select', { id, name: id },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// A table in a horizontally scrolling wrapper; `rows` are <tr> elements.
export function dataTable(id, caption, columns, rows) {
  const body = h('tbody', null, rows);
  if (!rows.length) body.append(h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, t('common.none'))));
  return h('div', { class: 'table-wrap' },
    h('table', { id }, h('caption', null, caption),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))), body));
}

export function dl(id, pairs) {
  return h('dl', { id, class: 'details' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

// Unix seconds or an ISO 8601 string -> local date and time; empty/0 -> a dash.
export function fmtTime(v) {
  if (v === null || v === undefined || v === 0 || v === '') return '—';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString(getLang());
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// A problem document ({title, detail, code}) or an OAuth error as one line.
export function errorText(err) {
  if (!err || !err.status) return t('common.networkError');
  const text = err.detail || err.title || t('common.failed', { status: err.status });
  return err.code ? `${text} (${err.code})` : text;
}

export function alertBox(id) {
  return h('div', { id, role: 'alert', class: 'error-box' });
}

let toastTimer = null;
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('visible'), 6000);
}

// A modal <dialog>: resolves true on confirm, false on cancel/Escape; focus returns to the
// element that opened it. `content` is a list of nodes shown above the buttons.
export function openDialog({ id, title, content = [], confirmId, cancelId, confirmLabel, danger = false }) {
  const opener = document.activeElement;
  const titleId = `${id}-title`;
  const dialog = h('dialog', { id, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), content,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: cancelId, click: () => dialog.close('cancel') }, t('common.cancel')),
      h('button', { type: 'button', id: confirmId, class: danger ? 'danger' : 'primary',
        click: () => dialog.close('ok') }, confirmLabel)));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(ok);
    });
    dialog.showModal();
  });
}
