// FineTune.Aspire dashboard: one script draws every page at Aspire's routes. Data comes from /api (JSON) and live
// feeds (Server-Sent Events); charts are chart.js. DOM is built with el(), never from HTML strings of data.
'use strict';

// ---------- helpers ----------
const main = document.getElementById('main');
let cleanup = [];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

async function api(path, init) {
  const res = await fetch(path, Object.assign({ headers: { Accept: 'application/json' } }, init));
  if (res.status === 401) { location.href = '/login?ReturnUrl=' + encodeURIComponent(location.pathname + location.search); throw new Error('login'); }
  if (!res.ok) {
    let detail = res.statusText;
    try { const p = await res.json(); detail = p.detail || p.title || detail; } catch { /* not JSON */ }
    throw new Error(detail);
  }
  return res.status === 202 || res.status === 204 ? null : res.json();
}

// The header dot: whether the page is receiving updates.
function setLive(on) {
  const dot = document.getElementById('live');
  dot.textContent = on ? 'live' : 'reconnecting…';
  dot.classList.toggle('on', on);
}

// An EventSource closed when the page changes.
function live(url, handlers) {
  const source = new EventSource(url);
  source.onopen = () => setLive(true);
  source.onerror = () => setLive(false);
  for (const [event, fn] of Object.entries(handlers)) source.addEventListener(event, e => fn(JSON.parse(e.data)));
  cleanup.push(() => source.close());
  return source;
}

function every(ms, fn) { const id = setInterval(fn, ms); cleanup.push(() => clearInterval(id)); }
function debounce(ms, fn) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }

