import { Type } from 'typebox';

/**
 * How long a client may take to send a request, the same settings in every service that
 * listens (slowloris and slow-body attacks), milliseconds:
 *
 * - SPL_HEADERS_TIMEOUT_MS: the whole request head (Node's `headersTimeout`, whose default
 *   this is);
 * - SPL_REQUEST_TIMEOUT_MS: the whole request, head and body (Node's `requestTimeout`,
 *   whose default this is). A client trickling its body a byte at a time is cut off here.
 */
export const ServerTimeoutSettings = {
  SPL_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 60_000 }),
  SPL_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 300_000 }),
};

/**
 * The node:http options that enforce them. Node looks for connections over their time every
 * `connectionsCheckingInterval`, here a quarter of the head limit, at most 30 s; it refuses a
 * head limit above the request limit, so the head limit is capped at it. Fastify sets the
 * server's `requestTimeout` from its own option of that name (default 0, none), so give
 * Fastify `requestTimeout` too: without it a slow body was waited for without end.
 */
export function serverTimeouts(config: { SPL_HEADERS_TIMEOUT_MS: number; SPL_REQUEST_TIMEOUT_MS: number }): {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
} {
  const headersTimeout = Math.min(config.SPL_HEADERS_TIMEOUT_MS, config.SPL_REQUEST_TIMEOUT_MS);
  return {
    headersTimeout,
    requestTimeout: config.SPL_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(30_000, Math.ceil(headersTimeout / 4)),
  };
}
