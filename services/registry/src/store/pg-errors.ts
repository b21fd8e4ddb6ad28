/** PostgreSQL error codes (Appendix A) the registry maps to domain errors; pg and PGlite both set `code`. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23503';
}

/**
 * A value PostgreSQL cannot hold or read as its column type: a NUL byte or bad encoding in
 * text (22021, 22P05), a malformed uuid or number (22P02), a number out of range (22003).
 * These come from what a client sent, so they are a 400, not a 500 (found by the hostile-input
 * fuzz: a `%00` in a path parameter reached a query as text).
 */
export function isUnstorableValue(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === '22021' || code === '22P05' || code === '22P02' || code === '22003';
}

/** Socket errors of a server that is gone or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The database is not there: connection refused or cut (class 08), the server shutting down
 * or starting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), or the
 * pg driver's own "connection terminated" / connect timeout / statement not answered in time
 * (SPL_DATABASE_QUERY_TIMEOUT_MS), which carry no code. Nothing is wrong with the request: it
 * may be sent again once the database is back (a 503).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || code.startsWith('08')) return true;
    if (code === '57P01' || code === '57P02' || code === '57P03') return true;
  }
  return (
    typeof message === 'string' &&
    /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout)/.test(
      message,
    )
  );
}