const fmtTime = t => new Date(t).toLocaleTimeString([], { hour12: false });
const fmtDateTime = t => t ? new Date(t).toLocaleString([], { hour12: false }) : '';
function fmtDuration(ms) {
  if (ms === null || ms === undefined || isNaN(ms)) return '';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h > 0 ? `${h}h ${m % 60}m` : `${m}m ${Math.floor(s % 60)}s`;
}
function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (n = Number(n); n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
}
function fmtNum(v, digits = 4) {
  if (v === null || v === undefined || v === '' || isNaN(v)) return '–';
  const n = Number(v);
  return Math.abs(n) >= 1000 ? n.toLocaleString(undefined, { maximumFractionDigits: 1 }) : Number(n.toPrecision(digits)).toString();
}
function colorFor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 58% 46%)`;
}
function badge(text, kind) { return el('span', { class: 'badge ' + (kind || '') }, text); }
function stateKind(s) {
  return ({ Running: 'ok', Active: 'ok', done: 'ok', Finished: 'ok', Starting: 'run', Waiting: 'run', queued: 'run', preprocessing: 'run',
    training: 'run', exporting: 'run', evaluating: 'run', RuntimeUnhealthy: 'warn', Unavailable: 'warn', Stopping: 'warn', cancelled: 'warn', NotStarted: '',
    FailedToStart: 'err', Exited: 'err', failed: 'err' })[s] || '';
}
function errorBox(err) { return el('div', { class: 'error-box', role: 'alert' }, String(err.message || err)); }
function select(options, value, onchange, label) {
  return el('select', { 'aria-label': label, onchange: e => onchange(e.target.value) },
    options.map(o => { const [v, t] = Array.isArray(o) ? o : [o, o]; return el('option', { value: v, selected: v === value }, t); }));
}
function attrList(attrs) {
  attrs = (attrs || []).filter(a => a.key !== '{OriginalFormat}'); // the message template; the message is shown already
  if (attrs.length === 0) return el('p', { class: 'muted' }, 'No attributes.');
  return el('dl', { class: 'attrs' }, attrs.flatMap(a => [el('dt', {}, a.key), el('dd', {}, a.value)]));
}
function newChart(canvas, config) {
  if (!window.Chart) { canvas.replaceWith(errorBox('chart.js did not load (/assets/lib/chart.umd.js): run eng/prereqs.sh and rebuild.')); return null; }
  const chart = new Chart(canvas, config);
  cleanup.push(() => chart.destroy());
  return chart;
}
function lineOptions(xTitle, yTitle, xIsTime) {
  return {
    animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
    interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { labels: { boxWidth: 12 } } },
    scales: {
      x: { type: 'linear', title: { display: !!xTitle, text: xTitle }, ticks: xIsTime ? { callback: v => fmtTime(v), maxTicksLimit: 6 } : { maxTicksLimit: 8 } },
      y: { title: { display: !!yTitle, text: yTitle } },
    },
  };
}
function queryParam(name) { return new URLSearchParams(location.search).get(name) || ''; }
function setQuery(params) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params)) v ? q.set(k, v) : q.delete(k);
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}

// ---------- router ----------
const routes = [
  [/^\/$/, 'resources', pageResources],
  [/^\/consolelogs(?:\/resource\/([^/]+))?$/, 'consolelogs', pageConsole],
  [/^\/structuredlogs(?:\/resource\/([^/]+))?$/, 'structuredlogs', pageStructured],
  [/^\/traces\/detail\/([^/]+)$/, 'traces', pageTrace],
  [/^\/traces$/, 'traces', pageTraces],
  [/^\/metrics(?:\/resource\/([^/]+)(?:\/meter\/([^/]+)\/instrument\/([^/]+))?)?$/, 'metrics', pageMetrics],
  [/^\/jobs\/([^/]+)$/, 'jobs', pageJob],
  [/^\/jobs$/, 'jobs', pageJobs],
];

function navigate(path, replace) {
  if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
  render();
}

function render() {
  cleanup.forEach(fn => { try { fn(); } catch { /* already gone */ } });
  cleanup = [];
  main.replaceChildren();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  for (const [re, nav, page] of routes) {
    const m = path.match(re);
    if (!m) continue;
    document.querySelectorAll('.nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === nav));
    Promise.resolve(page(...m.slice(1).map(x => x && decodeURIComponent(x)))).catch(err => { if (err.message !== 'login') main.append(errorBox(err)); });
    return;
  }
  main.append(el('p', { class: 'empty' }, 'No such page.'));
}

document.addEventListener('click', e => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
window.addEventListener('DOMContentLoaded', render);

// ---------- Resources ----------
async function pageResources() {
  document.title = 'Resources · FineTune.Aspire';
  const body = el('tbody');
  const table = el('div', { class: 'table cards' }, el('table', { id: 'resources' },
    el('thead', {}, el('tr', {}, ['Name', 'Type', 'State', 'Health', 'Replicas', 'Restarts', 'Uptime', 'Endpoints', 'Actions'].map(h => el('th', {}, h)))),
    body));
  const message = el('div');
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Resources')), message, table);
  const rows = new Map();

  function uptime(r) {
    const started = r.instances.filter(i => i.state === 'Running' && i.startedAt).map(i => Date.parse(i.startedAt));
    return started.length ? fmtDuration(Date.now() - Math.min(...started)) : '';
  }
  async function command(name, cmd, button) {
    button.disabled = true;
    message.replaceChildren();
    try { await api(`/api/resources/${encodeURIComponent(name)}/commands/${cmd}`, { method: 'POST' }); }
    catch (err) { message.append(errorBox(`${cmd} ${name}: ${err.message}`)); }
    finally { button.disabled = false; }
  }
  function row(r) {
    const running = ['Running', 'Starting', 'RuntimeUnhealthy', 'Waiting'].includes(r.state);
    const restarts = r.instances.reduce((n, i) => n + i.restarts, 0);
    const actions = el('td', { class: 'actions', 'data-label': 'Actions' });
    const btn = (cmd, label, enabled) => el('button', { type: 'button', 'data-command': cmd, disabled: !enabled, onclick: e => command(r.name, cmd, e.currentTarget) }, label);
    actions.append(btn('start', 'Start', !running), btn('stop', 'Stop', running), btn('restart', 'Restart', running));
    return el('tr', { 'data-resource': r.name, 'data-state': r.state, 'data-health': r.healthStatus || '' },
      el('td', { 'data-label': 'Name' }, el('b', {}, r.name), r.stateReason ? el('div', { class: 'instances' }, r.stateReason) : null,
        el('div', { class: 'instances' },
          el('a', { href: `/consolelogs/resource/${encodeURIComponent(r.name)}`, 'data-link': true }, 'console'), ' · ',
          el('a', { href: `/structuredlogs/resource/${encodeURIComponent(r.name)}`, 'data-link': true }, 'logs'))),
      el('td', { 'data-label': 'Type' }, r.type),
      el('td', { 'data-label': 'State', class: 'state' }, badge(r.state, stateKind(r.state))),
      el('td', { 'data-label': 'Health', class: 'health' }, r.healthStatus ? badge(r.healthStatus, r.healthStatus === 'Healthy' ? 'ok' : 'err') : el('span', { class: 'muted' }, '–')),
      el('td', { 'data-label': 'Replicas' }, String(r.instances.length),
        el('div', { class: 'instances' }, r.instances.map(i => el('div', {}, `${i.instanceId} · ${i.state}${i.processId ? ' · pid ' + i.processId : ''}`)))),
      el('td', { 'data-label': 'Restarts', class: 'restarts' }, String(restarts)),
      el('td', { 'data-label': 'Uptime', class: 'uptime' }, uptime(r)),
      el('td', { 'data-label': 'Endpoints' }, r.endpoints.length ? r.endpoints.map(u => el('div', {}, /^https?:/.test(u) ? el('a', { href: u, target: '_blank', rel: 'noopener' }, u) : el('span', { class: 'mono' }, u))) : el('span', { class: 'muted' }, '–')),
      actions);
  }
  function put(r) {
    const fresh = row(r);
    fresh._resource = r;
    const old = rows.get(r.name);
    if (old) old.replaceWith(fresh); else body.append(fresh);
    rows.set(r.name, fresh);
  }
  live('/api/resources/stream', {
    snapshot: list => { body.replaceChildren(); rows.clear(); list.forEach(put); if (!list.length) body.append(el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'No resources.'))); },
    changed: put,
  });
  every(1000, () => rows.forEach(tr => { const u = tr.querySelector('.uptime'); if (u) u.textContent = uptime(tr._resource); }));
}

// ---------- Console logs ----------
async function pageConsole(resource) {
  document.title = 'Console logs · FineTune.Aspire';
  const resources = (await api('/api/resources')).filter(r => r.type !== 'parameter');
  if (!resource && resources.length) { navigate(`/consolelogs/resource/${encodeURIComponent(resources[0].name)}`, true); return; }
  const current = resources.find(r => r.name === resource);
  let instance = queryParam('instance'), search = queryParam('q');
  const box = el('div', { class: 'console', id: 'console', role: 'log', 'aria-live': 'polite' });
  const count = el('span', { class: 'muted' });
  const lines = [];
  const searchInput = el('input', { type: 'search', placeholder: 'Search', value: search, 'aria-label': 'Search console', oninput: debounce(200, e => { search = e.target.value; setQuery({ q: search }); redraw(); }) });
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Console logs'),
    select(resources.map(r => r.name), resource, v => navigate(`/consolelogs/resource/${encodeURIComponent(v)}`), 'Resource'),
    select([['', 'All replicas'], ...(current ? current.instances.map(i => i.instanceId) : [])], instance, v => { instance = v; setQuery({ instance: v }); render(); }, 'Replica'),
    searchInput, count), box);
  if (!resource) { box.append(el('div', { class: 'line' }, 'No resources.')); return; }

  function lineNode(l) {
    const text = el('span');
    if (search) {
      const lower = l.text.toLowerCase(), q = search.toLowerCase();
      let at = 0, i;
      while ((i = lower.indexOf(q, at)) >= 0) { text.append(l.text.slice(at, i), el('mark', {}, l.text.slice(i, i + q.length))); at = i + q.length; }
      text.append(l.text.slice(at));
    } else text.textContent = l.text;
    return el('div', { class: 'line' + (l.isError ? ' err' : '') }, el('span', { class: 'ts' }, fmtTime(l.timestamp)),
      (current && current.instances.length > 1) ? el('span', { class: 'inst' }, l.instanceId) : null, text);
  }
  const matches = l => !search || l.text.toLowerCase().includes(search.toLowerCase());
  function redraw() {
    box.replaceChildren(...lines.filter(matches).map(lineNode));
    count.textContent = `${lines.length} lines`;
    box.scrollTop = box.scrollHeight;
  }
  const append = debounce(50, () => { redraw(); });
  live(`/api/consolelogs/${encodeURIComponent(resource)}/stream${instance ? '?instance=' + encodeURIComponent(instance) : ''}`, {
    hello: () => { lines.length = 0; box.replaceChildren(); }, // (re)connected: the retained lines follow
    line: l => {
      lines.push(l);
      if (lines.length > 10000) lines.shift();
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      if (matches(l)) { box.append(lineNode(l)); if (atBottom) box.scrollTop = box.scrollHeight; }
      count.textContent = `${lines.length} lines`;
      if (box.childElementCount > 10000) append();
    },
  });
}

// ---------- Structured logs ----------
async function pageStructured(resource) {
  document.title = 'Structured logs · FineTune.Aspire';
  const services = await api('/api/services');
  let level = queryParam('level'), text = queryParam('q'), traceId = queryParam('traceId');
  const body = el('tbody');
  const status = el('div');
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Structured logs'),
    select([['', 'All resources'], ...services], resource || '', v => navigate(v ? `/structuredlogs/resource/${encodeURIComponent(v)}${location.search}` : `/structuredlogs${location.search}`), 'Resource'),
    select([['', 'All levels'], 'Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'], level, v => { level = v; setQuery({ level: v }); load(); }, 'Level'),
    el('input', { type: 'search', placeholder: 'Filter text', value: text, 'aria-label': 'Filter text', oninput: debounce(250, e => { text = e.target.value; setQuery({ q: text }); load(); }) }),
    el('input', { type: 'search', placeholder: 'Trace id', value: traceId, class: 'mono', 'aria-label': 'Trace id', oninput: debounce(250, e => { traceId = e.target.value.trim(); setQuery({ traceId }); load(); }) })),
    status,
    el('div', { class: 'table cards' }, el('table', { id: 'logs' },
      el('thead', {}, el('tr', {}, ['Time', 'Resource', 'Level', 'Message', 'Trace'].map(h => el('th', {}, h)))), body)));

  async function load() {
    const q = new URLSearchParams({ limit: '500' });
    if (resource) q.set('resource', resource);
    if (level) q.set('level', level);
    if (text) q.set('text', text);
    if (traceId) q.set('traceId', traceId);
    try {
      const logs = await api('/api/logs?' + q);
      status.replaceChildren();
      body.replaceChildren(...logs.reverse().map(l => {
        const detail = el('tr', { hidden: true }, el('td', { colspan: 5 }, el('div', { class: 'muted' }, `${l.category} · ${l.instance}${l.spanId ? ' · span ' + l.spanId : ''}`), attrList(l.attributes)));
        const tr = el('tr', { class: 'clickable', onclick: () => { detail.hidden = !detail.hidden; } },
          el('td', { 'data-label': 'Time', class: 'mono' }, fmtTime(l.timestamp)),
          el('td', { 'data-label': 'Resource' }, el('span', { class: 'chip', style: `background:${colorFor(l.service)}` }, l.service)),
          el('td', { 'data-label': 'Level' }, el('span', { class: 'log-level lvl-' + l.level }, l.level)),
          el('td', { 'data-label': 'Message' }, l.message),
          el('td', { 'data-label': 'Trace' }, l.traceId ? el('a', { href: `/traces/detail/${l.traceId}`, 'data-link': true, class: 'mono', onclick: e => e.stopPropagation() }, l.traceId.slice(0, 8)) : ''));
        return [tr, detail];
      }).flat());
      if (!logs.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No log records match.')));
    } catch (err) { if (err.message !== 'login') status.replaceChildren(errorBox(err)); }
  }
  await load();
  live('/api/telemetry/stream', { changed: debounce(300, kind => { if (kind === 'logs') load(); }) });
}

// ---------- Traces ----------
async function pageTraces() {
  document.title = 'Traces · FineTune.Aspire';
  const services = await api('/api/services');
  let resource = queryParam('resource'), text = queryParam('q');
  const body = el('tbody');
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Traces'),
    select([['', 'All resources'], ...services], resource, v => { resource = v; setQuery({ resource: v }); load(); }, 'Resource'),
    el('input', { type: 'search', placeholder: 'Span name or trace id', value: text, 'aria-label': 'Filter traces', oninput: debounce(250, e => { text = e.target.value; setQuery({ q: text }); load(); }) })),
    el('div', { class: 'table cards' }, el('table', { id: 'traces' },
      el('thead', {}, el('tr', {}, ['Time', 'Name', 'Services', 'Spans', 'Duration'].map(h => el('th', {}, h)))), body)));
  async function load() {
    const q = new URLSearchParams();
    if (resource) q.set('resource', resource);
    if (text) q.set('text', text);
    const traces = await api('/api/traces?' + q);
    const longest = Math.max(1, ...traces.map(t => t.durationMs));
    body.replaceChildren(...traces.map(t => el('tr', { class: 'clickable', 'data-trace': t.traceId, onclick: () => navigate(`/traces/detail/${t.traceId}`) },
      el('td', { 'data-label': 'Time', class: 'mono' }, fmtTime(t.start)),
      el('td', { 'data-label': 'Name' }, el('b', {}, `${t.rootService}: ${t.name}`), el('div', { class: 'instances mono' }, t.traceId),
        t.errorCount ? badge(`${t.errorCount} error${t.errorCount > 1 ? 's' : ''}`, 'err') : null),
      el('td', { 'data-label': 'Services' }, t.services.map(s => el('span', { class: 'chip', style: `background:${colorFor(s)}` }, s))),
      el('td', { 'data-label': 'Spans' }, String(t.spanCount)),
      el('td', { 'data-label': 'Duration' }, fmtDuration(t.durationMs),
        el('div', { style: `height:4px;border-radius:2px;background:var(--accent);opacity:.6;width:${Math.max(2, 100 * t.durationMs / longest)}%` })))));
    if (!traces.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No traces yet.')));
  }
  await load();
  live('/api/telemetry/stream', { changed: debounce(400, kind => { if (kind === 'traces') load(); }) });
}

async function pageTrace(traceId) {
  document.title = 'Trace ' + traceId.slice(0, 8) + ' · FineTune.Aspire';
  const header = el('div');
  const fall = el('div', { class: 'waterfall', id: 'waterfall' });
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Trace'), el('a', { href: '/traces', 'data-link': true }, '← all traces')), header, fall);
  let selected = null;
  async function load() {
    const spans = await api(`/api/traces/${encodeURIComponent(traceId)}`);
    const start = Math.min(...spans.map(s => Date.parse(s.start)));
    const end = Math.max(...spans.map(s => Date.parse(s.end)));
    const total = Math.max(end - start, 0.001);
    const services = [...new Set(spans.map(s => s.service))];
    header.replaceChildren(el('div', { class: 'stats' },
      el('div', { class: 'stat' }, el('b', {}, fmtDuration(end - start)), el('span', {}, 'duration')),
      el('div', { class: 'stat' }, el('b', { id: 'span-count' }, String(spans.length)), el('span', {}, 'spans')),
      el('div', { class: 'stat' }, el('b', { id: 'service-count' }, String(services.length)), el('span', {}, 'services')),
      el('div', { class: 'stat' }, el('b', { class: 'mono', style: 'font-size:13px;word-break:break-all' }, traceId), el('span', {}, 'trace id'))),
      el('div', { class: 'toolbar' }, services.map(s => el('span', { class: 'chip', style: `background:${colorFor(s)}` }, s)),
        el('a', { href: `/structuredlogs?traceId=${traceId}`, 'data-link': true }, 'logs of this trace')));
    // Depth-first order from the roots, children by start time.
    const byParent = new Map(), ids = new Set(spans.map(s => s.spanId));
    for (const s of spans) { const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : ''; (byParent.get(p) || byParent.set(p, []).get(p)).push(s); }
    const ordered = [];
    (function walk(parent, depth) { for (const s of (byParent.get(parent) || []).sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) { ordered.push([s, depth]); walk(s.spanId, depth + 1); } })('', 0);
    fall.replaceChildren(...ordered.map(([s, depth]) => {
      const left = 100 * (Date.parse(s.start) - start) / total;
      const width = 100 * (Date.parse(s.end) - Date.parse(s.start)) / total;
      const detail = el('div', { class: 'span-detail', hidden: selected !== s.spanId },
        el('div', { class: 'muted' }, `${s.service} (${s.instance}) · ${s.kind} · ${s.scope} · status ${s.status}${s.statusMessage ? ': ' + s.statusMessage : ''} · span ${s.spanId}`),
        attrList(s.attributes),
        s.events.length ? el('div', {}, el('h2', { style: 'margin-top:10px' }, 'Events'),
          s.events.map(ev => el('div', {}, el('span', { class: 'mono' }, `+${fmtDuration(Date.parse(ev.timestamp) - Date.parse(s.start))} `), el('b', {}, ev.name), attrList(ev.attributes)))) : null);
      const rowNode = el('div', { class: 'span-row' + (selected === s.spanId ? ' selected' : ''), 'data-service': s.service, 'data-span': s.spanId,
        onclick: () => { selected = detail.hidden ? s.spanId : null; detail.hidden = !detail.hidden; rowNode.classList.toggle('selected', !detail.hidden); } },
        el('div', { class: 'span-name', style: `padding-left:${10 + depth * 16}px`, title: s.name },
          el('span', { class: 'chip', style: `background:${colorFor(s.service)}` }, s.service), s.name),
        el('div', { class: 'span-track' },
          el('div', { class: 'span-bar' + (s.status === 'Error' ? ' error' : ''), style: `left:${left}%;width:${width}%;background:${colorFor(s.service)}` }),
          el('div', { class: 'span-dur', style: durationLabelStyle(left, width) }, fmtDuration(s.durationMs))));
      return [rowNode, detail];
    }).flat());
  }
  await load();
  live('/api/telemetry/stream', { changed: debounce(400, kind => { if (kind === 'traces') load(); }) });
}

// Where a span's duration goes: inside a wide bar, else beside it on whichever side has room.
function durationLabelStyle(left, width) {
  if (width >= 30) return `left:${left}%;color:#fff;padding-left:6px`;
  return left + width > 75 ? `right:${100 - left}%;padding-right:4px` : `left:${left + width}%`;
}

