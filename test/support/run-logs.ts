import { cpSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';

/**
 * The whole test run's service logs, kept for one scan at its end (issue 6 §3: "secrets and
 * `dikecualikan` values never appear in any log line, checked by scanning the logs of the
 * whole test run"). `pnpm test` (scripts/run-tests.ts) sets SPL_TEST_LOG_DIR; then every
 * service a test builds in-process logs at `info` — the production default — to one file per
 * test process, and the hubs run as processes leave their log folders there. Without the
 * variable (a single file run by hand) nothing is written and tests stay silent.
 */
const dir = process.env.SPL_TEST_LOG_DIR || null;
let stream: Writable | null = null;

/** Written synchronously: vitest ends its worker processes without waiting for a buffer. */
function processStream(): Writable | null {
  if (!dir) return null;
  if (!stream) {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, `vitest-${process.pid}.log`), 'a');
    stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        writeSync(fd, chunk);
        callback();
      },
    });
  }
  return stream;
}

/** Fastify logger options writing to this process's run log at `info`, or undefined. */
export function runLogger(): { level: string; stream: NodeJS.WritableStream } | undefined {
  const s = processStream();
  return s ? { level: 'info', stream: s } : undefined;
}

/** This process's run log as a plain stream (e.g. for a pino logger of its own), or undefined. */
export function runLogStream(): NodeJS.WritableStream | undefined {
  return processStream() ?? undefined;
}

/** Copies a folder of service logs (a hub run as processes) into the run's logs, if kept. */
export function keepRunLogs(folder: string, name: string): void {
  if (!dir || !existsSync(folder)) return;
  cpSync(folder, join(dir, `${name}-${basename(folder)}-${process.pid}-${Date.now()}`), { recursive: true });
}

/** Keeps the output a test collected from services it ran (their stdout and stderr), if kept. */
export function keepRunLogText(name: string, text: string): void {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}-${process.pid}-${Date.now()}.log`), text);
}
