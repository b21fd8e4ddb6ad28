/**
 * Splits a request target `/{org}/{api}/{version}/{rest...}?{query}` into its parts so that
 * nothing the caller sends can escape the route it names (issue 3 §1):
 *
 * - repeated slashes collapse (`//a///b` is `/a/b`);
 * - a dot segment (`.`, `..`, in any mix of literal and percent-encoded dots) is refused,
 *   never resolved: the upstream would resolve it differently from us;
 * - an encoded slash or backslash (`%2f`, `%5c`), a raw backslash, an encoded NUL, and
 *   those same things encoded twice (`%252f`, `%252e%252e`) are refused;
 * - malformed percent-encoding is refused.
 *
 * The rest is forwarded as sent (not decoded), so the upstream path is always
 * `<upstream base path><rest>` and stays under the base path.
 */

export interface GatewayPath {
  org: string;
  api: string;
  version: string;
  /** `''` or a path starting with `/`, still percent-encoded as the caller sent it. */
  rest: string;
  /** `''` or the raw query string starting with `?`. */
  query: string;
}

export type PathResult =
  | { ok: true; path: GatewayPath }
  /** `bad`: refused as unsafe (400); `no-route`: cannot name a route (404). */
  | { ok: false; reason: 'bad' | 'no-route'; detail: string };

/** Slugs as the registry registers them: lowercase letters, digits and hyphens. */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
/** Encoded `/`, `\`, NUL, and a `%25` (an encoded `%`, i.e. double encoding) of any of `. / \`. */
const FORBIDDEN_ENCODED = /%(2f|5c|00)|%25(2e|2f|5c|00)/i;
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

function bad(detail: string): PathResult {
  return { ok: false, reason: 'bad', detail };
}

export function splitGatewayPath(url: string): PathResult {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (rawPath.charCodeAt(0) !== 47 /* / */) return bad('the path must start with /');
  if (rawPath.includes('\\')) return bad('the path contains a backslash');
  if (rawPath.includes('%')) {
    if (FORBIDDEN_ENCODED.test(rawPath)) return bad('the path contains an encoded slash, backslash or NUL');
    try {
      decodeURIComponent(rawPath);
    } catch {
      return bad('the path contains malformed percent-encoding');
    }
  }
  const segments = rawPath.split('/');
  // segments[0] is '' (the leading slash); empty segments are collapsed slashes.
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '') continue;
    if (DOT_SEGMENT.test(segment)) return bad('the path contains a dot segment (. or ..)');
    kept.push(segment);
  }
  const hasTrailingSlash = rawPath.length > 1 && rawPath.endsWith('/');
  if (kept.length < 3) return { ok: false, reason: 'no-route', detail: 'the path names no API version' };
  const [org, api, version] = kept as [string, string, string];
  if (!SLUG.test(org) || !SLUG.test(api) || !SLUG.test(version))
    return { ok: false, reason: 'no-route', detail: 'the path names no API version' };
  let rest = kept.length > 3 ? `/${kept.slice(3).join('/')}` : '';
  if (hasTrailingSlash) rest += '/';
  return { ok: true, path: { org, api, version, rest, query } };
}
