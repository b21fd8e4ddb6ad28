export {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type SigningKey,
  signAccessToken,
} from './access-token.js';
export { type GeneratedKey, generateSigningKey, importSigningKey, type PublicJwk } from './signing-key.js';
export { type AccessTokenVerifier, createAccessTokenVerifier, TokenError } from './verify.js';
