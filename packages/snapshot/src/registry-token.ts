/**
 * A data plane's own bearer token for the registry (a data-plane client, client credentials
 * at `${SPL_REGISTRY_URL}/oauth2/token`), kept until shortly before it expires.
 */
export class RegistryTokenError extends Error {
  override name = 'RegistryTokenError';
}

export function createRegistryTokenSource(input: {
  registryUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  /** Renew this long before `expires_in` runs out, seconds; default 30. */
  marginSeconds?: number;
}): (options: { forceRefresh: boolean }) => Promise<string> {
  const doFetch = input.fetch ?? globalThis.fetch;
  const margin = (input.marginSeconds ?? 30) * 1000;
  let token: string | null = null;
  let renewAt = 0;
  let inflight: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    const res = await doFetch(`${input.registryUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(input.clientId)}:${encodeURIComponent(input.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RegistryTokenError(`the registry token endpoint answered ${res.status}`);
    }
    const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string')
      throw new RegistryTokenError('the registry token endpoint answered no access_token');
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    token = body.access_token;
    renewAt = Date.now() + Math.max(lifetimeMs - margin, lifetimeMs / 2);
    return token;
  }

  return ({ forceRefresh }) => {
    if (!forceRefresh && token && Date.now() < renewAt) return Promise.resolve(token);
    inflight ??= fetchToken().finally(() => {
      inflight = null;
    });
    return inflight;
  };
}
