import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '@spl/env-config';
import type { GatewayConfig } from '../config.js';

export type ClientAuthMode = GatewayConfig['SPL_TLS_CLIENT_AUTH'];

/** TLS termination at the gateway (issue 3 §3), read and checked once at start-up. */
export interface ServerTls {
  /** For Fastify's `https` option (node:https `createServer`). */
  readonly options: ServerOptions;
  readonly clientAuth: ClientAuthMode;
  /** The served leaf certificate, for the start-up log. */
  readonly certificate: { subject: string; fingerprint256: string; validTo: string };
}

type ReadFile = (path: string) => Buffer;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readVariableFile(variable: string, path: string, readFile: ReadFile): string {
  try {
    return readFile(path).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(variable, `cannot be read (${path}: ${code})`, { cause: err });
  }
}

/** Every PEM certificate in a file, parsed; a ConfigError naming `variable` when there is none or one is broken. */
function parseCertificates(variable: string, path: string, pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new ConfigError(variable, `holds no PEM certificate (${path})`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new ConfigError(variable, `certificate ${i + 1} in ${path} cannot be parsed`, { cause: err });
    }
  });
}

/**
 * Reads SPL_TLS_CERT_FILE, SPL_TLS_KEY_FILE and SPL_TLS_CA_FILE (their combinations are
 * checked by loadGatewayConfig) and checks what a TLS handshake would only reveal later: a
 * file that is missing or holds no PEM, a key that does not belong to the certificate, a
 * certificate outside its validity. Every failure is a ConfigError naming the variable, so
 * start-up stops with it. null when the gateway serves plain HTTP.
 *
 * `SPL_TLS_CLIENT_AUTH` (BKS 60(3)(i)): `required` lets node:tls refuse the handshake of a
 * client without a certificate that verifies against the CA file — such a client never
 * reaches HTTP; `optional` asks for a certificate but lets the handshake finish, and
 * tls/client-certificate.ts answers 403 to one that does not verify.
 */
export function loadServerTls(
  config: GatewayConfig,
  options: { readFile?: ReadFile; now?: Date } = {},
): ServerTls | null {
  const certFile = config.SPL_TLS_CERT_FILE;
  const keyFile = config.SPL_TLS_KEY_FILE;
  if (!certFile || !keyFile) return null;
  const readFile = options.readFile ?? readFileSync;
  const now = options.now ?? new Date();

  const certPem = readVariableFile('SPL_TLS_CERT_FILE', certFile, readFile);
  const [leaf] = parseCertificates('SPL_TLS_CERT_FILE', certFile, certPem) as [X509Certificate];
  if (new Date(leaf.validTo) <= now)
    throw new ConfigError(
      'SPL_TLS_CERT_FILE',
      `holds a certificate that expired on ${leaf.validTo} (${certFile})`,
    );
  if (new Date(leaf.validFrom) > now)
    throw new ConfigError(
      'SPL_TLS_CERT_FILE',
      `holds a certificate not valid before ${leaf.validFrom} (${certFile})`,
    );

  const keyPem = readVariableFile('SPL_TLS_KEY_FILE', keyFile, readFile);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new ConfigError(
      'SPL_TLS_KEY_FILE',
      `holds no readable PEM private key (${keyFile}; encrypted keys are not supported)`,
      { cause: err },
    );
  }
  if (!leaf.checkPrivateKey(key))
    throw new ConfigError(
      'SPL_TLS_KEY_FILE',
      `does not belong to the certificate in SPL_TLS_CERT_FILE (${keyFile} vs ${certFile}, subject ${oneLine(leaf.subject)})`,
    );

  const clientAuth = config.SPL_TLS_CLIENT_AUTH;
  let ca: string | undefined;
  if (clientAuth !== 'none' && config.SPL_TLS_CA_FILE) {
    ca = readVariableFile('SPL_TLS_CA_FILE', config.SPL_TLS_CA_FILE, readFile);
    parseCertificates('SPL_TLS_CA_FILE', config.SPL_TLS_CA_FILE, ca);
  }

  const serverOptions: ServerOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: 'TLSv1.2',
    ...(ca
      ? {
          ca,
          requestCert: true,
          // `optional`: the handshake finishes either way; the certificate is judged per request.
          rejectUnauthorized: clientAuth === 'required',
        }
      : {}),
  };
  try {
    createSecureContext(serverOptions);
  } catch (err) {
    throw new ConfigError('SPL_TLS_CERT_FILE', `cannot be used for TLS: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return Object.freeze({
    options: serverOptions,
    clientAuth,
    certificate: {
      subject: oneLine(leaf.subject),
      fingerprint256: leaf.fingerprint256,
      validTo: leaf.validTo,
    },
  });
}

/** `CN=a\nO=b` as node:crypto gives a distinguished name, on one line for logs. */
export function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').join(', ');
}
