// One job: facts, stage timeline, members, live loss/eval and tokens/s curves (Chart.js), before/after table, artifacts, events.
// Data: GET /api/jobs/{id}, GET /api/jobs/{id}/artifacts and the job's Server-Sent Events (stage, metrics, end).
import { api, json, esc, when, duration, bytes, badge, header } from '/static/studio.js';

header('Jobs');
const id = decodeURIComponent(location.pathname.split('/').pop());
document.title = `${id} — FineTune Studio`;
document.getElementById('job-id').textContent = id;
document.getElementById('chat-link').href = `/chat?job=${encodeURIComponent(id)}`;

const lossCanvas = document.getElementById('loss-chart');
const speedCanvas = document.getElementById('speed-chart');
const linear = { type: 'linear', title: { display: true, text: 'step' } };
const lossChart = new Chart(lossCanvas, {
  type: 'line',
  data: { datasets: [
    { label: 'train loss', data: [], borderColor: '#5b3fd1', backgroundColor: '#5b3fd1', pointRadius: 0, borderWidth: 2 },
    { label: 'eval loss', data: [], borderColor: '#e07b39', backgroundColor: '#e07b39', pointRadius: 3, borderWidth: 2 },
  ] },
  options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: linear, y: { title: { display: true, text: 'loss' } } } },
});
const speedChart = new Chart(speedCanvas, {
  type: 'line',
  data: { datasets: [{ label: 'tokens/s', data: [], borderColor: '#1f8a4c', backgroundColor: '#1f8a4c', pointRadius: 0, borderWidth: 2 }] },
  options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: linear, y: { beginAtZero: true } } },
});

const latest = {};
let redraw = 0;
function scheduleRedraw() {
  if (redraw) return;
  redraw = requestAnimationFrame(() => {
    redraw = 0;
    lossChart.update('none');
    speedChart.update('none');
    lossCanvas.dataset.points = lossChart.data.datasets[0].data.length;
    lossCanvas.dataset.evalPoints = lossChart.data.datasets[1].data.length;
    speedCanvas.dataset.points = speedChart.data.datasets[0].data.length;
    renderStats();
  });
}

function onMetrics(m) {
  const step = Number(m.step);
  if (m.kind === 'train' && m.loss != null) {
    lossChart.data.datasets[0].data.push({ x: step, y: Number(m.loss) });
    if (m.tokens_per_s != null) speedChart.data.datasets[0].data.push({ x: step, y: Number(m.tokens_per_s) });
    Object.assign(latest, m);
  } else if (m.kind === 'eval' && m.eval_loss != null) {
    lossChart.data.datasets[1].data.push({ x: step, y: Number(m.eval_loss) });
    latest.eval_loss = m.eval_loss;
  }
  scheduleRedraw();
}

function renderStats() {
  const f = (v, d = 3) => v == null ? '—' : Number(v).toFixed(d);
  document.getElementById('stats').innerHTML = [
    ['step', latest.step ?? '—'], ['loss', f(latest.loss)], ['eval loss', f(latest.eval_loss)],
    ['tokens/s', f(latest.tokens_per_s, 0)], ['lr', latest.lr == null ? '—' : Number(latest.lr).toExponential(1)],
    ['eta', latest.eta_s == null ? '—' : duration(Number(latest.eta_s) * 1000)],
  ].map(([k, v]) => `<div><span class="muted">${k}</span><b data-stat="${k}">${esc(v)}</b></div>`).join('');
}

const stages = ['preprocessing', 'training', 'exporting'];
function renderTimeline(fields) {
  const t = k => fields[k] ? Date.parse(fields[k]) : null;
  const start = t('created') ?? Math.min(...stages.map(s => t(`${s}_started`)).filter(Boolean));
  const ends = stages.flatMap(s => [t(`${s}_started`), t(`${s}_finished`)]).filter(Boolean);
  const end = Math.max(Date.now() * (isFinal(fields.status) ? 0 : 1), ...ends, start + 1);
  document.getElementById('timeline').innerHTML = stages.filter(s => fields[`${s}_started`]).map(s => {
    const a = t(`${s}_started`), b = t(`${s}_finished`);
    const left = (a - start) / (end - start) * 100, width = ((b ?? end) - a) / (end - start) * 100;
    return `<div class="stage" data-stage="${s}"><span>${s}</span><div class="track"><div class="bar ${b ? '' : 'open'}" style="left:${left}%;width:${width}%"></div></div>
      <span class="muted">${b ? duration(b - a) : 'running'}</span></div>`;
  }).join('') || '<span class="muted">queued</span>';
}

const isFinal = s => ['done', 'failed', 'cancelled'].includes(s);

