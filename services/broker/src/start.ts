import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `pnpm start` in services/broker: the publish API and one delivery worker, as two
 * processes (shared/notes/broker-delivery.md: splitting them halved the p99). Either one
 * exiting stops the other, so a supervisor sees one failure.
 */
const children: ChildProcess[] = [];
let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5_000).unref();
};
for (const entry of ['server.ts', 'worker.ts']) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url))], {
    stdio: 'inherit',
    env: process.env,
  });
  child.on('exit', (code) => {
    stop(code ?? 1);
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(code ?? 1);
  });
  children.push(child);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
