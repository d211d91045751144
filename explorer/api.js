// Talking to the node this page came from. Every path is `/v1/...` on the
// page's own origin (the node's CSP allows nothing else).

/** An answer other than 2xx, or no answer (`status` 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GETs `path` and parses its JSON; throws ApiError. */
export async function getJson(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'E_NETWORK', String((e && e.message) || e));
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const code = body && typeof body.code === 'string' ? body.code : `HTTP_${res.status}`;
    const message = body && typeof body.message === 'string' ? body.message : res.statusText;
    throw new ApiError(res.status, code, message);
  }
  if (body === null) throw new ApiError(res.status, 'E_BAD_JSON', 'the node answered something other than JSON');
  return body;
}

/**
 * Whether an error means "no such thing": a 404, or a 400 refusing the id
 * itself (`E_INVALID_FIELD`, e.g. a block height that is not a number).
 */
export function isNotFound(e) {
  return e instanceof ApiError && (e.status === 404 || (e.status === 400 && e.code === 'E_INVALID_FIELD'));
}

const enc = encodeURIComponent;

export const api = {
  health: () => getJson('/v1/health'),
  network: () => getJson('/v1/network'),
  genesis: () => getJson('/v1/genesis'),
  blocks: (limit, before) =>
    getJson(`/v1/blocks?limit=${enc(limit)}${before === undefined || before === null ? '' : `&before=${enc(before)}`}`),
  blockByHeight: (h) => getJson(`/v1/blocks/${enc(h)}`),
  blockByHash: (hash) => getJson(`/v1/blocks/hash/${enc(hash)}`),
  contracts: () => getJson('/v1/contracts'),
  evidence: (hex) => getJson(`/v1/evidence/${enc(hex)}`),
  stats: () => getJson('/v1/explorer/stats'),
  recentTxs: (limit) => getJson(`/v1/explorer/recent-txs?limit=${enc(limit)}`),
  tx: (id) => getJson(`/v1/explorer/txs/${enc(id)}`),
  bill: (number) => getJson(`/v1/explorer/bills/${enc(number)}`),
  search: (q) => getJson(`/v1/explorer/search?q=${enc(q)}`),
};
