import { createEgressAgent, type EgressPolicy, isUrlAllowed } from '@spl/egress';
import type { FederatedVerifierOptions } from './federated-verifier.js';
import { createJwksFetcher } from './jwks-fetcher.js';

/**
 * The egress half of `createFederatedVerifier`'s options under SPL_EGRESS_ALLOW: a JWKS URL
 * is checked before the fetch (a clear refusal, no request), and the fetch itself goes
 * through an agent that judges the address it dials. The second check is the one that holds:
 * a name that resolves to a public address when checked and to 169.254.169.254 when dialled
 * (DNS rebinding) is refused at connect.
 */
export function federationEgress(
  egress: EgressPolicy,
): Pick<FederatedVerifierOptions, 'isEgressAllowed' | 'fetchJwks'> {
  return {
    isEgressAllowed: (url) => isUrlAllowed(egress, url),
    fetchJwks: createJwksFetcher({ dispatcher: createEgressAgent(egress, { connections: 4 }) }),
  };
}