// ---------- Metrics ----------
async function pageMetrics(resource, meter, instrument) {
  document.title = 'Metrics · FineTune.Aspire';
  const services = await api('/api/services');
  const picker = el('div', { class: 'card picker', id: 'instruments' });
  const view = el('div', { class: 'card' });
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Metrics'),
    select([['', 'All resources'], ...services], resource || '', v => navigate(v ? `/metrics/resource/${encodeURIComponent(v)}` : '/metrics'), 'Resource')),
    el('div', { class: 'metrics-layout' }, picker, view));
  let chart = null;
  async function loadPicker() {
    const list = await api('/api/metrics/instruments' + (resource ? '?resource=' + encodeURIComponent(resource) : ''));
    const groups = new Map();
    for (const i of list) { const k = `${i.service} · ${i.meter}`; (groups.get(k) || groups.set(k, []).get(k)).push(i); }
    picker.replaceChildren(...[...groups].map(([k, items]) => [el('div', { class: 'meter' }, k), items.map(i => {
      const href = `/metrics/resource/${encodeURIComponent(i.service)}/meter/${encodeURIComponent(i.meter)}/instrument/${encodeURIComponent(i.name)}`;
      return el('a', { href, 'data-link': true, class: i.service === resource && i.meter === meter && i.name === instrument ? 'active' : '' }, i.name);
    })]).flat(2));
    if (!list.length) picker.append(el('p', { class: 'empty' }, 'No metrics received yet.'));
  }
  async function loadChart() {
    if (!instrument) { view.replaceChildren(el('p', { class: 'empty' }, 'Pick an instrument.')); return; }
    const m = await api(`/api/metrics/resource/${encodeURIComponent(resource)}/meter/${encodeURIComponent(meter)}/instrument/${encodeURIComponent(instrument)}`);
    const datasets = [];
    for (const s of m.series) {
      const label = [s.instance, ...s.attributes.map(a => `${a.key}=${a.value}`)].join(' ');
      const pts = s.points.map(p => ({ x: Date.parse(p.timestamp), y: p.value }));
      if (m.info.kind === 'histogram') {
        datasets.push({ label: 'p50 ' + label, data: pts }, { label: 'p90 ' + label, data: s.points.map(p => ({ x: Date.parse(p.timestamp), y: p.p90 })) },
          { label: 'p99 ' + label, data: s.points.map(p => ({ x: Date.parse(p.timestamp), y: p.p99 })) });
      } else datasets.push({ label, data: pts });
    }
    datasets.forEach((d, i) => { d.borderColor = d.backgroundColor = `hsl(${(i * 67) % 360} 60% 48%)`; d.pointRadius = 0; d.borderWidth = 2; });
    if (chart && view.contains(chart.canvas)) { chart.data.datasets = datasets; chart.update('none'); return; }
    const canvas = el('canvas', { id: 'metric-chart' });
    view.replaceChildren(el('h2', {}, m.info.name), el('p', { class: 'muted' }, `${m.info.description || ''} ${m.info.unit ? '(' + m.info.unit + ')' : ''} · ${m.info.kind}`),
      el('div', { class: 'chart-box' }, canvas));
    chart = newChart(canvas, { type: 'line', data: { datasets }, options: lineOptions('', m.info.unit, true) });
  }
  await Promise.all([loadPicker(), loadChart()]);
  live('/api/telemetry/stream', { changed: debounce(500, kind => { if (kind === 'metrics') { loadPicker(); loadChart(); } }) });
}

