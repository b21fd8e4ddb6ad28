/**
 * Matches a request path against an OpenAPI document's path templates (`/penduduk/{nik}`).
 *
 * Built once per document as a segment trie: at each segment a static child is tried before
 * a segment with a template expression mixed with literals (`{name}.{ext}`, a precompiled
 * regex), which is tried before a whole-segment parameter (`{nik}`) — OpenAPI 3.1 §4.8.8
 * "concrete paths are matched before templated ones". Matching backtracks, so `/a/b` can still
 * reach `/a/{x}` when the static branch has no operation for the method (the caller's
 * `accept` decides).
 *
 * Paths are compared as given: no trailing-slash folding, no case folding. A parameter never
 * matches an empty segment. Values are returned still percent-encoded; decoding is the
 * validator's (a `%2F` inside a value must not split segments).
 */

export interface PathMatch<T> {
  value: T;
  /** Raw (percent-encoded) parameter values by name. */
  params: Record<string, string>;
}

interface PatternChild<T> {
  regex: RegExp;
  node: TrieNode<T>;
}

interface TrieNode<T> {
  statics: Map<string, TrieNode<T>>;
  patterns: PatternChild<T>[];
  param: { name: string; node: TrieNode<T> } | undefined;
  values: { value: T; names: string[] }[];
}

export interface PathMatcher<T> {
  /**
   * The first match, trying concrete segments first, for which `accept` (if given) is true;
   * `undefined` when no template matches at all or none is accepted.
   */
  match(path: string, accept?: (value: T) => boolean): PathMatch<T> | undefined;
}

const EXPRESSION = /\{([^{}/]+)\}/g;

function newNode<T>(): TrieNode<T> {
  return { statics: new Map(), patterns: [], param: undefined, values: [] };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the matcher; templates must start with '/'. */
export function buildPathMatcher<T>(
  templates: ReadonlyArray<{ template: string; value: T }>,
): PathMatcher<T> {
  const root = newNode<T>();
  for (const { template, value } of templates) {
    let node = root;
    const names: string[] = [];
    for (const segment of template.split('/').slice(1)) {
      const expressions = [...segment.matchAll(EXPRESSION)];
      if (expressions.length === 0) {
        let next = node.statics.get(segment);
        if (!next) {
          next = newNode();
          node.statics.set(segment, next);
        }
        node = next;
      } else if (expressions.length === 1 && expressions[0]![0] === segment) {
        const name = expressions[0]![1]!;
        // Two templates naming the same position differently (`/a/{id}`, `/a/{key}/b`) share the node;
        // each template keeps its own names list, so the capture order is what matters.
        node.param ??= { name, node: newNode() };
        names.push(name);
        node = node.param.node;
      } else {
        let source = '^';
        let last = 0;
        const segmentNames: string[] = [];
        for (const e of expressions) {
          source += `${escapeRegex(segment.slice(last, e.index))}(.+?)`;
          segmentNames.push(e[1]!);
          last = e.index! + e[0].length;
        }
        source += `${escapeRegex(segment.slice(last))}$`;
        let child = node.patterns.find((p) => p.regex.source === source);
        if (!child) {
          child = { regex: new RegExp(source), node: newNode() };
          node.patterns.push(child);
          // More literal text first: `{name}.tar.gz` before `{name}.{ext}`.
          node.patterns.sort((a, b) => literalLength(b.regex.source) - literalLength(a.regex.source));
        }
        names.push(...segmentNames);
        node = child.node;
      }
    }
    node.values.push({ value, names });
  }

  return {
    match(path, accept) {
      const segments = path.split('/');
      if (segments[0] !== '') return undefined;
      const captured: string[] = [];
      const found = walk(root, segments, 1, captured, accept);
      if (!found) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < found.names.length; i++) params[found.names[i]!] = captured[i]!;
      return { value: found.value, params };
    },
  };
}

function literalLength(source: string): number {
  return source.replaceAll('(.+?)', '').length;
}

function walk<T>(
  node: TrieNode<T>,
  segments: string[],
  index: number,
  captured: string[],
  accept: ((value: T) => boolean) | undefined,
): { value: T; names: string[] } | undefined {
  if (index === segments.length) {
    for (const v of node.values) if (!accept || accept(v.value)) return v;
    return undefined;
  }
  const segment = segments[index]!;
  const child = node.statics.get(segment);
  if (child) {
    const found = walk(child, segments, index + 1, captured, accept);
    if (found) return found;
  }
  if (segment === '') return undefined;
  const depth = captured.length;
  for (const p of node.patterns) {
    const m = p.regex.exec(segment);
    if (!m) continue;
    for (let i = 1; i < m.length; i++) captured.push(m[i]!);
    const found = walk(p.node, segments, index + 1, captured, accept);
    if (found) return found;
    captured.length = depth;
  }
  if (node.param) {
    captured.push(segment);
    const found = walk(node.param.node, segments, index + 1, captured, accept);
    if (found) return found;
    captured.length = depth;
  }
  return undefined;
}
