import { createErrorCatalogue } from '@spl/problem';

/**
 * The gateway's error catalogue. Every code is documented in docs/errors.md (a test keeps
 * the two in step). Statuses follow the public contract (ARCHITECTURE "Errors").
 */
export const errors = createErrorCatalogue({
  SPL_BAD_PATH: { status: 400, title: 'Malformed request path' },
  SPL_VALIDATION: { status: 400, title: 'Request failed validation' },
  SPL_INVALID_TOKEN: { status: 401, title: 'Invalid or missing bearer token' },
  SPL_NOT_SUBSCRIBED: { status: 403, title: 'No approved subscription' },
  SPL_CLIENT_CERT_REFUSED: { status: 403, title: 'Client certificate refused' },
  SPL_ROUTE_NOT_FOUND: { status: 404, title: 'Not found' },
  SPL_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  SPL_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  SPL_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  SPL_BAD_GATEWAY: { status: 502, title: 'Bad answer from the upstream' },
  SPL_EGRESS_REFUSED: { status: 502, title: 'Upstream address not allowed' },
  SPL_UPSTREAM_AUTH_FAILED: { status: 502, title: 'Could not authenticate to the upstream' },
  SPL_UPSTREAM_UNAVAILABLE: { status: 503, title: 'Upstream unavailable' },
  SPL_CIRCUIT_OPEN: { status: 503, title: 'Upstream circuit open' },
  SPL_NOT_READY: { status: 503, title: 'No snapshot loaded yet' },
  SPL_REGISTRY_UNAVAILABLE: { status: 503, title: 'Registry unavailable' },
  SPL_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream timed out' },
});

export type GatewayErrorCode = keyof typeof errors;
