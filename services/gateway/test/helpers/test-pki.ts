import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as PEM text and as files in the PKI's folder. */
export interface IssuedCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/**
 * Certificates made with the `openssl` CLI in a temporary folder, EC P-256 (quick to make),
 * valid for a day:
 *
 *   ca ──┬─ server   (CN=localhost, SAN IP:127.0.0.1 DNS:localhost, serverAuth)
 *        └─ issue(…) (clients: clientAuth)
 *   otherCa ─ issue(…, { by: 'otherCa' })
 */
export class TestPki {
  ca!: IssuedCertificate;
  otherCa!: IssuedCertificate;
  server!: IssuedCertificate;

  private constructor(readonly dir: string) {}

  static async create(): Promise<TestPki> {
    const pki = new TestPki(await mkdtemp(join(tmpdir(), 'spl-pki-')));
    pki.ca = await pki.selfSigned('ca', '/O=SPL test/CN=SPL test CA');
    pki.otherCa = await pki.selfSigned('other-ca', '/O=Elsewhere/CN=Another CA');
    pki.server = await pki.issue('server', '/CN=localhost', {
      extensions: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth',
    });
    return pki;
  }

  private async selfSigned(name: string, subject: string): Promise<IssuedCertificate> {
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      subject,
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return this.read(certFile, keyFile);
  }

  /** A leaf certificate signed by `ca` (default) or `otherCa`; a client certificate unless `extensions` say otherwise. */
  async issue(
    name: string,
    subject: string,
    options: { by?: 'ca' | 'otherCa'; extensions?: string } = {},
  ): Promise<IssuedCertificate> {
    const issuer = options.by === 'otherCa' ? this.otherCa : this.ca;
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    const csrFile = join(this.dir, `${name}.csr`);
    const extFile = join(this.dir, `${name}.ext`);
    await writeFile(extFile, `${options.extensions ?? 'extendedKeyUsage=clientAuth'}\n`);
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      csrFile,
      '-subj',
      subject,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csrFile,
      '-CA',
      issuer.certFile,
      '-CAkey',
      issuer.keyFile,
      '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
      '-days',
      '1',
      '-extfile',
      extFile,
      '-out',
      certFile,
    ]);
    return this.read(certFile, keyFile);
  }

  /** Writes `text` into the PKI's folder (a broken or mismatched file for a test). */
  async file(name: string, text: string): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, text);
    return path;
  }

  private async read(certFile: string, keyFile: string): Promise<IssuedCertificate> {
    return {
      cert: await readFile(certFile, 'utf8'),
      key: await readFile(keyFile, 'utf8'),
      certFile,
      keyFile,
    };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
