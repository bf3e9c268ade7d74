// The JSON API, the only thing the pages talk to. Errors arrive as
// application/problem+json and become ApiError with the field errors kept,
// so forms can put each message next to its field.
import { t } from './i18n.js';

let apiBase = '';

export function setBase(base) {
  apiBase = `${base}/api/v1`;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

// Returns { data, etag, status }. body: an object (sent as JSON), or
// { raw: Blob, type } for an upload.
export async function request(method, path, { body, etag, accept } = {}) {
  const headers = { Accept: accept || 'application/json' };
  let payload;
  if (body && body.raw) {
    payload = body.raw;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (etag) headers['If-Match'] = etag;
  let res;
  try {
    res = await fetch(apiBase + path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, { title: t('error.network') });
  }
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    let problem = { title: t('error.http', { status: res.status }) };
    if (type.includes('json')) {
      try { problem = await res.json(); } catch (e) { /* keep the generic one */ }
    }
    throw new ApiError(res.status, problem);
  }
  let data = null;
  if (type.includes('json')) data = await res.json();
  else if (res.status !== 204) data = await res.text();
  return { data, etag: res.headers.get('ETag'), status: res.status };
}

export const get = async (path) => (await request('GET', path)).data;
export const post = async (path, body) => (await request('POST', path, { body })).data;

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Upload one file to a ticket (raw body, the name in ?filename=).
export function upload(ticketId, file, name) {
  return request('POST', `/tickets/${ticketId}/attachments${query({ filename: name || file.name })}`,
                 { body: { raw: file, type: file.type || 'application/octet-stream' } });
}

export function attachmentUrl(ticketId, aid) {
  return `${apiBase}/tickets/${ticketId}/attachments/${aid}`;
}
