import { createHmac, hash } from 'node:crypto';
import type { EvidenceLog } from '@spl/evidence-log';
import { EMPTY_DIGEST } from '@spl/evidence-log';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** SHA-256 of the answer's body, set by the evidence log's onSend hook; null when streamed (see `streamedResponseDigest`). */
    evidenceResponseDigest: string | null | undefined;
  }
}

/** One-shot SHA-256 (Node ≥ 20.12): half the cost of createHash for the small inputs here. */
const sha256 = (data: Buffer | string) => hash('sha256', data, 'hex');

/**
 * Adds the evidence log's hooks: `onSend` digests the answer's body when it is bytes or a
 * string (buffered upstream answers and the gateway's own problem+json); a streamed answer
 * (larger than SPL_BUFFER_RESPONSE_BYTES, or of unknown length) is digested by the forwarder
 * as it passes (`ctx.streamedResponseDigest`), and one that broke off before its end is
 * recorded with a null digest and reason `streamed`. `onResponse` seals one record per proxied request
 * (`request.gateway` set): digests and route coordinates, never a body, token or raw path.
 */
export function installEvidence(
  app: FastifyInstance,
  log: EvidenceLog,
  options: {
    /** The key of the HMAC `urlDigest` (derived from SPL_MASTER_KEY with URL_DIGEST_KEY_INFO); plain SHA-256 without it. */
    urlDigestKey?: Buffer | null;
  } = {},
): void {
  const key = options.urlDigestKey ?? null;
  const urlDigest = key
    ? (url: string) => createHmac('sha256', key).update(url).digest('hex')
    : (url: string) => sha256(url);
  app.decorateRequest('evidenceResponseDigest', undefined);
  app.addHook('onSend', (request, _reply, payload, done) => {
    if (request.gateway) {
      if (payload === null || payload === undefined || payload === '')
        request.evidenceResponseDigest = EMPTY_DIGEST;
      else if (typeof payload === 'string' || Buffer.isBuffer(payload))
        request.evidenceResponseDigest = sha256(payload);
      else request.evidenceResponseDigest = null;
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const ctx = request.gateway;
    if (ctx) {
      const route = ctx.route;
      const body = request.body;
      // A streamed answer's digest comes from the forwarder's tap; absent if it broke off.
      const responseDigest = ctx.streamedResponseDigest ?? request.evidenceResponseDigest;
      log.record({
        requestId: request.id,
        org: route?.org ?? null,
        api: route?.api ?? null,
        version: route?.version ?? null,
        application: ctx.caller?.applicationId ?? ctx.caller?.clientId ?? null,
        method: request.method,
        status: reply.statusCode,
        urlDigest: urlDigest(request.url),
        requestDigest: Buffer.isBuffer(body) && body.length > 0 ? sha256(body) : EMPTY_DIGEST,
        responseDigest: responseDigest ?? null,
        ...(responseDigest === null
          ? { responseDigestReason: 'streamed' }
          : responseDigest === undefined
            ? { responseDigestReason: 'not-sent' }
            : {}),
      });
    }
    done();
  });
}
