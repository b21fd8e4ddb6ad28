/** A failure the CLI reports on stderr in one or a few lines, then exits with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ProblemDetails {
  status?: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: Array<{ pointer?: string; message?: string }>;
}

/** The registry answered with an RFC 9457 problem (or another error body). */
export class ProblemError extends CliError {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly problem: ProblemDetails,
  ) {
    super(formatProblem(status, problem));
  }
}

/** `code: detail`, then one indented line per `errors[]` pointer. */
export function formatProblem(status: number, problem: ProblemDetails): string {
  const code = problem.code ?? `HTTP ${status}`;
  const detail = problem.detail ?? problem.title ?? 'the registry refused the request';
  const lines = [`${code}: ${detail}`];
  for (const e of problem.errors ?? []) lines.push(`  ${e.pointer ?? '/'}: ${e.message ?? 'is invalid'}`);
  return lines.join('\n');
}
