// Side-by-side chat through the Studio's /api/chat proxy to the inference service's OpenAI-compatible API (streaming).
import { api, esc, header, problemText } from '/static/studio.js';

header('Chat');
const job = new URLSearchParams(location.search).get('job');
const left = document.getElementById('left'), right = document.getElementById('right');

async function loadModels() {
  const response = await api('/api/chat/models');
  if (!response.ok) { fail(`The inference service did not answer: ${await problemText(response)}`); return; }
  const ids = (await response.json()).data.map(m => m.id);
  const options = ids.map(m => `<option value="${esc(m)}">${esc(m)}</option>`).join('');
  left.innerHTML = right.innerHTML = options;
  const pick = (select, id, fallback) => { select.value = ids.includes(id) ? id : fallback; };
  pick(left, job ? `${job}:base` : null, ids.find(m => m.endsWith(':base')) ?? ids[0]);
  pick(right, job, ids.find(m => !m.endsWith(':base') && !m.startsWith('models/')) ?? ids[0]);
  if (job && !ids.includes(job)) fail(`Job ${job} has no servable model yet (it appears once training has written its adapter).`);
}

function fail(text) {
  const box = document.getElementById('chat-error');
  box.hidden = false;
  box.textContent = text;
}

/** Streams one completion into the element; OpenAI SSE: data: {choices:[{delta:{content}}]} … data: [DONE]. */
async function stream(model, prompt, into) {
  into.textContent = '';
  const response = await api('/api/chat/completions', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, temperature: Number(document.getElementById('temperature').value), max_tokens: 256,
      messages: [{ role: 'user', content: prompt }] }),
  });
  if (!response.ok) { into.textContent = await problemText(response); into.dataset.done = 'error'; return; }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') { into.dataset.done = 'true'; return; }
      const chunk = JSON.parse(data);
      if (chunk.error) { into.textContent += `\n[error: ${chunk.error.message}]`; continue; }
      into.textContent += chunk.choices?.[0]?.delta?.content ?? '';
    }
  }
  into.dataset.done = 'true';
}

document.getElementById('ask').addEventListener('submit', async e => {
  e.preventDefault();
  const prompt = document.getElementById('prompt').value;
  document.getElementById('left-name').textContent = left.value;
  document.getElementById('right-name').textContent = right.value;
  document.getElementById('send').disabled = true;
  try {
    await Promise.all([stream(left.value, prompt, document.getElementById('left-answer')), stream(right.value, prompt, document.getElementById('right-answer'))]);
  } finally { document.getElementById('send').disabled = false; }
});

await loadModels();
