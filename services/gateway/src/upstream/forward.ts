import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, Transform } from 'node:stream';
import type { SplError } from '@spl/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { errors } from '../errors.js';
import type { GatewayObserver, GatewayRequestContext } from '../pipeline.js';
import type { CompiledRoute, UpstreamTarget } from '../routing/route-table.js';
import type { BackendIdentity } from './backend-identity.js';
import { upstreamTlsFailure } from './tls-failure.js';

/** RFC 9110 §7.6.1 hop-by-hop fields, and what the gateway sets itself: never copied to the upstream. */
const REQUEST_HEADERS_DROPPED = new Set([
  'authorization', // the consumer's token stays at the hub (issue 3 §5)
  'x-spl-identity', // only the gateway asserts the caller's identity (backend-identity.ts)
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'content-length', // recomputed from the body forwarded
  'expect',
  'x-request-id',
  'traceparent',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Hop-by-hop fields of the upstream's answer, not passed on. */
const RESPONSE_HEADERS_DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length', // set again for buffered answers; streamed ones re-add it below
]);

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/;

/**
 * Random ids for trace context come from a pooled buffer refilled 4 KiB at a time: a
 * `randomBytes` call per request was a system call each, ≈ 25 µs of the gateway's CPU per
 * request in the benchmark profile (docs/gateway-benchmark.md). Ids are still CSPRNG bytes.
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = randomBytes(RANDOM_POOL_BYTES);
let randomOffset = 0;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > RANDOM_POOL_BYTES) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

/** W3C Trace Context: keep the caller's trace id with a new span id for this hop, or start a trace. */
export function nextTraceparent(incoming: string | string[] | undefined): string {
  const span = randomHex(8);
  const match = typeof incoming === 'string' ? TRACEPARENT.exec(incoming) : null;
  if (match && match[1] !== '00000000000000000000000000000000') return `00-${match[1]}-${span}-${match[2]}`;
  return `00-${randomHex(16)}-${span}-01`;
}

const TRANSPORT_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** RFC 9110 §9.2.2: a client may repeat these automatically; POST and PATCH never are. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Transport failures worth one more try: nothing of an answer arrived (refused, reset, unreachable). */
const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
/** Retried only with SPL_RETRY_TIMEOUTS: a retry after a timeout can double the caller's wait. */
const RETRYABLE_TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

export interface RetryPolicy {
  /** Retries after a first failed attempt (0 disables); each also needs the upstream's budget. */
  attempts: number;
  /** Whether connect and header timeouts are retried too. */
  isTimeoutRetried: boolean;
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  const code = e?.code ?? '';
  return RETRYABLE.has(code) || RETRYABLE_TIMEOUTS.has(code) ? code : (e?.cause?.code ?? code);
}

/**
 * Maps a failed upstream call to the contract's statuses (one function, as BullMQ's
 * finished-errors): egress refused → 502, refused/reset/unreachable → 503 with
 * Retry-After, timeout → 504, anything else (a malformed answer) → 502.
 * `isTransportFailure` says whether it counts against the origin's circuit.
 */
export function classifyUpstreamError(
  err: unknown,
  route: CompiledRoute,
  retryAfterSeconds: number,
): { error: SplError; isTransportFailure: boolean } {
  const e = err as { code?: string; name?: string; cause?: { code?: string; name?: string } };
  const code = e?.code ?? '';
  if (code === 'SPL_EGRESS_REFUSED' || e?.cause?.code === 'SPL_EGRESS_REFUSED')
    return {
      error: errors.SPL_EGRESS_REFUSED(
        `the upstream of ${route.key} is not reachable under SPL_EGRESS_ALLOW: ${(err as Error).message}`,
      ),
      isTransportFailure: false,
    };
  if (TIMEOUTS.has(code))
    return {
      error: errors.SPL_UPSTREAM_TIMEOUT(
        `the upstream of ${route.key} did not answer within ${route.timeoutMs} ms`,
      ),
      isTransportFailure: true,
    };
  if (TRANSPORT_UNAVAILABLE.has(code) || TRANSPORT_UNAVAILABLE.has(e?.cause?.code ?? ''))
    return {
      error: errors.SPL_UPSTREAM_UNAVAILABLE(`the upstream of ${route.key} is not reachable (${code})`, {
        headers: { 'retry-after': String(retryAfterSeconds) },
      }),
      isTransportFailure: true,
    };
  const tlsCode = upstreamTlsFailure(err);
  if (tlsCode)
    return {
      error: errors.SPL_BAD_GATEWAY(
        `the TLS handshake with the upstream of ${route.key} failed (${tlsCode})`,
      ),
      isTransportFailure: false,
    };
  return {
    error: errors.SPL_BAD_GATEWAY(`the upstream of ${route.key} gave a malformed answer`),
    isTransportFailure: false,
  };
}

