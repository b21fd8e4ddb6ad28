import { createErrorCatalogue } from '@spl/problem';

/**
 * The broker's error catalogue. Every code is documented in docs/broker.md "Errors" (a test
 * keeps the two in step). Statuses follow the public contract (ARCHITECTURE "Errors").
 */
export const errors = createErrorCatalogue({
  SPL_BAD_REQUEST: { status: 400, title: 'Bad request' },
  SPL_INVALID_EVENT: { status: 400, title: 'Not a valid CloudEvent' },
  SPL_EVENT_SCHEMA: { status: 400, title: 'Event data failed the topic schema' },
  SPL_INVALID_TOKEN: { status: 401, title: 'Invalid or missing bearer token' },
  SPL_NOT_PUBLISHER: { status: 403, title: 'Not allowed to publish to this topic' },
  SPL_NOT_SUBSCRIBER: { status: 403, title: 'Not the subscribing application' },
  SPL_TOPIC_NOT_FOUND: { status: 404, title: 'No such topic' },
  SPL_SUBSCRIPTION_NOT_FOUND: { status: 404, title: 'No such subscription' },
  SPL_WRONG_MODE: { status: 409, title: 'Not possible for this subscription mode' },
  SPL_PAYLOAD_TOO_LARGE: { status: 413, title: 'Event too large' },
  SPL_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  SPL_RATE_LIMITED: { status: 429, title: 'Too many events' },
  SPL_BACKLOG_FULL: { status: 503, title: 'Delivery backlog full' },
  SPL_REDIS_UNAVAILABLE: { status: 503, title: 'Event store unavailable' },
  SPL_NOT_READY: { status: 503, title: 'No snapshot loaded yet' },
});

export type BrokerErrorCode = keyof typeof errors;
