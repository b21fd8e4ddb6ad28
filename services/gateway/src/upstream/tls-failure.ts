/**
 * node:tls codes for a certificate the gateway does not accept from an upstream (OpenSSL's
 * X509_V_ERR_* names, and Node's host-name check). An alert from the upstream refusing the
 * gateway's client certificate arrives as `ERR_SSL_*`.
 */
const CERTIFICATE_REFUSED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The TLS code when `err` is a failed TLS handshake with an upstream, else null. */
export function upstreamTlsFailure(err: unknown): string | null {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  for (const code of [e?.code, e?.cause?.code])
    if (typeof code === 'string' && (CERTIFICATE_REFUSED.has(code) || code.startsWith('ERR_SSL_')))
      return code;
  return null;
}
