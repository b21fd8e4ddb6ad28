import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { CliError } from './errors.js';

export const HUB_API_VERSION = 'spl/v1';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A hub file that cannot be sent: the message names the file and where in it. */
export class HubFileError extends CliError {
  override readonly name = 'HubFileError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON-pointer-like location of a node, for messages: `/apis/0/versions/1`. */
const at = (path: string[]) => `/${path.join('/')}`;

/**
 * Turns the hub YAML into the document POST /v1/apply takes:
 * - every `openapiFile: <path>` (relative to the YAML file's folder) becomes `openapi: <text>`,
 *   and a topic's `schemaFile: <path>` (JSON or YAML) becomes `schema: <object>`; a topic's
 *   inline `schema` is passed on as it is;
 * - every `secretRef: "env:NAME"` becomes `secret: <value of NAME>` — the file itself holds
 *   no secret (issue 2 point 13), so a plaintext `secret` in it is refused.
 * The registry checks everything else against the same schemas as its REST API.
 */
export function resolveHubDocument(
  document: unknown,
  options: { file: string; env: Record<string, string | undefined> },
): Record<string, Json> {
  const fail = (path: string[], message: string): never => {
    throw new HubFileError(`${options.file}: ${path.length ? `${at(path)}: ` : ''}${message}`);
  };
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    fail([], `expected a mapping with apiVersion: ${HUB_API_VERSION}`);
  }
  const apiVersion = (document as Record<string, unknown>).apiVersion;
  if (apiVersion === undefined) fail([], `apiVersion is missing (expected ${HUB_API_VERSION})`);
  if (apiVersion !== HUB_API_VERSION) {
    fail([], `apiVersion ${JSON.stringify(apiVersion)} is not supported (expected ${HUB_API_VERSION})`);
  }
  const baseDir = dirname(resolve(options.file));

  const walk = (node: unknown, path: string[]): Json => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, String(i)]));
    if (!node || typeof node !== 'object') return node as Json;
    const input = node as Record<string, unknown>;
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(input)) {
      const here = [...path, key];
      const isTopic = path.length === 2 && path[0] === 'topics';
      if (isTopic && key === 'schema') {
        // An event schema is data, not hub configuration: a property named `secret` in it is
        // a field of the event, not a plaintext secret, so it is passed on untouched.
        if ('schemaFile' in input) fail(here, 'give either schema or schemaFile, not both');
        out.schema = value as Json;
      } else if (isTopic && key === 'schemaFile') {
        if (typeof value !== 'string' || !value) fail(here, 'must be a file path');
        const target = isAbsolute(value as string) ? (value as string) : resolve(baseDir, value as string);
        try {
          out.schema = parse(readFileSync(target, 'utf8')) as Json;
        } catch (err) {
          fail(
            here,
            `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]}`,
          );
        }
      } else if (key === 'openapiFile') {
        if ('openapi' in input) fail(here, 'give either openapi or openapiFile, not both');
        if (typeof value !== 'string' || !value) fail(here, 'must be a file path');
        const target = isAbsolute(value as string) ? (value as string) : resolve(baseDir, value as string);
        try {
          out.openapi = readFileSync(target, 'utf8');
        } catch (err) {
          fail(
            here,
            `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
      } else if (key === 'secretRef') {
        if ('secret' in input) fail(here, 'give either secret or secretRef, not both');
        const match = typeof value === 'string' ? /^([a-z][a-z0-9+.-]*):(.*)$/.exec(value) : null;
        const scheme = match?.[1];
        const name = match?.[2] ?? '';
        if (!scheme) fail(here, 'must look like "env:NAME"');
        if (scheme !== 'env') fail(here, `secretRef scheme "${scheme}:" is not supported (use env:NAME)`);
        if (!ENV_NAME.test(name)) fail(here, `"${name}" is not an environment variable name`);
        const secret = options.env[name];
        if (!secret)
          fail(here, `environment variable ${name} is not set${secret === '' ? ' (it is empty)' : ''}`);
        out.secret = secret as string;
      } else if (key === 'secret') {
        fail(here, 'the hub file holds no plaintext secret; use secretRef: "env:NAME"');
      } else {
        out[key] = walk(value, here);
      }
    }
    return out;
  };
  return walk(document, []) as Record<string, Json>;
}

/** Reads and resolves a hub YAML file (see resolveHubDocument). */
export function loadHubFile(file: string, env: Record<string, string | undefined>): Record<string, Json> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HubFileError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0];
      throw new HubFileError(
        `${file}${where ? `:${where.line}:${where.col}` : ''}: ${err.code}: ${err.message.split('\n')[0]}`,
      );
    }
    throw err;
  }
  return resolveHubDocument(document, { file, env });
}
