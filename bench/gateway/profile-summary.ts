/** Top self-time functions of a V8 .cpuprofile (node --cpu-prof), and self time by package. */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export function summariseProfile(file: string, top = 25): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  for (const n of prof.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const short = url
      .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
      .replace(/.*\/work\/main\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${short}${short ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const pkg = url.includes('node_modules/')
      ? (/node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url.slice(url.lastIndexOf('node_modules/')))?.[1] ?? '?')
      : url.startsWith('node:')
        ? 'node:internal'
        : url.includes('/work/main/')
          ? `spl:${url
              .replace(/.*\/work\/main\//, '')
              .split('/')
              .slice(0, 2)
              .join('/')}`
          : `(${n.callFrame.functionName || 'native'})`;
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const fns = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, t]) => `${pct(t)}  ${k}`);
  const pkgs = [...byPkg]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([k, t]) => `${pct(t)}  ${k}`);
  return `top self time (of ${(total / 1e6).toFixed(1)} s sampled):\n${fns.join('\n')}\n\nself time by package:\n${pkgs.join('\n')}`;
}

if (process.argv[1]?.endsWith('profile-summary.ts') && process.argv[2])
  console.log(summariseProfile(process.argv[2], Number(process.argv[3] ?? 30)));
