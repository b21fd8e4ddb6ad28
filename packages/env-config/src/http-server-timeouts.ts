import { Type } from 'typebox';

/**
 * SPL_HEADERS_TIMEOUT_MS, the same in every service that listens: a client must send its
 * whole request head within this many milliseconds or its connection is closed (slowloris;
 * Node's `headersTimeout`, whose default this is).
 */
export const HeadersTimeoutSetting = Type.Integer({ minimum: 100, maximum: 600_000, default: 60_000 });

/**
 * The node:http options that enforce it: Node looks for connections over their head (and
 * request) time every `connectionsCheckingInterval`, here a quarter of the limit, at most 30 s.
 */
export function headerTimeouts(headersTimeoutMs: number): {
  headersTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.ceil(headersTimeoutMs / 4)),
  };
}
