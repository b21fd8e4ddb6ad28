import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import { type ClientAuthMode, oneLine } from './server-tls.js';

/**
 * The verified certificate a client presented (mutual TLS, BKS 60(3)(i)). Not a secret: the
 * access log records `subject` and `fingerprint256`.
 */
export interface ClientCertificate {
  /** Distinguished name on one line, as node:crypto orders it (`CN=…, O=…`). */
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint256: string;
  readonly serialNumber: string;
  readonly validTo: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's verified TLS certificate; null without TLS client authentication or without one. */
    clientCertificate: ClientCertificate | null;
  }
}

/** A certificate was presented but does not verify against SPL_TLS_CA_FILE; why, in OpenSSL's words. */
interface Refused {
  readonly refused: string;
}

function readClientCertificate(socket: TLSSocket): ClientCertificate | Refused | null {
  if (!socket.encrypted) return null;
  const x509 = socket.getPeerX509Certificate();
  if (!x509) return null;
  if (!socket.authorized) return { refused: String(socket.authorizationError ?? 'not verified') };
  return Object.freeze({
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    fingerprint256: x509.fingerprint256,
    serialNumber: x509.serialNumber,
    validTo: x509.validTo,
  });
}

/**
 * Decorates every request with `clientCertificate`. With client authentication on, the
 * certificate is read once per TLS connection (not per request) and a presented certificate
 * that does not verify is answered 403 `SPL_CLIENT_CERT_REFUSED` before anything else runs:
 * in `optional` mode a caller may come without one, never with a bad one. In `required`
 * mode node:tls has already refused such handshakes, so every request here has one.
 */
export function installClientCertificates(app: FastifyInstance, mode: ClientAuthMode): void {
  app.decorateRequest('clientCertificate', null);
  if (mode === 'none') return;
  const perConnection = new WeakMap<object, ClientCertificate | Refused | null>();
  app.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket as TLSSocket;
    let found = perConnection.get(socket);
    if (found === undefined) {
      found = readClientCertificate(socket);
      perConnection.set(socket, found);
    }
    if (found !== null && 'refused' in found)
      return done(
        errors.SPL_CLIENT_CERT_REFUSED(
          `the client certificate does not verify against the gateway's trusted CAs (${found.refused})`,
        ),
      );
    request.clientCertificate = found;
    done();
  });
}
