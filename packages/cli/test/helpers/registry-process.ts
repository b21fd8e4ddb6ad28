import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface RegistryProcess {
  url: string;
  operator: { clientId: string; clientSecret: string };
  /** What the registry wrote to stderr, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the registry takes it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((done) => child.once('exit', () => done()));
}

/**
 * Starts the real registry (services/registry/src/server.ts) as a child process — a package
 * never imports a service — on a free port, an embedded store in a temporary folder and its
 * own Redis key prefix, and waits until /readyz answers 200.
 */
export async function startRegistryProcess(): Promise<RegistryProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'spl-cli-registry-'));
  const operator = { clientId: 'cli-test-operator', clientSecret: randomBytes(24).toString('base64url') };
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'services/registry/src/server.ts'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        SPL_HOST: '127.0.0.1',
        SPL_REGISTRY_PORT: String(port),
        SPL_PUBLIC_URL: `http://127.0.0.1:${port}`,
        SPL_DATA_DIR: dataDir,
        SPL_MASTER_KEY: randomBytes(32).toString('base64'),
        SPL_REDIS_PREFIX: `cli-test-${randomBytes(5).toString('hex')}`,
        SPL_BOOTSTRAP_CLIENT_ID: operator.clientId,
        SPL_BOOTSTRAP_CLIENT_SECRET: operator.clientSecret,
        SPL_DEMO_FILE: join(dataDir, 'demo.json'),
        SPL_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the registry exited with ${child.exitCode} before it was ready:\n${stderr}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the registry was not ready within 60 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, operator, logs: () => stderr, stop };
}
