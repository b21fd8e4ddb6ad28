import { CliError } from './errors.js';

const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export interface ApiRef {
  org: string;
  api: string;
  version?: string;
}

function parts(text: string, what: string, count: number[]): string[] {
  const segments = text.split('/');
  if (!count.includes(segments.length) || segments.some((s) => !SLUG.test(s))) {
    throw new CliError(`"${text}" is not ${what}`);
  }
  return segments;
}

/** `<org>/<api>` or `<org>/<api>/<version>`. */
export function parseApiRef(text: string, version: 'required' | 'optional'): ApiRef {
  const [org, api, v] = parts(
    text,
    version === 'required' ? 'an API version: <org>/<api>/<version>' : 'an API: <org>/<api>[/<version>]',
    version === 'required' ? [3] : [2, 3],
  ) as [string, string, string?];
  return { org, api, ...(v ? { version: v } : {}) };
}

/** `<org>/<app>`. */
export function parseApplicationRef(text: string): { org: string; app: string } {
  const [org, app] = parts(text, 'an application: <org>/<app>', [2]) as [string, string];
  return { org, app };
}

export function formatApiRef(ref: ApiRef): string {
  return ref.version ? `${ref.org}/${ref.api}/${ref.version}` : `${ref.org}/${ref.api}`;
}

/** `<org>/<topic>`. */
export function parseTopicRef(text: string): { org: string; topic: string } {
  const [org, topic] = parts(text, 'a topic: <org>/<topic>', [2]) as [string, string];
  return { org, topic };
}
