// Jobs list, datasets, the upload form and the demo button (front door: /api/jobs, /api/datasets, /api/jobs/demo).
import { api, json, esc, when, badge, header, problemText } from '/static/studio.js';

header('Jobs');

async function loadJobs() {
  const jobs = await json('/api/jobs');
  document.querySelector('#jobs tbody').innerHTML = jobs.map(j => `<tr data-job="${esc(j.id)}">
    <td><a href="/jobs/${encodeURIComponent(j.id)}">${esc(j.id)}</a></td><td>${badge(j.status)}</td>
    <td class="hide-narrow">${esc(j.model)}</td><td class="hide-narrow">${esc(j.dataset)}</td><td>${esc(when(j.created))}</td>
    <td><a href="/chat?job=${encodeURIComponent(j.id)}">chat</a></td></tr>`).join('');
  document.getElementById('jobs-empty').hidden = jobs.length > 0;
}

async function loadDatasets() {
  const datasets = await json('/api/datasets');
  const list = Array.isArray(datasets) ? datasets : (datasets.datasets ?? []);
  document.querySelector('#datasets tbody').innerHTML = list.map(d => `<tr data-dataset="${esc(d.id)}">
    <td>${esc(d.name)}</td><td><code>${esc(d.id)}</code></td><td class="hide-narrow">${esc(d.records ?? d.stats?.records ?? '')}</td></tr>`).join('');
}

function show(text, error) {
  const box = document.getElementById('upload-result');
  box.hidden = false;
  box.className = 'message' + (error ? ' error' : '');
  box.innerHTML = text;
}

document.getElementById('upload').addEventListener('submit', async e => {
  e.preventDefault();
  const file = document.getElementById('file').files[0];
  if (!file) return;
  const form = new FormData();
  const startJob = document.getElementById('start-job').checked;
  if (startJob) {
    const job = { model: document.getElementById('model').value || 'tiny', training: { max_steps: Number(document.getElementById('max-steps').value) || 60 } };
    if (document.getElementById('export').checked) job.export = true;
    form.append('job', new Blob([JSON.stringify(job)], { type: 'application/json' }), 'job.json'); // the front door reads 'job' before 'file'
  }
  form.append('file', file, file.name);
  document.getElementById('submit').disabled = true;
  try {
    const response = await api(startJob ? '/api/jobs' : '/api/datasets', { method: 'POST', body: form });
    if (!response.ok) { show(esc(await problemText(response)), true); return; }
    const body = await response.json();
    if (startJob) show(`Job <a id="created-job" href="/jobs/${encodeURIComponent(body.id)}">${esc(body.id)}</a> created on dataset <code>${esc(body.dataset)}</code>.`);
    else show(`Dataset <code id="created-dataset">${esc(body.dataset?.id ?? body.id)}</code> stored.`);
    await Promise.all([loadJobs(), loadDatasets()]);
  } finally { document.getElementById('submit').disabled = false; }
});

document.getElementById('demo').addEventListener('click', async () => {
  const response = await api('/api/jobs/demo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (!response.ok) { show(esc(await problemText(response)), true); return; }
  const body = await response.json();
  location.href = `/jobs/${encodeURIComponent(body.id)}`;
});

await Promise.all([loadJobs(), loadDatasets()]);
setInterval(() => loadJobs().catch(() => {}), 5000);
