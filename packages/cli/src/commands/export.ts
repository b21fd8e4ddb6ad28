import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { type CliContext, callRegistry } from '../context.js';

const HEADER = [
  '# SPL hub content, written by `spl export`; load it with `spl apply -f <file>`.',
  '# It holds no secret: add `secretRef: "env:NAME"` where a client or upstream needs one.',
].join('\n');

/** The registry's current content as hub YAML (the registry leaves every secret out). */
export async function exportHub(ctx: CliContext): Promise<string> {
  const document = await callRegistry(ctx, ctx.client.GET('/v1/export'));
  return `${HEADER}\n${stringify(document, { lineWidth: 0 })}`;
}

/** `spl export [-o file]`: to the file, or stdout. */
export async function exportHubTo(ctx: CliContext, options: { output?: string }): Promise<void> {
  const yaml = await exportHub(ctx);
  if (!options.output) {
    ctx.io.out(yaml.trimEnd());
    return;
  }
  writeFileSync(resolve(ctx.cwd, options.output), yaml);
  ctx.io.err(`exported to ${options.output}`);
}