function renderMembers(fields) {
  const members = (fields.members ?? '').split(',').filter(Boolean);
  const rows = [['parallelism', fields.parallelism ?? (members.length || 1)], ['generation', fields.generation], ['replica', fields.replica], ['device', fields.device]]
    .filter(([, v]) => v != null && v !== '');
  document.getElementById('members').innerHTML = `<dl class="kv">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('')}</dl>` +
    (members.length ? `<ul id="member-list">${members.map((m, i) => `<li>${esc(m)}${i === 0 ? ' <span class="muted">(rank 0, coordinator)</span>' : ''}</li>`).join('')}</ul>` : '');
}

function renderEval(evalField) {
  if (!evalField) return;
  const s = evalField.summary ?? {};
  const pct = v => v == null ? '—' : `${(v * 100).toFixed(1)} %`;
  const num = v => v == null ? '—' : Number(v).toFixed(3);
  document.getElementById('eval-summary').className = '';
  document.getElementById('eval-summary').innerHTML = `<table id="eval-metrics"><thead><tr><th></th><th>Before</th><th>After</th></tr></thead><tbody>
    <tr><td>${esc(evalField.metric ?? 'exact match')}</td><td>${pct(s.exact_match_before)}</td><td>${pct(s.exact_match_after)}</td></tr>
    <tr><td>held-out loss</td><td>${num(s.eval_loss_before ?? evalField.before_loss)}</td><td>${num(s.eval_loss_after ?? evalField.after_loss)}</td></tr>
    </tbody></table><p class="muted">${esc(s.examples ?? (evalField.rows ?? []).length)} held-out examples.</p>`;
  const rows = evalField.rows ?? [];
  const mark = ok => ok ? '<span class="match">✓</span>' : '<span class="miss">✗</span>';
  document.querySelector('#eval-table tbody').innerHTML = rows.map(r => `<tr>
    <td>${esc(r.prompt)}</td><td><code>${esc(r.expected)}</code></td>
    <td>${mark(r.match_before)} ${esc(r.base)}</td><td>${mark(r.match)} ${esc(r.finetuned)}</td></tr>`).join('');
  document.getElementById('eval-table').hidden = rows.length === 0;
}

async function loadJob() {
  const job = await json(`/api/jobs/${encodeURIComponent(id)}`);
  const f = job.fields ?? {};
  document.getElementById('job-status').innerHTML = badge(job.status);
  document.getElementById('cancel').hidden = isFinal(job.status);
  const error = document.getElementById('job-error');
  error.hidden = !job.error; error.textContent = job.error ?? '';
  const spec = f.spec ?? {};
  document.getElementById('job-facts').innerHTML = [['model', job.model], ['dataset', job.dataset], ['created', when(job.created)],
    ['LoRA', spec.lora ? `r=${spec.lora.r ?? '?'} alpha=${spec.lora.alpha ?? '?'}` : null], ['max steps', spec.training?.max_steps]]
    .filter(([, v]) => v != null && v !== '').map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('');
  renderTimeline({ ...f, created: job.created, status: job.status });
  renderMembers(f);
  renderEval(f.eval);
  return job;
}

async function loadArtifacts() {
  const files = await json(`/api/jobs/${encodeURIComponent(id)}/artifacts`);
  document.querySelector('#artifacts tbody').innerHTML = files.map(a => `<tr><td><a href="/api/jobs/${encodeURIComponent(id)}/artifacts/${a.path.split('/').map(encodeURIComponent).join('/')}" download>${esc(a.path)}</a></td>
    <td>${bytes(a.bytes)}</td></tr>`).join('') || '<tr><td class="muted" colspan="2">none yet</td></tr>';
}

let reload = 0;
const reloadSoon = () => { clearTimeout(reload); reload = setTimeout(() => loadJob().catch(() => {}), 300); };

function follow() {
  const events = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  events.addEventListener('metrics', e => onMetrics(JSON.parse(e.data)));
  events.addEventListener('stage', e => {
    const s = JSON.parse(e.data);
    document.querySelector('#events tbody').insertAdjacentHTML('beforeend',
      `<tr><td class="muted">${esc(when(s.ts))}</td><td>${esc(s.kind)}</td><td>${esc(s.message)}</td></tr>`);
    reloadSoon();
  });
  events.addEventListener('end', () => { events.close(); loadJob(); loadArtifacts(); });
}

document.getElementById('cancel').addEventListener('click', async () => {
  await api(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  loadJob();
});

renderStats();
try {
  await loadJob();
} catch (e) {
  const error = document.getElementById('job-error');
  error.hidden = false;
  error.textContent = `Job ${id} could not be read from the front door: ${e.message}`;
  throw e;
}
await loadArtifacts();
follow();
