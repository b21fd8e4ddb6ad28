/**
 * Masks values that look like personal data wherever a path or query string is logged
 * (issue 3, point 10; UU PDP 27/2022): regional PD APIs often carry a NIK in the path.
 *
 *   NIK     16 digits                                        → [nik]
 *   NPWP    15 digits, or 15/16 with dots or dashes           → [npwp]
 *           (`12.345.678.9-012.345`; a bare 16-digit NPWP is a NIK since PMK 112/2022 → [nik])
 *   phone   +62… / 62… / 08…, 9–13 digits, dashes or dots allowed → [phone]
 *   e-mail  local@domain.tld, `@` also as `%40`               → [email]
 *
 * A number is only matched whole: not preceded or followed by a letter or digit, so a UUID, a
 * hex digest, an ISO timestamp or an epoch in milliseconds is left alone.
 *
 * One precompiled regex, one pass; when nothing matches the input string itself is returned
 * (no allocation).
 */

const EDGE_BEFORE = '(?<![0-9A-Za-z])';
const EDGE_AFTER = '(?![0-9A-Za-z])';

const PERSONAL_DATA = new RegExp(
  [
    // e-mail first: a local part made of digits is still an address.
    '(?<email>[A-Za-z0-9._+-]+(?:@|%40)[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,})',
    `(?<nik>${EDGE_BEFORE}\\d{16}${EDGE_AFTER})`,
    `(?<npwp>${EDGE_BEFORE}(?:\\d{2}[.-]\\d{3}[.-]\\d{3}[.-]\\d[.-]\\d{3}[.-]\\d{3}|\\d{4}[.-]\\d{4}[.-]\\d{4}[.-]\\d{4}|\\d{15})${EDGE_AFTER})`,
    `(?<phone>${EDGE_BEFORE}(?:(?:\\+|%2[Bb])?62[-.]?8|08)(?:[-.]?\\d){7,11}${EDGE_AFTER})`,
  ].join('|'),
  'g',
);

function replacePersonalData(...args: unknown[]): string {
  const groups = args[args.length - 1] as Record<string, string | undefined>;
  if (groups.email !== undefined) return '[email]';
  if (groups.nik !== undefined) return '[nik]';
  if (groups.npwp !== undefined) return '[npwp]';
  return '[phone]';
}

export function maskPersonalData(text: string): string {
  PERSONAL_DATA.lastIndex = 0;
  if (!PERSONAL_DATA.test(text)) return text;
  PERSONAL_DATA.lastIndex = 0;
  return text.replace(PERSONAL_DATA, replacePersonalData);
}

/**
 * Compiles, once per route and snapshot, the masker of that route's logged URLs: personal
 * data as above, and the value of every query parameter named as one of the route's
 * `restrictedFields` (`x-spl-classification: dikecualikan`) → `[dikecualikan]`, whatever it
 * looks like.
 */
export function compileUrlMasker(restrictedFields: readonly string[]): (pathAndQuery: string) => string {
  if (restrictedFields.length === 0) return maskPersonalData;
  const names = restrictedFields.map((name) => escapeRegExp(encodeURIComponent(name))).join('|');
  const restricted = new RegExp(`([?&](?:${names})=)[^&#]*`, 'g');
  return (pathAndQuery) => {
    const masked = maskPersonalData(pathAndQuery);
    restricted.lastIndex = 0;
    if (!restricted.test(masked)) return masked;
    restricted.lastIndex = 0;
    return masked.replace(restricted, '$1[dikecualikan]');
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
