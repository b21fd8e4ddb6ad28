/**
 * RFC 9110 §13.1.2: whether an If-None-Match header matches `etag` (unquoted), by weak
 * comparison — `*`, or any listed entity tag, `W/` or not, with the same opaque value.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  for (const part of header.split(',')) {
    const tag = part.trim().replace(/^W\//, '');
    if (tag === `"${etag}"`) return true;
  }
  return false;
}
