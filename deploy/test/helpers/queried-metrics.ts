import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEPLOY } from './tools.js';

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Not a parser: it drops what cannot be a metric
 * name (strings, label matchers, ranges, label lists, Grafana variables, function names) and
 * keeps the identifiers left. Enough for the expressions in deploy/; the test beside it pins it.
 */
export function metricNamesOf(expr: string): string[] {
  const names = new Set<string>();
  // Grafana's label_values(metric{…}, label): only the first argument is a metric.
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(expr);
  if (labelValues) return [labelValues[1]!];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)/g)) {
    const name = match[1]!;
    const rest = stripped.slice(match.index + name.length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** A label matcher on a metric: `name="value"`, `name=~"regex"`, … as written. */
export interface LabelMatcher {
  metric: string;
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The label matchers written on metric selectors (`metric{label="value", …}`). */
export function labelMatchersOf(expr: string): LabelMatcher[] {
  const matchers: LabelMatcher[] = [];
  for (const selector of expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    const metric = selector[1]!;
    for (const m of selector[2]!.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g))
      matchers.push({ metric, label: m[1]!, op: m[2] as LabelMatcher['op'], value: m[3]! });
  }
  return matchers;
}

export interface QueriedMetric {
  metric: string;
  /** Where it is queried: `dashboard <file>: <panel>` or `alert <name>`. */
  where: string;
  /** The matchers written on this metric in that query. */
  matchers: LabelMatcher[];
}

interface DashboardPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}
interface Dashboard {
  panels?: DashboardPanel[];
  templating?: { list?: { name: string; query?: string | { query?: string } }[] };
}

/** Every metric that a dashboard in deploy/grafana/dashboards or an alert rule queries. */
export function queriedMetrics(): QueriedMetric[] {
  const found: QueriedMetric[] = [];
  const add = (expr: string, where: string) => {
    const matchers = labelMatchersOf(expr);
    for (const metric of metricNamesOf(expr))
      found.push({ metric, where, matchers: matchers.filter((m) => m.metric === metric) });
  };
  const dashboards = join(DEPLOY, 'grafana', 'dashboards');
  for (const file of readdirSync(dashboards).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dashboards, file), 'utf8')) as Dashboard;
    const walk = (panels: DashboardPanel[] | undefined) => {
      for (const panel of panels ?? []) {
        for (const target of panel.targets ?? [])
          if (target.expr) add(target.expr, `dashboard ${file}: ${panel.title}`);
        walk(panel.panels);
      }
    };
    walk(dashboard.panels);
    for (const variable of dashboard.templating?.list ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      if (query && /label_values|query_result/.test(query))
        add(query, `dashboard ${file}: variable ${variable.name}`);
    }
  }
  const rules = parse(readFileSync(join(DEPLOY, 'prometheus', 'rules', 'spl-alerts.yml'), 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  for (const group of rules.groups)
    for (const rule of group.rules) add(rule.expr, `alert ${rule.alert ?? rule.record}`);
  return found;
}

/** The sample names in a Prometheus text exposition (histogram `_bucket` lines included). */
export function exportedNames(exposition: string): Set<string> {
  return new Set(exportedSeries(exposition).keys());
}

/** Sample name → the label sets of its samples, from a Prometheus text exposition. */
export function exportedSeries(exposition: string): Map<string, Record<string, string>[]> {
  const series = new Map<string, Record<string, string>[]>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0];
    if (!name) continue;
    const labels: Record<string, string> = {};
    const block = /^[^{ ]*\{(.*)\}\s/.exec(line)?.[1] ?? '';
    for (const m of block.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    const list = series.get(name) ?? [];
    list.push(labels);
    series.set(name, list);
  }
  return series;
}
