import { createErrorCatalogue } from '@spl/problem';

/**
 * The registry's error catalogue. Every code is documented in docs/errors.md (a test keeps
 * the two in step). Domain code throws these; the problem+json handler answers with them.
 */
export const errors = createErrorCatalogue({
  SPL_VALIDATION: { status: 400, title: 'Request failed validation' },
  SPL_INVALID_OPENAPI: { status: 400, title: 'Invalid OpenAPI document' },
  SPL_INVALID_EVENT_SCHEMA: { status: 400, title: 'Invalid event data schema' },
  SPL_WEBHOOK_URL_REFUSED: { status: 400, title: 'Webhook URL not allowed' },
  SPL_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  SPL_SESSION_SUPERSEDED: { status: 401, title: 'Session superseded by a newer token' },
  SPL_FORBIDDEN: { status: 403, title: 'Not allowed' },
  SPL_PERSON_REQUIRED: { status: 403, title: 'A named person must do this' },
  SPL_NOT_FOUND: { status: 404, title: 'Not found' },
  SPL_CONFLICT: { status: 409, title: 'Conflict' },
  SPL_INVALID_TRANSITION: { status: 409, title: 'Lifecycle transition not allowed' },
  SPL_IMMUTABLE: { status: 409, title: 'Resource can no longer be changed' },
  SPL_PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  SPL_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  SPL_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
});

export type RegistryErrorCode = keyof typeof errors;
