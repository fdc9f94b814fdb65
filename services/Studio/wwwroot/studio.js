// Shared helpers of the Studio pages: API calls (401 → login), escaping, formatting, the page header.
export async function api(path, options) {
  const response = await fetch(path, options);
  if (response.status === 401) { location.href = '/login?ReturnUrl=' + encodeURIComponent(location.pathname + location.search); throw new Error('login needed'); }
  return response;
}

export async function json(path) {
  const response = await api(path);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

export const when = iso => iso ? new Date(iso).toLocaleString() : '';

export function duration(ms) {
  if (ms == null || isNaN(ms)) return '';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`;
}

export const bytes = n => n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1073741824).toFixed(2)} GiB`;

export const badge = status => `<span class="badge ${esc(status)}" data-status="${esc(status)}">${esc(status)}</span>`;

/** A problem+json answer (front door) or an OpenAI error body as one readable text. */
export async function problemText(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body.error) return body.error.message;
    const errors = body.errors ? (Array.isArray(body.errors)
      ? body.errors.map(e => `line ${e.line ?? '?'}: ${e.message ?? JSON.stringify(e)}`)
      : Object.entries(body.errors).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`)) : [];
    return [body.title, body.detail, ...errors].filter(Boolean).join('\n');
  } catch { return `${response.status} ${text}`; }
}

export function header(active) {
  const links = [['/', 'Jobs'], ['/chat', 'Chat']].map(([href, name]) =>
    `<a href="${href}" ${active === name ? 'aria-current="page" style="text-decoration:underline"' : ''}>${name}</a>`).join('');
  document.body.insertAdjacentHTML('afterbegin',
    `<header class="top"><a class="brand" href="/">FineTune Studio</a><nav>${links}</nav>
     <form method="post" action="/logout"><button class="secondary" type="submit">Log out</button></form></header>`);
}
