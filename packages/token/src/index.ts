export {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type SigningKey,
  signAccessToken,
} from './access-token.js';
export {
  BACKEND_IDENTITY_INFO,
  BACKEND_IDENTITY_TYPE,
  type BackendIdentityClaims,
  type BackendIdentityKey,
  deriveBackendIdentityKey,
  signBackendIdentity,
} from './backend-identity.js';
export {
  createFederatedVerifier,
  type FederatedIdentity,
  type FederatedVerifier,
  type FederatedVerifierOptions,
} from './federation/federated-verifier.js';
export { federationEgress } from './federation/federation-egress.js';
export { FederationError, type FederationFailure } from './federation/federation-error.js';
export { createJwksFetcher, type JwksFetcherOptions } from './federation/jwks-fetcher.js';
export { type GeneratedKey, generateSigningKey, importSigningKey, type PublicJwk } from './signing-key.js';
export { type AccessTokenVerifier, createAccessTokenVerifier, TokenError } from './verify.js';
