import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** The newest installed server's binaries (Debian layout), or SPL_TEST_PG_BIN. */
function binDir(): string {
  if (process.env.SPL_TEST_PG_BIN) return process.env.SPL_TEST_PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${base} (set SPL_TEST_PG_BIN)`);
  return join(base, versions[0]!, 'bin');
}

/**
 * A PostgreSQL server of the test's own, on a free port, its data and socket in a folder of
 * its own, so a test can stop it under load without touching the shared server on 5432.
 * PostgreSQL refuses to run as root: as root, the folder belongs to `postgres` and every
 * binary runs through `runuser -u postgres`.
 */
export class OwnPostgres {
  port = 0;
  /** Holds `data/`, the server log and the socket; made when not set. */
  dir = '';
  private readonly bin = binDir();
  private readonly asRoot = process.getuid?.() === 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  /** Runs a server binary, as `postgres` when this process is root; never blocks the event loop. */
  private async pg(name: string, args: string[]): Promise<void> {
    const file = join(this.bin, name);
    const [cmd, argv] = this.asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    await run(cmd, argv, { cwd: this.dir, timeout: 60_000 });
  }

  /** initdb (trust, superuser `postgres`) and start. */
  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), 'spl-postgres-'));
    else await mkdir(this.dir, { recursive: true });
    if (this.asRoot) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(this.dir, uid, gid);
    }
    await chmod(this.dir, 0o700);
    await this.pg('initdb', ['-D', this.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await this.resume();
    return this;
  }

  /** Starts the server again on the same port and data folder; returns once it accepts connections. */
  async resume(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /**
   * `pg_ctl stop`: `fast` ends every session (clients get 57P01) and shuts down cleanly,
   * `immediate` quits without a checkpoint, as after a crash.
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /**
   * The server and every backend stop answering without closing a connection (SIGSTOP), as a
   * hung host, a stalled disk or a partition that drops packets looks to a client; `thaw`
   * (SIGCONT) lets them go on.
   */
  async freeze(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, 'SIGSTOP');
  }

  async thaw(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, 'SIGCONT');
  }

  /**
   * SIGKILL on the server and every backend at once, as when the host loses power or the OOM
   * killer takes the server: no shutdown, connections cut, `postmaster.pid` left behind.
   * `resume` starts it again, and PostgreSQL recovers from its WAL.
   */
  async kill(): Promise<void> {
    const pids = await this.pids();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // Until every process is gone its shared memory is in use and a restart would refuse.
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    const deadline = Date.now() + 10_000;
    while (!pids.every(gone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** The postmaster (first line of postmaster.pid) and its children. */
  private async pids(): Promise<number[]> {
    const postmaster = Number((await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const children = await run('pgrep', ['-P', String(postmaster)]).then(
      ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
      () => [] as number[],
    );
    return [postmaster, ...children];
  }

  /** Stops the server and removes its folder. */
  async remove(): Promise<void> {
    await this.thaw().catch(() => {});
    await this.stop('immediate').catch(() => {});
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
