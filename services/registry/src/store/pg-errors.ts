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
