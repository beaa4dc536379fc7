'use strict';
// svstatd's page: the services, updated from the server's event stream
// (api/v1/events), and the log of the one selected (api/v1/logs/NAME).
// Data is put into the page as text only, never as HTML.

const services = new Map();
let logdirs = [];
let selected = decodeURIComponent((location.hash.match(/^#service=(.*)$/) || [])[1] || '');
let logStream = null;
let controlOn = false;
const maxLines = 1000;

const $ = (id) => document.getElementById(id);
const tbody = document.querySelector('#services tbody');

function duration(since) {
  if (!since) return '';
  let s = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (s < 60) return s + 's';
  let m = Math.floor(s / 60); s %= 60;
  if (m < 60) return m + 'm ' + s + 's';
  let h = Math.floor(m / 60); m %= 60;
  if (h < 48) return h + 'h ' + m + 'm';
  return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
}

function stateOf(s) {
  if (s.error) return { word: s.error, kind: s.error === 'supervise not running' ? 'off' : 'error' };
  let word = s.up ? 'up' : 'down';
  const parts = [];
  if (s.up && s.paused) parts.push('paused');
  if (s.up && s.want === 'down') parts.push('want down');
  if (!s.up && s.want === 'up') parts.push('want up');
  if (s.up !== !!s.normally_up) parts.push(s.normally_up ? 'normally up' : 'normally down');
  if (s.backoff) parts.push('backing off ' + s.backoff + 's');
  if (s.gave_up) parts.push('gave up after ' + s.gave_up + ' fast exits');
  if (parts.length) word += ', ' + parts.join(', ');
  return { word, kind: s.up ? 'up' : 'down' };
}

function readyOf(s) {
  if (!s.extra || !s.up) return { text: '—', cls: 'mute' };
  switch (s.readiness) {
    case 'ready': return { text: 'ready ' + duration(s.ready_since), cls: '' };
    case 'unchecked': return { text: 'no check', cls: 'mute' };
    case 'checking': return { text: 'checking', cls: 'warn' };
    case 'failed': return { text: 'check failed', cls: 'warn' };
  }
  return { text: s.readiness || '—', cls: 'mute' };
}

function exitOf(s) {
  if (!s.last_exit) return '—';
  return s.last_exit.signal ? 'signal ' + s.last_exit.signal : 'exit ' + s.last_exit.code;
}

function cell(tr, label, text, cls) {
  const td = document.createElement('td');
  td.dataset.label = label;
  td.textContent = text;
  if (cls) td.className = cls;
  if (text === '—') td.classList.add('none'); // nothing known: left out on a phone
  tr.appendChild(td);
  return td;
}

function render() {
  const names = [...services.keys()].sort();
  const rows = [];
  let up = 0;
  for (const name of names) {
    const s = services.get(name);
    if (s.up) up++;
    const tr = document.createElement('tr');
    tr.dataset.service = name;
    tr.setAttribute('aria-selected', name === selected ? 'true' : 'false');
    cell(tr, 'service', name, 'name');
    const st = stateOf(s);
    const td = cell(tr, 'state', st.word, 'state');
    td.dataset.s = st.kind;
    cell(tr, 'for', s.error ? '' : duration(s.since), 'time');
    const r = readyOf(s);
    cell(tr, 'ready', r.text, r.cls);
    cell(tr, 'restarts', s.extra ? String(s.restarts) : '—', s.extra ? '' : 'mute');
    cell(tr, 'last exit', exitOf(s), s.last_exit ? '' : 'mute');
    tr.addEventListener('click', () => select(name));
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
  $('summary').textContent = names.length + ' services, ' + up + ' up';
}

function logDirOf(name) {
  const own = logdirs.find((d) => d.service === name) || logdirs.find((d) => d.service === name + '/log');
  return own ? own.logdir : null;
}

function addLine(l) {
  const div = document.createElement('div');
  if (l.stamp) {
    const span = document.createElement('span');
    span.className = 'stamp';
    span.textContent = l.stamp + ' ';
    div.appendChild(span);
  }
  div.appendChild(document.createTextNode(l.text + (l.cut ? ' …' : '')));
  return div;
}

function note(text) {
  const div = document.createElement('div');
  div.className = 'note';
  div.textContent = text;
  $('lines').appendChild(div);
}

function select(name) {
  if (logStream) { logStream.close(); logStream = null; }
  selected = name;
  history.replaceState(null, '', name ? '#service=' + encodeURIComponent(name) : location.pathname);
  render();
  const box = $('lines');
  box.replaceChildren();
  if (!name) { $('log').hidden = true; return; }
  $('log').hidden = false;
  $('actions').hidden = !controlOn;
  const dir = logDirOf(name);
  $('log-title').textContent = dir ? 'log ' + dir : name;
  if (!dir) { note('no log directory for ' + name + ' (' + name + '/log/main)'); return; }
  const url = 'api/v1/logs/' + dir.split('/').map(encodeURIComponent).join('/') + '?n=100';
  logStream = new EventSource(url);
  logStream.addEventListener('lines', (e) => {
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    const frag = document.createDocumentFragment();
    for (const l of JSON.parse(e.data)) frag.appendChild(addLine(l));
    box.appendChild(frag);
    while (box.childElementCount > maxLines) box.firstElementChild.remove();
    if (atEnd) box.scrollTop = box.scrollHeight;
  });
  logStream.addEventListener('note', (e) => note(JSON.parse(e.data)));
}

function connect() {
  const es = new EventSource('api/v1/events');
  es.addEventListener('services', (e) => {
    const d = JSON.parse(e.data);
    services.clear();
    for (const s of d.services) services.set(s.service, s);
    logdirs = d.logdirs;
    controlOn = d.control;
    const errs = $('errors');
    errs.hidden = !(d.errors && d.errors.length);
    errs.textContent = (d.errors || []).join('; ');
    render();
    if (selected && !logStream) select(selected);
  });
  es.addEventListener('service', (e) => {
    const s = JSON.parse(e.data);
    services.set(s.service, s);
    render();
  });
  es.addEventListener('gone', (e) => {
    services.delete(JSON.parse(e.data));
    render();
  });
  es.onopen = () => { $('conn').textContent = 'live'; $('conn').dataset.ok = 'yes'; };
  es.onerror = () => { $('conn').textContent = 'reconnecting…'; $('conn').dataset.ok = 'no'; };
}

$('log-close').addEventListener('click', () => select(''));

// Control: the token is asked once and kept for this tab only.
async function act(verb) {
  const name = selected;
  let token = sessionStorage.getItem('svstatd-token');
  if (!token) token = prompt('svstatd control token (from the file given to --control-token)');
  if (!token) return;
  const buttons = document.querySelectorAll('#actions button');
  buttons.forEach((b) => { b.disabled = true; });
  note(verb + ' ' + name + '…');
  try {
    const resp = await fetch('api/v1/control/' + verb + '/' + name.split('/').map(encodeURIComponent).join('/'),
      { method: 'POST', headers: { Authorization: 'Bearer ' + token } });
    const r = await resp.json();
    if (resp.status === 401) sessionStorage.removeItem('svstatd-token');
    else sessionStorage.setItem('svstatd-token', token);
    note(verb + ' ' + name + ': ' + (r.ok ? r.done + (r.pid ? ' (pid ' + r.pid + ')' : '') : r.error));
  } catch (e) {
    note(verb + ' ' + name + ': ' + e);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}
for (const b of document.querySelectorAll('#actions button')) b.addEventListener('click', () => act(b.dataset.verb));
// Durations count on between events; the server is not asked again.
setInterval(() => {
  for (const tr of tbody.rows) {
    const s = services.get(tr.dataset.service);
    if (!s || s.error) continue;
    tr.cells[2].textContent = duration(s.since);
    if (s.readiness === 'ready' && s.up) tr.cells[3].textContent = 'ready ' + duration(s.ready_since);
  }
}, 1000);
connect();
