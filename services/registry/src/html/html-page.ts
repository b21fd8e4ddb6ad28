import { createHash } from 'node:crypto';

/**
 * Server-rendered pages (the status page, the printable monev report): one document, its
 * style inline and allowed by hash, no script, no external asset — so the page works under
 * `default-src 'none'` and a browser fetches nothing else.
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Template tag: interpolated values are escaped unless wrapped with `raw()`. */
export class RawHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}
export const raw = (html: string) => new RawHtml(html);

export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const parts = Array.isArray(v) ? v : [v];
    for (const part of parts)
      out += part instanceof RawHtml ? part.html : part == null || part === false ? '' : escapeHtml(part);
    out += strings[i + 1]!;
  });
  return new RawHtml(out);
}

export interface HtmlPage {
  body: string;
  /** The Content-Security-Policy that lets exactly this page's style in. */
  csp: string;
}

export function renderPage(input: { title: string; style: string; body: RawHtml; lang?: string }): HtmlPage {
  const hash = createHash('sha256').update(input.style).digest('base64');
  const body = `<!doctype html>
<html lang="${escapeHtml(input.lang ?? 'id')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${input.style}</style>
</head>
<body>
${input.body.html}
</body>
</html>
`;
  return {
    body,
    csp: `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

export const percent = (ratio: number | null, digits = 2) =>
  ratio === null ? '–' : `${(ratio * 100).toFixed(digits)} %`;
