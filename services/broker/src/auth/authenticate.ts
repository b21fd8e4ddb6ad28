import { FederationError, TokenError } from '@spl/token';
import { errors } from '../errors.js';
import type { Publisher, TopicTable } from '../snapshot/topic-table.js';

/** Longer than any token we issue or accept; refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
const MAX_CACHED = 10_000;
const BEARER = /^Bearer +([A-Za-z0-9_.~+/-]+=*) *$/i;

/** 401 with the RFC 6750 §3 challenge. */
export function invalidToken(detail: string) {
  return errors.SPL_INVALID_TOKEN(detail, {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });
}

// Verified tokens per table, kept until their `exp`: a new snapshot starts a new cache, since
// its keys or applications may differ.
const caches = new WeakMap<TopicTable, Map<string, Publisher>>();

/**
 * The application a bearer token names: a hub access token (RFC 9068, verified against the
 * snapshot's hub keys) or a trusted issuer's token (national SPLP, another hub; verified by
 * @spl/token's federated verifier against that issuer's JWKS).
 */
export async function authenticate(table: TopicTable, header: string | undefined): Promise<Publisher> {
  const match = header ? BEARER.exec(header) : null;
  if (!match) throw invalidToken('a bearer token is required');
  const token = match[1]!;
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('token is too long');
  let cache = caches.get(table);
  if (!cache) {
    cache = new Map();
    caches.set(table, cache);
  }
  const now = Date.now() / 1000;
  const hit = cache.get(token);
  if (hit && hit.expiresAt > now) return hit;
  try {
    const publisher = await table.verifyToken(token);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(token, publisher);
    return publisher;
  } catch (err) {
    if (err instanceof TokenError || err instanceof FederationError) throw invalidToken(err.message);
    throw invalidToken('token is malformed');
  }
}
