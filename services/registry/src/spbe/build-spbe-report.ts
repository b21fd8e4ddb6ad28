import type {
  BusApi,
  CoverageRow,
  CoverageStatus,
  MapEdge,
  MapNode,
  SpbeReport,
} from '../routes/spbe/schemas.js';
import type { Sql } from '../store/database.js';
import { computeMaturity } from './maturity-level.js';
import type { ReportPeriod } from './period.js';
import { loadSpbeFacts, type SpbeFacts } from './spbe-facts.js';

export const INDICATOR =
  'Permen PANRB 59/2020, Indikator 18: Tingkat Kematangan Penggunaan Sistem Penghubung Layanan';

function statusOf(publishes: boolean, consumes: boolean): CoverageStatus {
  if (publishes && consumes) return 'both';
  if (publishes) return 'publishes';
  if (consumes) return 'consumes';
  return 'neither';
}

/** Coverage of every organisation: the roster's PDs first, then the others, each by slug. */
export function computeCoverage(facts: SpbeFacts): CoverageRow[] {
  const rows = facts.organisations.map((o) => {
    const publishedApis = facts.apis.filter((a) => a.org === o.slug).length;
    const publishedTopics = facts.topics.filter((t) => t.org === o.slug).length;
    const usedSubscriptions = facts.subscriptions.filter(
      (s) => s.consumerOrg === o.slug && s.successfulCalls > 0,
    );
    const usedTopics = facts.topics.filter((t) =>
      t.consumers.some((c) => c.org === o.slug && c.deliveries > 0),
    );
    const consumed = usedSubscriptions.length + usedTopics.length;
    return {
      org: o.slug,
      name: o.name,
      kind: o.kind,
      onRoster: o.onRoster,
      status: statusOf(publishedApis + publishedTopics > 0, consumed > 0),
      publishedApis,
      publishedTopics,
      consumedSubscriptions: consumed,
      callsMade: usedSubscriptions.reduce((n, s) => n + s.successfulCalls, 0),
      callsServed: facts.apis.filter((a) => a.org === o.slug).reduce((n, a) => n + a.calls, 0),
    };
  });
  return rows.sort((a, b) => Number(b.onRoster) - Number(a.onRoster) || a.org.localeCompare(b.org));
}

/** The APIs (and topics) using the bus in the period, with their consumers and traffic. */
export function listBusApis(facts: SpbeFacts): BusApi[] {
  const apis: BusApi[] = facts.apis.map((a) => ({
    org: a.org,
    api: a.api,
    name: a.name,
    kind: 'api',
    versions: a.versions,
    consumers: [
      ...new Set(
        facts.subscriptions.filter((s) => s.owner === a.org && s.api === a.api).map((s) => s.consumerOrg),
      ),
    ].sort(),
    calls: a.calls,
    successfulCalls: a.successfulCalls,
    errorRate: a.calls > 0 ? a.serverErrors / a.calls : null,
    slaTarget: a.slaTarget,
    availability: a.availability,
  }));
  const topics: BusApi[] = facts.topics.map((t) => ({
    org: t.org,
    api: t.topic,
    name: t.name,
    kind: 'topic',
    versions: [],
    consumers: t.consumers.map((c) => c.org).sort(),
    calls: t.events,
    successfulCalls: t.events,
    errorRate: null,
    slaTarget: 0,
    availability: { measured: false, note: 'not measured' },
  }));
  return [...apis, ...topics];
}

/**
 * The integration map as data: every organisation and trusted issuer a node; an edge from
 * an owner to each consumer organisation (its APIs and topics between the two, their
 * calls), and from each federated issuer to the owners it called.
 */
export function buildIntegrationGraph(
  facts: SpbeFacts,
  coverage: CoverageRow[],
): { nodes: MapNode[]; edges: MapEdge[] } {
  const statusOfOrg = new Map(coverage.map((c) => [c.org, c.status]));
  const nodes: MapNode[] = facts.organisations.map((o) => ({
    id: o.slug,
    label: o.name,
    kind: o.kind,
    status: statusOfOrg.get(o.slug) ?? 'neither',
    onRoster: o.onRoster,
  }));
  for (const i of facts.issuers)
    nodes.push({
      id: `issuer:${i.slug}`,
      label: i.description || i.issuer,
      kind: 'trusted-issuer',
      onRoster: false,
    });

  const edges = new Map<string, MapEdge>();
  const add = (from: string, to: string, kind: MapEdge['kind'], api: string, calls: number) => {
    const key = `${kind} ${from} ${to}`;
    let edge = edges.get(key);
    if (!edge) {
      edge = { from, to, kind, apis: [], calls: 0 };
      edges.set(key, edge);
    }
    if (!edge.apis.includes(api)) edge.apis.push(api);
    edge.calls += calls;
  };
  const published = new Set(facts.apis.map((a) => `${a.org}/${a.api}`));
  for (const s of facts.subscriptions) {
    if (!published.has(`${s.owner}/${s.api}`)) continue;
    add(s.owner, s.consumerOrg, 'api', s.api, s.successfulCalls);
  }
  for (const t of facts.topics)
    for (const c of t.consumers) add(t.org, c.org, 'topic', t.topic, c.deliveries);
  for (const i of facts.issuers)
    for (const a of i.apis) add(`issuer:${i.slug}`, a.org, 'federation', a.api, a.calls);
  return { nodes, edges: [...edges.values()] };
}

/** The SPBE report of a period (issue 7): level with reasons, coverage, APIs, federation, reviews, map. */
export async function buildSpbeReport(db: Sql, period: ReportPeriod, now: Date): Promise<SpbeReport> {
  const facts = await loadSpbeFacts(db, period, now);
  const coverage = computeCoverage(facts);
  const { level, levels } = computeMaturity({
    coverage,
    issuers: facts.issuers,
    reviews: facts.reviews,
    asOf: facts.asOf,
    hub: { organisations: facts.organisations.length, apis: facts.apis.length },
  });
  const roster = coverage.filter((c) => c.onRoster);
  const count = (s: CoverageStatus) => roster.filter((c) => c.status === s).length;
  return {
    indicator: INDICATOR,
    period: {
      label: period.label,
      from: period.from.toISOString(),
      to: period.to.toISOString(),
      asOf: facts.asOf.toISOString(),
    },
    generatedAt: now.toISOString(),
    level,
    levels,
    coverage: {
      rosterSize: roster.length,
      both: count('both'),
      publishes: count('publishes'),
      consumes: count('consumes'),
      neither: count('neither'),
      items: coverage,
    },
    apis: listBusApis(facts),
    federation: facts.issuers.map((i) => ({ ...i })),
    reviews: facts.reviews,
    map: buildIntegrationGraph(facts, coverage),
  };
}
