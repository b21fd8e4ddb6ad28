/**
 * Tells the registry that a push subscription has failed for longer than
 * SPL_BROKER_SUSPEND_AFTER_SECONDS: `POST /v1/topic-subscriptions/{id}/suspension {reason}` with
 * the broker's data-plane token. The registry suspends it and its owner sees that in
 * `spl inbox`. A 404 (a registry without topic subscriptions yet) is answered 'unsupported'
 * and the broker keeps its local suspension only.
 */
export type SuspendOutcome = 'suspended' | 'unsupported' | 'failed';

export interface RegistrySuspender {
  suspend(subscriptionId: string, reason: string): Promise<SuspendOutcome>;
}

export function createRegistrySuspender(input: {
  registryUrl: string;
  getToken: ((options: { forceRefresh: boolean }) => Promise<string>) | null;
  fetch?: typeof globalThis.fetch;
  onError?: (err: Error) => void;
}): RegistrySuspender {
  const doFetch = input.fetch ?? globalThis.fetch;
  return {
    async suspend(id, reason) {
      if (!input.getToken) return 'unsupported';
      try {
        let token = await input.getToken({ forceRefresh: false });
        for (let attempt = 0; attempt < 2; attempt++) {
          const res = await doFetch(
            `${input.registryUrl}/v1/topic-subscriptions/${encodeURIComponent(id)}/suspension`,
            {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ reason }),
              signal: AbortSignal.timeout(10_000),
            },
          );
          await res.body?.cancel();
          if (res.ok) return 'suspended';
          if (res.status === 404) return 'unsupported';
          if (res.status === 401 && attempt === 0) {
            token = await input.getToken({ forceRefresh: true });
            continue;
          }
          input.onError?.(new Error(`the registry answered ${res.status} to suspending ${id}`));
          return 'failed';
        }
        return 'failed';
      } catch (err) {
        input.onError?.(err as Error);
        return 'failed';
      }
    },
  };
}
