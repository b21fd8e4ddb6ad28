/**
 * `pnpm audit:deps`: what the dependency tree looks like against the advisory database and
 * against the latest releases (issue 6 §6; BKS 60(4) current patches, 60(3)(n) no
 * exploitable vulnerabilities). Needs a machine that reaches the npm registry's advisory
 * service, so it is not part of `pnpm test`.
 *
 * 1. `pnpm audit --prod`: advisories in what ships (dev tools excluded); a finding of
 *    severity moderate or above fails the command.
 * 2. `pnpm outdated --recursive`: releases newer than the lockfile, per workspace package;
 *    informative (its exit code is ignored), so a minor bump is a decision, not a red build.
 * 3. The running Node against `engines.node` of the root package.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const run = (args: string[]) => spawnSync('pnpm', args, { stdio: 'inherit' }).status ?? 1;

process.stdout.write('━━ pnpm audit --prod --audit-level moderate\n');
const audit = run(['audit', '--prod', '--audit-level', 'moderate']);

process.stdout.write('\n━━ pnpm outdated --recursive (informative)\n');
run(['outdated', '--recursive']);

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const [wantMajor, wantMinor] = engines.node.replace(/^>=/, '').split('.').map(Number) as [number, number];
const nodeOk = major > wantMajor || (major === wantMajor && minor >= wantMinor);
process.stdout.write(
  `\n━━ node ${process.versions.node} against engines.node ${engines.node}: ${nodeOk ? 'ok' : 'TOO OLD'}\n`,
);

process.exit(audit !== 0 || !nodeOk ? 1 : 0);
