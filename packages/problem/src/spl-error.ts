/**
 * A domain error with a stable code. It carries the HTTP status its catalogue entry
 * names, but domain code never looks at it: only the problem+json handler does.
 */
export class SplError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** Extra members of the problem+json object (RFC 9457 §3.2), e.g. `errors` or `pointer`. */
  readonly extensions: Record<string, unknown> | undefined;
  /** Headers the response must carry, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    spec: ErrorSpec,
    detail: string,
    options: {
      cause?: unknown;
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SplError';
    this.code = spec.code;
    this.status = spec.status;
    this.title = spec.title;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export interface ErrorSpec {
  /** Stable code, `SPL_*`. Documented in docs/errors.md. */
  code: string;
  status: number;
  title: string;
}

export type ErrorFactory = ((
  detail?: string,
  options?: { cause?: unknown; extensions?: Record<string, unknown>; headers?: Record<string, string> },
) => SplError) & { spec: ErrorSpec };

/**
 * Turns a table of specs into factories: `errors.SPL_NOT_FOUND('no such API')`.
 * The keys are the codes, so the catalogue cannot disagree with itself.
 */
export function createErrorCatalogue<K extends string>(
  specs: Record<K, { status: number; title: string }>,
): Record<K, ErrorFactory> {
  const out = {} as Record<K, ErrorFactory>;
  for (const code of Object.keys(specs) as K[]) {
    const spec: ErrorSpec = { code, ...specs[code] };
    if (!/^SPL_[A-Z0-9_]+$/.test(code)) throw new Error(`error code ${code} must match SPL_[A-Z0-9_]+`);
    const factory = ((detail, options) => new SplError(spec, detail ?? spec.title, options)) as ErrorFactory;
    factory.spec = spec;
    out[code] = factory;
  }
  return out;
}

export function isSplError(err: unknown): err is SplError {
  return err instanceof SplError;
}

/** The problem `type` URI for a code: a stable URN, documented in docs/errors.md. */
export function problemType(code: string): string {
  return `urn:spl:problem:${code.toLowerCase().replace(/^spl_/, '').replaceAll('_', '-')}`;
}
