import { createRegistryClient, fetchToken, type RegistryClient, TokenRequestError } from '@spl/api-client';
import { type CredentialOptions, resolveCredentials } from './credentials.js';
import { CliError, type ProblemDetails, ProblemError } from './errors.js';

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081';

/** Where a command writes: stdout for results, stderr for errors and notes. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** What every command is given. */
export interface CliContext {
  registryUrl: string;
  client: RegistryClient;
  io: CliIo;
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface GlobalOptions extends CredentialOptions {
  url?: string;
}

export function createCliContext(
  options: GlobalOptions,
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): CliContext {
  const registryUrl = (options.url ?? env.SPL_REGISTRY_URL ?? DEFAULT_REGISTRY_URL).replace(/\/+$/, '');
  let token: Promise<string> | undefined;
  // Credentials are resolved and a token fetched on the first request only, so a command
  // that fails its own checks first never needs them.
  const getToken = () => {
    token ??= (async () => {
      const credentials = resolveCredentials(options, env, cwd);
      const tokenUrl = `${registryUrl}/oauth2/token`;
      try {
        return (await fetchToken({ tokenUrl, ...credentials })).accessToken;
      } catch (err) {
        if (err instanceof TokenRequestError) {
          throw new CliError(
            `authentication as ${credentials.clientId} failed at ${tokenUrl}: ${err.message}`,
          );
        }
        throw err;
      }
    })();
    return token;
  };
  return { registryUrl, client: createRegistryClient({ baseUrl: registryUrl, getToken }), io, env, cwd };
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function connectionError(ctx: CliContext, err: unknown): CliError | undefined {
  if (!(err instanceof TypeError)) return undefined;
  const cause = (err as TypeError & { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? err.message;
  return new CliError(
    `cannot connect to the registry at ${ctx.registryUrl} (${reason}); set --url or SPL_REGISTRY_URL`,
    1,
    {
      cause: err,
    },
  );
}

/**
 * Awaits an openapi-fetch call and returns its data. A problem+json answer becomes a
 * ProblemError (`code: detail`); a refused connection names the URL it tried.
 */
export async function callRegistry<T>(ctx: CliContext, call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (err) {
    throw connectionError(ctx, err) ?? err;
  }
  if (result.error !== undefined || !result.response.ok) {
    const body = result.error;
    const problem: ProblemDetails =
      body && typeof body === 'object'
        ? (body as ProblemDetails)
        : { detail: typeof body === 'string' && body ? body : result.response.statusText };
    throw new ProblemError(result.response.status, problem);
  }
  return result.data as T;
}
