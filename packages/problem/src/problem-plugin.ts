import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isSplError, problemType } from './spl-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** Fastify's own error codes mapped to ours, so every answer speaks one vocabulary. */
const FASTIFY_CODES: Record<string, { code: string; title: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'SPL_UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'SPL_PAYLOAD_TOO_LARGE', title: 'Payload too large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'SPL_MALFORMED_BODY', title: 'Malformed request body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'SPL_MALFORMED_BODY', title: 'Malformed request body' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'SPL_MALFORMED_BODY', title: 'Malformed request body' },
  FST_ERR_VALIDATION: { code: 'SPL_VALIDATION', title: 'Request failed validation' },
  FST_ERR_NOT_FOUND: { code: 'SPL_ROUTE_NOT_FOUND', title: 'Not found' },
};

function statusTitle(status: number): { code: string; title: string } {
  if (status === 404) return { code: 'SPL_ROUTE_NOT_FOUND', title: 'Not found' };
  if (status === 405) return { code: 'SPL_METHOD_NOT_ALLOWED', title: 'Method not allowed' };
  if (status === 413) return { code: 'SPL_PAYLOAD_TOO_LARGE', title: 'Payload too large' };
  if (status === 415) return { code: 'SPL_UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' };
  if (status === 429) return { code: 'SPL_RATE_LIMITED', title: 'Too many requests' };
  if (status >= 400 && status < 500) return { code: 'SPL_BAD_REQUEST', title: 'Bad request' };
  return { code: 'SPL_INTERNAL', title: 'Internal error' };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Validation errors as a list of `{ pointer, message }` — never the offending value. */
function validationErrors(err: FastifyError): Array<{ pointer: string; message: string }> | undefined {
  const list = (err as FastifyError & { validation?: Array<Record<string, unknown>> }).validation;
  if (!list) return undefined;
  const context = (err as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  return list.map((v) => {
    const path = String(v.instancePath ?? '');
    const params = (v.params ?? {}) as Record<string, unknown>;
    const extra =
      typeof params.additionalProperty === 'string'
        ? `/${params.additionalProperty}`
        : typeof params.missingProperty === 'string'
          ? `/${params.missingProperty}`
          : '';
    return { pointer: `${context}:${path}${extra}` || '/', message: String(v.message ?? 'is invalid') };
  });
}

/**
 * Makes every error of the app — ours, Fastify's own (404, 413, 415, bad JSON) and
 * unexpected ones — an RFC 9457 problem+json. Unexpected errors are logged with their
 * stack and answered with a generic 500 that reveals nothing.
 */
export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, {
        type: problemType('SPL_ROUTE_NOT_FOUND'),
        title: 'Not found',
        status: 404,
        code: 'SPL_ROUTE_NOT_FOUND',
        detail: `no route for ${request.method} ${request.url.split('?')[0]}`,
        requestId: request.id,
      }),
    );

    app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (isSplError(err)) {
        if (err.status >= 500) request.log.error({ err }, err.message);
        if (err.headers) reply.headers(err.headers);
        return sendProblem(reply, {
          type: problemType(err.code),
          title: err.title,
          status: err.status,
          detail: err.message,
          code: err.code,
          requestId: request.id,
          ...err.extensions,
        });
      }
      const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
      const status = err.validation ? 400 : (err.statusCode ?? 500);
      const { code, title } = mapped ?? statusTitle(status);
      if (status >= 500) {
        request.log.error({ err }, 'unhandled error');
        return sendProblem(reply, {
          type: problemType('SPL_INTERNAL'),
          title: 'Internal error',
          status: 500,
          code: 'SPL_INTERNAL',
          detail: 'the server could not complete the request; the request id identifies it in the logs',
          requestId: request.id,
        });
      }
      const errors = validationErrors(err);
      return sendProblem(reply, {
        type: problemType(code),
        title,
        status,
        code,
        detail: errors ? errors.map((e) => `${e.pointer} ${e.message}`).join('; ') : err.message,
        requestId: request.id,
        ...(errors ? { errors } : {}),
      });
    });
  },
  { name: '@spl/problem' },
);
