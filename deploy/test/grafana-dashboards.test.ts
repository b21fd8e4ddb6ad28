import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY } from './helpers/tools.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}

const folder = join(DEPLOY, 'grafana', 'dashboards');
/** Grafana's reference to the dashboard's `datasource` variable (Grafana syntax, not a JS template). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax
const DATASOURCE_VARIABLE = '${datasource}';
const dashboards = new Map(
  readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(folder, f), 'utf8')) as Dashboard]),
);

describe('the Grafana dashboards', () => {
  it('are the hub overview, per API, per consumer and broker, each with its own uid', () => {
    expect([...dashboards.values()].map((d) => d.uid).sort()).toEqual([
      'spl-api',
      'spl-broker',
      'spl-consumer',
      'spl-overview',
    ]);
  });

  it('let you pick the organisation, API and version, the consumer application, or the topic', () => {
    const variables = (uid: string) =>
      [...dashboards.values()].find((d) => d.uid === uid)!.templating.list.map((v) => v.name);
    expect(variables('spl-api')).toEqual(['datasource', 'org', 'api', 'version']);
    expect(variables('spl-consumer')).toEqual(['datasource', 'application']);
    expect(variables('spl-broker')).toEqual(['datasource', 'topic']);
  });

  it('query the Prometheus picked in the datasource variable, in panels that fit the grid', () => {
    const problems: string[] = [];
    for (const [file, dashboard] of dashboards) {
      const ids = new Set<number>();
      for (const panel of dashboard.panels) {
        const where = `${file}: ${panel.title}`;
        if (ids.has(panel.id)) problems.push(`${where}: duplicate panel id ${panel.id}`);
        ids.add(panel.id);
        if (panel.gridPos.x + panel.gridPos.w > 24) problems.push(`${where}: wider than the grid`);
        if (panel.type === 'row') continue;
        if (panel.datasource?.uid !== DATASOURCE_VARIABLE) problems.push(`${where}: not on $datasource`);
        if (!panel.targets?.length) problems.push(`${where}: no query`);
        for (const target of panel.targets ?? [])
          if (!target.expr.trim() || target.datasource?.uid !== DATASOURCE_VARIABLE)
            problems.push(`${where} ${target.refId}: empty or not on $datasource`);
      }
    }
    expect(problems).toEqual([]);
  });
});