// ---------- Jobs ----------
async function pageJobs() {
  document.title = 'Jobs · FineTune.Aspire';
  const body = el('tbody');
  const status = el('div');
  main.append(el('div', { class: 'toolbar' }, el('h1', {}, 'Jobs')), status,
    el('div', { class: 'table cards' }, el('table', { id: 'jobs' },
      el('thead', {}, el('tr', {}, ['Job', 'Status', 'Created', 'Stage', 'Replica', 'Device'].map(h => el('th', {}, h)))), body)));
  async function load() {
    try {
      const jobs = await api('/api/jobs');
      setLive(true);
      status.replaceChildren();
      body.replaceChildren(...jobs.map(j => {
        const stage = j.stages.filter(s => s.started && !s.finished).map(s => s.name)[0] || (j.stages.at(-1) || {}).name || '';
        return el('tr', { class: 'clickable', 'data-job': j.id, onclick: () => navigate(`/jobs/${encodeURIComponent(j.id)}`) },
          el('td', { 'data-label': 'Job' }, el('a', { href: `/jobs/${encodeURIComponent(j.id)}`, 'data-link': true, class: 'mono' }, j.id),
            j.spec && j.spec.base_model ? el('div', { class: 'instances' }, String(j.spec.base_model)) : null),
          el('td', { 'data-label': 'Status' }, badge(j.status, stateKind(j.status))),
          el('td', { 'data-label': 'Created' }, fmtDateTime(j.created)),
          el('td', { 'data-label': 'Stage' }, stage),
          el('td', { 'data-label': 'Replica', class: 'mono' }, members(j.fields) || j.fields.replica || '–'),
          el('td', { 'data-label': 'Device' }, j.fields.device || '–'));
      }));
      if (!jobs.length) body.append(el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No jobs yet. Submit one with `ft submit`.')));
    } catch (err) { if (err.message !== 'login') { setLive(false); status.replaceChildren(errorBox(err)); } }
  }
  await load();
  every(2000, load);
}

// The members of a data-parallel job (coordinator first, then ranks 1..K-1), or null for a one-replica job.
function members(fields) {
  const list = (fields.members || '').split(',').filter(Boolean);
  return Number(fields.parallelism) > 1 && list.length ? list.join(', ') : null;
}

// Rows of the before/after table from the eval field, whatever its exact shape: an array of rows, or {rows|examples|samples, summary}.
function evalRows(ev) {
  if (!ev) return { rows: [], summary: null };
  if (Array.isArray(ev)) return { rows: ev, summary: null };
  const rows = ev.rows || ev.examples || ev.samples || ev.items || [];
  const summary = ev.summary || ev.metrics || Object.fromEntries(Object.entries(ev).filter(([, v]) => typeof v !== 'object'));
  return { rows, summary };
}
// Redis stream ids are "<ms>-<seq>"; records after the last one held.
function streamIdAfter(a, b) {
  const [am, as] = a.split('-').map(Number), [bm, bs] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}
const newer = (batch, last) => last ? batch.filter(r => streamIdAfter(r.id, last.id)) : batch;
const pick = (row, names) => { for (const n of names) if (row[n] !== undefined) return [n, row[n]]; return [null, undefined]; };

async function pageJob(id) {
  document.title = `Job ${id} · FineTune.Aspire`;
  const first = await api(`/api/jobs/${encodeURIComponent(id)}`);
  let job = first.job;
  const metrics = [...first.metrics];
  const events = [...first.events];
  const head = el('div'), timeline = el('div', { class: 'card' }), stats = el('div', { class: 'stats', id: 'job-stats' });
  const lossCanvas = el('canvas', { id: 'loss-chart' }), speedCanvas = el('canvas', { id: 'speed-chart' });
  const lossBox = el('div', { class: 'chart-box', id: 'loss-box', 'data-points': '0' }, lossCanvas);
  const artifacts = el('div', { class: 'card' }), evalCard = el('div', { class: 'card', id: 'eval' }), eventsCard = el('div', { class: 'card' });
  main.append(head, timeline, el('div', { style: 'height:16px' }), stats,
    el('div', { class: 'grid' }, el('div', { class: 'card' }, el('h2', {}, 'Loss'), lossBox),
      el('div', { class: 'card' }, el('h2', {}, 'Throughput (tokens/s)'), el('div', { class: 'chart-box' }, speedCanvas))),
    evalCard, el('div', { class: 'grid', style: 'margin-top:16px' }, artifacts, eventsCard));

  const lossChart = newChart(lossCanvas, { type: 'line', data: { datasets: [
    { label: 'train loss', data: [], borderColor: '#512bd4', backgroundColor: '#512bd4', pointRadius: 0, borderWidth: 2 },
    { label: 'eval loss', data: [], borderColor: '#e8590c', backgroundColor: '#e8590c', pointRadius: 3, borderWidth: 2 }] },
    options: lineOptions('step', 'loss', false) });
  const speedChart = newChart(speedCanvas, { type: 'line', data: { datasets: [
    { label: 'tokens/s', data: [], borderColor: '#0b7285', backgroundColor: '#0b7285', pointRadius: 0, borderWidth: 2 }] },
    options: lineOptions('step', 'tokens/s', false) });

  function drawHead() {
    const f = job.fields;
    head.replaceChildren(el('div', { class: 'toolbar' }, el('h1', {}, 'Job ', el('span', { class: 'mono' }, job.id)),
      el('span', { id: 'job-status' }, badge(job.status, stateKind(job.status))), el('a', { href: '/jobs', 'data-link': true }, '← all jobs')),
      el('p', { class: 'muted' }, [members(f) ? `data-parallel ×${f.parallelism}: ${members(f)} (generation ${f.generation})` : f.replica ? `replica ${f.replica}` : null, f.device ? `device ${f.device}` : null, job.created ? `created ${fmtDateTime(job.created)}` : null,
        job.spec && job.spec.base_model ? `base ${job.spec.base_model}` : null].filter(Boolean).join(' · ')),
      ...(f.error ? [errorBox(f.error)] : []));
    const order = ['queued', 'preprocessing', 'training', 'exporting', 'evaluating'];
    const stages = [...job.stages].sort((a, b) => (order.indexOf(a.name) + 99) % 99 - (order.indexOf(b.name) + 99) % 99 || String(a.started).localeCompare(String(b.started)));
    const expected = ['preprocessing', 'training', 'exporting'].filter(n => !stages.some(s => s.name === n) && !['done', 'failed', 'cancelled'].includes(job.status));
    timeline.replaceChildren(el('h2', {}, 'Stages'), el('div', { class: 'timeline', id: 'timeline' },
      stages.map(s => {
        const cls = s.finished ? 'done' : job.status === 'failed' ? 'failed' : 'active';
        const started = s.started || (s.name === 'queued' ? job.created : null); // the queue stage starts at creation
        const dur = started ? fmtDuration((s.finished ? Date.parse(s.finished) : Date.now()) - Date.parse(started)) : '';
        return el('div', { class: 'stage ' + cls, 'data-stage': s.name }, el('div', { class: 'bar' }), el('b', {}, s.name),
          el('span', {}, s.finished ? (dur ? `done in ${dur}` : 'done') : `running ${dur}`));
      }),
      expected.map(n => el('div', { class: 'stage', 'data-stage': n }, el('div', { class: 'bar' }), el('b', {}, n), el('span', {}, 'pending')))));
    drawArtifacts();
    drawEval();
  }
  function drawArtifacts() {
    const a = job.artifacts;
    let items = [];
    if (Array.isArray(a)) items = a.map(x => typeof x === 'string' ? { name: x } : x);
    else if (a && typeof a === 'object') items = Object.entries(a).map(([k, v]) => typeof v === 'object' && v ? Object.assign({ name: k }, v) : { name: k, path: String(v) });
    artifacts.replaceChildren(el('h2', {}, 'Artifacts'), items.length
      ? el('ul', { class: 'artifacts' }, items.map(x => el('li', {}, el('b', {}, x.name || x.kind || x.path), x.path && x.path !== x.name ? el('div', { class: 'mono muted' }, x.path) : null,
        x.size || x.bytes ? el('span', { class: 'muted' }, ' ' + fmtBytes(x.size || x.bytes)) : null)))
      : el('p', { class: 'muted' }, 'None yet.'));
  }
  function drawEval() {
    const { rows, summary } = evalRows(job.eval);
    const children = [el('h2', {}, 'Before / after')];
    if (summary && Object.keys(summary).length)
      children.push(el('div', { class: 'stats' }, Object.entries(summary).map(([k, v]) => el('div', { class: 'stat' }, el('b', {}, typeof v === 'number' ? fmtNum(v) : String(v)), el('span', {}, k)))));
    if (rows.length) {
      const promptKeys = ['prompt', 'input', 'question', 'instruction'], baseKeys = ['base', 'base_answer', 'before', 'base_output'], tunedKeys = ['finetuned', 'fine_tuned', 'tuned', 'after', 'finetuned_answer', 'tuned_answer', 'after_output'];
      const used = new Set([...promptKeys, ...baseKeys, ...tunedKeys]);
      const extra = [...new Set(rows.flatMap(r => Object.keys(r)))].filter(k => !used.has(k));
      children.push(el('div', { class: 'table cards' }, el('table', { class: 'evaltable', id: 'eval-table' },
        el('thead', {}, el('tr', {}, ['Prompt', 'Base answer', 'Fine-tuned answer', ...extra].map(h => el('th', {}, h)))),
        el('tbody', {}, rows.map(r => el('tr', {},
          el('td', { 'data-label': 'Prompt' }, String(pick(r, promptKeys)[1] ?? '')),
          el('td', { 'data-label': 'Base' }, String(pick(r, baseKeys)[1] ?? '')),
          el('td', { 'data-label': 'Fine-tuned' }, String(pick(r, tunedKeys)[1] ?? '')),
          extra.map(k => el('td', { 'data-label': k }, typeof r[k] === 'object' ? JSON.stringify(r[k]) : typeof r[k] === 'number' ? fmtNum(r[k]) : String(r[k] ?? '')))))))));
    } else children.push(el('p', { class: 'muted' }, 'Evaluation runs after export; its table appears here.'));
    evalCard.replaceChildren(...children);
  }
  function drawMetrics() {
    const num = v => (v === undefined || v === '' ? NaN : Number(v));
    const train = metrics.filter(m => (m.fields.kind || 'train') === 'train' && !isNaN(num(m.fields.loss)));
    const evals = metrics.filter(m => m.fields.kind === 'eval' && !isNaN(num(m.fields.eval_loss)));
    if (lossChart) {
      lossChart.data.datasets[0].data = train.map(m => ({ x: num(m.fields.step), y: num(m.fields.loss) }));
      lossChart.data.datasets[1].data = evals.map(m => ({ x: num(m.fields.step), y: num(m.fields.eval_loss) }));
      lossChart.update('none');
    }
    if (speedChart) {
      speedChart.data.datasets[0].data = train.filter(m => !isNaN(num(m.fields.tokens_per_s))).map(m => ({ x: num(m.fields.step), y: num(m.fields.tokens_per_s) }));
      speedChart.update('none');
    }
    lossBox.dataset.points = String(train.length);
    const last = train.at(-1)?.fields || {}, lastEval = evals.at(-1)?.fields || {};
    const stat = (label, value, id) => el('div', { class: 'stat' }, el('b', { id }, value), el('span', {}, label));
    stats.replaceChildren(stat('step', last.step ?? '–', 'stat-step'), stat('epoch', fmtNum(last.epoch, 3)), stat('loss', fmtNum(last.loss), 'stat-loss'),
      stat('eval loss', fmtNum(lastEval.eval_loss)), stat('eval ppl', fmtNum(lastEval.eval_ppl)), stat('tokens/s', fmtNum(last.tokens_per_s, 3), 'stat-tps'),
      stat('learning rate', fmtNum(last.lr, 3)), stat('ETA', last.eta_s ? fmtDuration(Number(last.eta_s) * 1000) : '–'));
  }
  function drawEvents() {
    eventsCard.replaceChildren(el('h2', {}, 'Events'), events.length
      ? el('div', {}, events.slice(-50).reverse().map(e => el('div', {}, el('span', { class: 'mono muted' }, e.fields.ts ? fmtTime(e.fields.ts) + ' ' : ''),
        e.fields.kind ? el('b', {}, e.fields.kind + ' ') : null, e.fields.message || '')))
      : el('p', { class: 'muted' }, 'No events yet.'));
  }
  drawHead(); drawMetrics(); drawEvents();
  const after = new URLSearchParams();
  if (metrics.length) after.set('afterMetric', metrics.at(-1).id);
  if (events.length) after.set('afterEvent', events.at(-1).id);
  live(`/api/jobs/${encodeURIComponent(id)}/stream?${after}`, {
    job: j => { job = j; drawHead(); },
    // After a reconnect the server replays from the page's first ids: keep only records newer than those held.
    metrics: batch => { metrics.push(...newer(batch, metrics.at(-1))); if (metrics.length > 20000) metrics.splice(0, metrics.length - 20000); drawMetrics(); },
    events: batch => { events.push(...newer(batch, events.at(-1))); drawEvents(); },
  });
  every(1000, () => { if (job.stages.some(s => s.started && !s.finished)) drawHead(); });
}
