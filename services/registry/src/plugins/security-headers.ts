import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Response headers that keep a browser from misreading or framing what the registry serves
 * (OWASP API8:2023; BKS 59(16) hardening). The registry serves HTML — the status page, the
 * SPBE report, the docs UI — besides JSON, so every answer carries them:
 * - `X-Content-Type-Options: nosniff`: a JSON body or an uploaded OpenAPI document is never
 *   sniffed into HTML or script;
 * - `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no page of the hub can be
 *   framed by another site (click-jacking an approval);
 * - `Referrer-Policy: no-referrer`: links out of the hub's pages carry no hub URL.
 * No CORS headers are sent anywhere: the API is called with bearer tokens, never cookies, and
 * no other origin is granted access (BKS 60(5)(d)).
 * Proven by test/owasp/api8-security-misconfiguration.test.ts.
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      if (!reply.hasHeader('content-security-policy'))
        reply.header('content-security-policy', "frame-ancestors 'none'");
      return payload;
    });
  },
  { name: 'spl-security-headers' },
);
