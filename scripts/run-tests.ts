/**
 * `pnpm test`: lint, typecheck, every test, then a scan of every log line the tests' services
 * wrote for credentials and restricted values (scripts/scan-test-logs.ts), in that order.
 * Every step runs even when one before it fails, so one run shows everything that is wrong;
 * the exit code is non-zero if any step failed. Ends with a table of how long each step took.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The services the tests run write their logs here (test/support/run-logs.ts); scanned last.
const logDir = mkdtempSync(join(tmpdir(), 'spl-test-logs-'));

interface Step {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const STEPS: Step[] = [
  { name: 'lint (biome)', command: 'pnpm', args: ['exec', 'biome', 'check', '.'] },
  { name: 'typecheck (tsc)', command: 'pnpm', args: ['exec', 'tsc', '-p', 'tsconfig.json'] },
  {
    name: 'tests (vitest)',
    command: 'pnpm',
    args: ['exec', 'vitest', 'run', '--config', 'vitest.config.ts'],
    env: { SPL_TEST_LOG_DIR: logDir },
  },
  {
    name: 'log scan (whole run)',
    command: 'pnpm',
    args: ['exec', 'tsx', 'scripts/scan-test-logs.ts', logDir],
  },
];

interface Outcome {
  name: string;
  exitCode: number;
  seconds: number;
}

function runStep(step: Step): Promise<Outcome> {
  const started = performance.now();
  process.stdout.write(`\n━━ ${step.name}: ${step.command} ${step.args.join(' ')}\n\n`);
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
    });
    const finish = (exitCode: number) =>
      resolve({ name: step.name, exitCode, seconds: (performance.now() - started) / 1000 });
    child.on('error', (err) => {
      process.stderr.write(`${step.name}: could not start ${step.command}: ${err.message}\n`);
      finish(127);
    });
    // A step killed by a signal has no exit code; count it as failed.
    child.on('close', (code) => finish(code ?? 1));
  });
}

function printSummary(outcomes: Outcome[]): void {
  const width = Math.max(...outcomes.map((o) => o.name.length), 'total'.length);
  const row = (name: string, result: string, seconds: number) =>
    `  ${name.padEnd(width)}  ${result.padEnd(8)}  ${seconds.toFixed(1).padStart(7)} s`;
  const lines = outcomes.map((o) => row(o.name, o.exitCode === 0 ? 'ok' : `FAIL(${o.exitCode})`, o.seconds));
  const total = outcomes.reduce((sum, o) => sum + o.seconds, 0);
  process.stdout.write(`\n━━ summary\n\n${lines.join('\n')}\n${row('total', '', total)}\n\n`);
}

const outcomes: Outcome[] = [];
for (const step of STEPS) outcomes.push(await runStep(step));
printSummary(outcomes);

const failed = outcomes.filter((o) => o.exitCode !== 0);
if (failed.length) process.stdout.write(`failed: ${failed.map((o) => o.name).join(', ')}\n`);
// The logs are kept when a step failed, to be looked at; otherwise removed.
if (failed.length) process.stdout.write(`service logs of this run: ${logDir}\n`);
else rmSync(logDir, { recursive: true, force: true });
process.exitCode = failed.length ? 1 : 0;
