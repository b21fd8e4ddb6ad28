import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './registry.generated.js';

export type { components, paths } from './registry.generated.js';

/** A typed client of the registry's REST API (openapi-fetch over the generated `paths`). */
export type RegistryClient = Client<paths>;

export interface RegistryClientOptions {
  /** The registry's base URL, e.g. `http://127.0.0.1:8081`. */
  baseUrl: string;
  /** A bearer access token, used as is. */
  token?: string;
  /** Called before each request for the bearer token (fetch and cache one here). */
  getToken?: () => string | Promise<string>;
  /** A fetch to use instead of the global one (tests). */
  fetch?: (input: Request) => Promise<Response>;
}

/** Adds `Authorization: Bearer …` to every request; the token itself is never logged. */
function bearerMiddleware(getToken: () => string | Promise<string>): Middleware {
  return {
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${await getToken()}`);
      return request;
    },
  };
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  if (options.token !== undefined && options.getToken !== undefined) {
    throw new TypeError('createRegistryClient: give either token or getToken, not both');
  }
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { token, getToken } = options;
  if (getToken) client.use(bearerMiddleware(getToken));
  else if (token !== undefined) client.use(bearerMiddleware(() => token));
  return client;
}

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds from issue. */
  expiresIn: number;
  scope?: string;
}

/** The token endpoint refused (RFC 6749 §5.2): `error` is its code, e.g. `invalid_client`. */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  constructor(
    readonly error: string,
    readonly status: number,
    readonly description?: string,
  ) {
    super(description ? `${error}: ${description}` : error);
  }
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64'd. */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
  return Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64');
}

/**
 * Gets an access token with the client credentials grant (RFC 6749 §4.4), authenticating
 * with `client_secret_basic`. Throws TokenRequestError when the server refuses; a network
 * failure propagates as fetch's own TypeError.
 */
export async function fetchToken(options: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  fetch?: typeof globalThis.fetch;
}): Promise<AccessToken> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope) body.set('scope', options.scope);
  const res = await (options.fetch ?? globalThis.fetch)(options.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basicCredentials(options.clientId, options.clientSecret)}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body,
  });
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!res.ok || typeof json?.access_token !== 'string') {
    const error = typeof json?.error === 'string' ? json.error : `http_${res.status}`;
    const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
    throw new TokenRequestError(error, res.status, description);
  }
  return {
    accessToken: json.access_token,
    tokenType: 'Bearer',
    expiresIn: typeof json.expires_in === 'number' ? json.expires_in : 0,
    ...(typeof json.scope === 'string' ? { scope: json.scope } : {}),
  };
}
