import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEPLOY = join(ROOT, 'deploy');

const INSTALL_HINT = 'install the ops tools with `sudo sh scripts/install-ops-tools.sh`';

/** Where `command` is on PATH (or the Debian location), or undefined. */
export function findTool(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The path of a tool the deploy tests cannot do without; throws, naming the Debian package
 * and the install script, when it is missing, so the test fails saying how to fix it.
 */
export function requireTool(command: string, debianPackage: string): string {
  const path = findTool(command);
  if (path === undefined)
    throw new Error(`${command} not found: ${INSTALL_HINT} (Debian package ${debianPackage})`);
  return path;
}

export interface RunResult {
  status: number;
  output: string;
}

/** Runs a tool to completion; stdout and stderr together, and the exit status. */
export function run(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string } = {},
): RunResult {
  try {
    const stdout = execFileSync(command, args, {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
    return { status: 0, output: stdout };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failed.status ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
