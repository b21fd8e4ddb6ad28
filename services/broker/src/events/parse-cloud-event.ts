import { type CloudEventV1, HTTP, ValidationError } from 'cloudevents';
import { errors } from '../errors.js';

/**
 * A CloudEvent 1.0 from an HTTP request in binary or structured mode (CloudEvents HTTP
 * binding §3), parsed and validated by the official SDK. Batch mode is refused: one publish
 * is one event, so one 202 means one event durably accepted.
 */
export function parseCloudEvent(headers: Record<string, string | string[] | undefined>, body: Buffer) {
  const contentType = String(headers['content-type'] ?? '');
  if (contentType.startsWith('application/cloudevents-batch'))
    throw errors.SPL_UNSUPPORTED_MEDIA_TYPE('batch mode is not accepted: publish one event per request');
  let parsed: CloudEventV1<unknown> | CloudEventV1<unknown>[];
  try {
    parsed = HTTP.toEvent({ headers, body: body.toString('utf8') });
  } catch (err) {
    const detail =
      err instanceof ValidationError
        ? `${err.message}${err.errors?.length ? `: ${JSON.stringify(err.errors)}` : ''}`
        : (err as Error).message;
    throw errors.SPL_INVALID_EVENT(detail);
  }
  if (Array.isArray(parsed)) throw errors.SPL_INVALID_EVENT('expected one event, got a batch');
  if (parsed.specversion !== '1.0')
    throw errors.SPL_INVALID_EVENT(`specversion must be 1.0, got ${parsed.specversion}`);
  return parsed;
}
