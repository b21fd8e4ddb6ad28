import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Whether nothing listens on the port now (another checkout's quick-start test may hold 8090). */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

export async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/**
 * One service of the hub as its own OS process, so the suite can SIGKILL it and start it again
 * with the same environment, the way a supervisor (systemd, Kubernetes) would.
 */
export class HubProcess {
  child: ChildProcess | null = null;
  private log: WriteStream;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    readonly readyUrl: string,
    logDir: string,
  ) {
    this.log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  }

  /**
   * `node --import tsx`, not the tsx CLI: the CLI runs the service in a child process of its
   * own, so a SIGKILL would hit the CLI and leave the service running as an orphan.
   */
  static tsx(name: string, entry: string, env: Record<string, string>, readyUrl: string, logDir: string) {
    return new HubProcess(name, ['--import', 'tsx', join(root, entry)], env, readyUrl, logDir);
  }

  async start(timeoutMs = 60_000): Promise<number> {
    const started = performance.now();
    this.child = spawn(process.execPath, this.args, {
      cwd: root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.pipe(this.log, { end: false });
    this.child.stderr!.pipe(this.log, { end: false });
    await waitUntil(this.name, () => isReady(this.readyUrl), timeoutMs);
    return performance.now() - started;
  }

  /** kill -9: no shutdown hook runs, in-flight work is cut. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((ok) => {
      child.once('exit', () => ok());
      child.kill(signal);
    });
  }

  get isAlive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
}