/** The upstream URL's base path, the rest of the caller's path, and the query. */
function upstreamPath(target: UpstreamTarget, ctx: GatewayRequestContext): string {
  return `${target.basePath}${ctx.rest || (target.basePath ? '' : '/')}${ctx.query}`;
}

export interface Forwarder {
  forward(request: FastifyRequest, reply: FastifyReply, ctx: GatewayRequestContext): Promise<FastifyReply>;
}

/**
 * The last step: sends the request to one of the route's upstream URLs over its keep-alive
 * pool and relays the answer — buffered when small (cheaper than streaming; see
 * notes/gateway-hot-path.md), streamed when larger or of unknown size.
 */
export function createForwarder(deps: {
  /** Answers up to this many bytes (by Content-Length) are buffered. */
  bufferLimitBytes: number;
  /** Retry-After for an unreachable upstream whose circuit is still closed, seconds. */
  retryAfterSeconds: number;
  observer?: GatewayObserver | undefined;
  /** Signs X-SPL-Identity for the upstream; null (no master key) sends none. */
  identity?: BackendIdentity | null | undefined;
  /** Retries of idempotent methods after a transport failure; default none. */
  retry?: RetryPolicy | undefined;
}): Forwarder {
  const { observer } = deps;
  const identity = deps.identity ?? null;
  const retry = deps.retry ?? { attempts: 0, isTimeoutRetried: false };

  /**
   * Round-robin over the route's URLs, skipping open circuits and, while another URL is
   * left, those the active health check found down; a route whose every URL is down still
   * tries them (the circuit decides), so active checks never refuse more than passive ones.
   */
  function pickTarget(route: CompiledRoute, now: number): UpstreamTarget | number {
    const n = route.targets.length;
    let wait = Number.POSITIVE_INFINITY;
    let skipped = 0;
    for (let i = 0; i < n; i++) {
      const target = route.targets[route.cursor.next++ % n]!;
      if (target.upstream.isDown) {
        skipped++;
        continue;
      }
      const w = target.upstream.circuit.tryAcquire(now);
      if (w === 0) return target;
      if (w < wait) wait = w;
    }
    if (skipped > 0)
      for (const target of route.targets) {
        if (!target.upstream.isDown) continue;
        const w = target.upstream.circuit.tryAcquire(now);
        if (w === 0) return target;
        if (w < wait) wait = w;
      }
    return wait;
  }

  /** The next URL after `failed` whose circuit lets a call through (another one first; `failed` itself last). */
  function pickRetryTarget(route: CompiledRoute, failed: UpstreamTarget, now: number): UpstreamTarget | null {
    const n = route.targets.length;
    const at = route.targets.indexOf(failed);
    for (let j = 1; j <= n; j++) {
      const target = route.targets[(at + j) % n]!;
      if (target !== failed && target.upstream.isDown) continue;
      if (target.upstream.circuit.tryAcquire(now) === 0) return target;
    }
    return null;
  }

  function isRetryable(method: string, err: unknown): boolean {
    if (retry.attempts === 0 || !IDEMPOTENT_METHODS.has(method)) return false;
    const code = errorCode(err);
    return RETRYABLE.has(code) || (retry.isTimeoutRetried && RETRYABLE_TIMEOUTS.has(code));
  }

  /**
   * After a retryable failure on `failed`: tries again on another URL of the route (the same
   * when it has one), at most `retry.attempts` times, each only while the failed upstream's
   * retry budget allows. Resolves with the answer; rejects with the last failure's error.
   */
  async function retryRequest(
    route: CompiledRoute,
    ctx: GatewayRequestContext,
    options: Dispatcher.RequestOptions & { headers: Record<string, string | string[]> },
    failed: UpstreamTarget,
    failure: SplError,
  ): Promise<Dispatcher.ResponseData> {
    let last = failed;
    let lastError = failure;
    for (let attempt = 0; attempt < retry.attempts; attempt++) {
      const now = Date.now();
      const origin = last.upstream.origin;
      const next = pickRetryTarget(route, last, now);
      if (next === null) throw lastError;
      if (!last.upstream.retryBudget.tryWithdraw(now)) {
        next.upstream.circuit.release();
        observer?.onRetryBudgetExhausted?.(origin);
        throw lastError;
      }
      options.headers.host = next.host;
      options.path = upstreamPath(next, ctx);
      const started = performance.now();
      try {
        const res = await next.upstream.pool.request(options);
        next.upstream.circuit.onSuccess();
        observer?.onUpstreamRetry?.(origin, 'success');
        return res;
      } catch (err) {
        const { error, isTransportFailure } = classifyUpstreamError(err, route, deps.retryAfterSeconds);
        if (isTransportFailure) next.upstream.circuit.onFailure(Date.now());
        else next.upstream.circuit.release();
        observer?.onUpstreamResponse?.(route, {
          status: null,
          ms: performance.now() - started,
          error: error.code,
        });
        observer?.onUpstreamRetry?.(origin, 'failure');
        lastError = error;
        last = next;
        if (!isRetryable(options.method, err)) break;
      }
    }
    throw lastError;
  }

  function upstreamHeaders(
    request: FastifyRequest,
    target: UpstreamTarget,
  ): Record<string, string | string[]> {
    const incoming = request.headers;
    const connectionTokens = incoming.connection;
    const out: Record<string, string | string[]> = {};
    for (const name in incoming) {
      if (REQUEST_HEADERS_DROPPED.has(name)) continue;
      const value = incoming[name];
      if (value === undefined) continue;
      out[name] = value;
    }
    // Fields the caller named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
    if (connectionTokens && connectionTokens !== 'keep-alive' && connectionTokens !== 'close')
      for (const token of connectionTokens.split(',')) delete out[token.trim().toLowerCase()];
    out.host = target.host;
    out['x-request-id'] = request.id;
    out.traceparent = nextTraceparent(incoming.traceparent);
    const forwardedFor = incoming['x-forwarded-for'];
    out['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${request.ip}` : request.ip;
    out['x-forwarded-proto'] = request.protocol;
    if (incoming.host) out['x-forwarded-host'] = incoming.host;
    return out;
  }

  function relayHeaders(reply: FastifyReply, headers: IncomingHttpHeaders, route: CompiledRoute): void {
    for (const name in headers) {
      if (RESPONSE_HEADERS_DROPPED.has(name)) continue;
      const value = headers[name];
      if (value !== undefined) reply.header(name, value);
    }
    if (route.answerHeaders) reply.headers(route.answerHeaders);
  }

  async function forward(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: GatewayRequestContext,
  ): Promise<FastifyReply> {
    const route = ctx.route!;
    if (route.brokenReason)
      throw errors.SPL_BAD_GATEWAY(`${route.key} cannot be served: ${route.brokenReason}`);
    const auth = route.auth;
    if (auth.kind === 'broken')
      throw errors.SPL_UPSTREAM_AUTH_FAILED(`the gateway has no usable credentials for ${route.key}`);
    // The caller's identity, asserted by the hub (issue 3 §5); cached, so a string nearly always.
    let identityToken: string | null = null;
    const caller = ctx.caller;
    if (identity && caller?.applicationId) {
      const signed = identity.token(caller.applicationId, caller, route);
      identityToken = typeof signed === 'string' ? signed : await signed;
    }
    const now = Date.now();
    const picked = pickTarget(route, now);
    if (typeof picked === 'number')
      throw errors.SPL_CIRCUIT_OPEN(`the upstream of ${route.key} is failing; its circuit is open`, {
        headers: { 'retry-after': String(picked) },
      });
    const target = picked;
    const { circuit } = target.upstream;

    const headers = upstreamHeaders(request, target);
    if (identityToken !== null) headers['x-spl-identity'] = identityToken;
    if (auth.kind === 'header') headers[auth.name] = auth.value;
    let upstreamToken: string | null = null;
    if (auth.kind === 'oauth2') {
      let token = auth.tokens.cached(now);
      if (token === null) {
        try {
          token = await auth.tokens.fetch();
        } catch (err) {
          circuit.release(); // the upstream itself was not tried
          throw errors.SPL_UPSTREAM_AUTH_FAILED(
            `no token from the upstream's token endpoint for ${route.key}`,
            {
              cause: err,
            },
          );
        }
      }
      headers.authorization = `Bearer ${token}`;
      upstreamToken = token;
    }

    const body = request.body as Buffer | undefined;
    const options = {
      path: upstreamPath(target, ctx),
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: body?.length ? body : null,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.timeoutMs,
    };
    target.upstream.retryBudget.deposit(now);
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await target.upstream.pool.request(options);
      circuit.onSuccess();
    } catch (err) {
      const { error, isTransportFailure } = classifyUpstreamError(err, route, deps.retryAfterSeconds);
      if (isTransportFailure) circuit.onFailure(Date.now());
      else circuit.release();
      observer?.onUpstreamResponse?.(route, {
        status: null,
        ms: performance.now() - started,
        error: error.code,
      });
      if (!isRetryable(options.method, err)) throw error;
      res = await retryRequest(route, ctx, options, target, error);
    }
    const ms = performance.now() - started;
    ctx.upstreamStatus = res.statusCode;
    ctx.upstreamMs = ms;
    observer?.onUpstreamResponse?.(route, { status: res.statusCode, ms });
    if (auth.kind === 'oauth2' && res.statusCode === 401 && upstreamToken !== null) {
      // The upstream refused the hub's token (revoked, keys rotated): drop it and send the
      // request once more with a fresh one — the body is held in memory, so even a POST can
      // be re-sent. The consumer sees the second answer, never a 401 meant for the hub.
      auth.tokens.invalidate(upstreamToken);
      await res.body.dump().catch(() => {});
      let fresh: string;
      try {
        fresh = await auth.tokens.fetch();
      } catch (err) {
        throw errors.SPL_UPSTREAM_AUTH_FAILED(
          `no token from the upstream's token endpoint for ${route.key}`,
          {
            cause: err,
          },
        );
      }
      (options.headers as Record<string, string>).authorization = `Bearer ${fresh}`;
      const again = performance.now();
      try {
        res = await target.upstream.pool.request(options);
      } catch (err) {
        throw classifyUpstreamError(err, route, deps.retryAfterSeconds).error;
      }
      ctx.upstreamStatus = res.statusCode;
      ctx.upstreamMs = ms + (performance.now() - again);
      if (res.statusCode === 401) auth.tokens.invalidate(fresh);
    }

    reply.code(res.statusCode);
    relayHeaders(reply, res.headers, route);
    const length = res.headers['content-length'];
    const size = typeof length === 'string' ? Number(length) : Number.NaN;
    if (request.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) {
      res.body.resume();
      if (request.method === 'HEAD' && typeof length === 'string') reply.header('content-length', length);
      return reply.send();
    }
    if (size <= deps.bufferLimitBytes) {
      let payload: Buffer;
      try {
        payload = Buffer.from(await res.body.arrayBuffer());
      } catch (err) {
        throw classifyUpstreamError(err, route, deps.retryAfterSeconds).error;
      }
      return reply.send(payload);
    }
    if (typeof length === 'string') reply.header('content-length', length);
    // A streamed answer is digested as it passes (the evidence log's response digest, issue 3
    // §10): the hash is complete once the upstream's last byte is read, before onResponse.
    const digest = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        digest.update(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        ctx.streamedResponseDigest = digest.digest('hex');
        callback();
      },
    });
    pipeline(res.body, tap, () => {}); // an upstream error mid-stream destroys `tap`, and Fastify the answer
    return reply.send(tap);
  }

  return { forward };
}
