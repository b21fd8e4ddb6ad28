import type { Availability, Review } from '../routes/spbe/schemas.js';
import { availabilityTotals } from '../sla/availability.js';
import type { Sql } from '../store/database.js';
import type { ReportPeriod } from './period.js';
import { listReviews } from './review-store.js';

/**
 * What the SPBE report is computed from, read from the registry's own store for one period:
 * organisations and the roster, APIs published during the period, granted subscriptions
 * with their traffic, trusted issuers with theirs, and the reviews. Traffic comes from
 * usage_minutes (the gateways' per-minute records, migration 0002).
 *
 * "Traffic" means successful calls: answered 2xx or 3xx. A 4xx may be the gateway refusing
 * a caller (401/403/429), which is no exchange of data; calls of every status are still
 * reported (`calls`) beside it.
 */
export interface SpbeFacts {
  period: ReportPeriod;
  /** The day the 12-month review rule is measured from: the period's end, or now if earlier. */
  asOf: Date;
  organisations: OrganisationFact[];
  apis: ApiFact[];
  subscriptions: SubscriptionFact[];
  issuers: IssuerFact[];
  topics: TopicFact[];
  reviews: Review[];
}

export interface OrganisationFact {
  slug: string;
  name: string;
  kind: string;
  onRoster: boolean;
}

export interface ApiFact {
  org: string;
  api: string;
  name: string;
  slaTarget: number;
  /** Versions published (or deprecated, still served) at some time in the period. */
  versions: string[];
  calls: number;
  successfulCalls: number;
  serverErrors: number;
  availability: Availability;
}

/** A subscription that was granted (approved now, or suspended or revoked since), with its traffic. */
export interface SubscriptionFact {
  consumerOrg: string;
  application: string;
  owner: string;
  api: string;
  version: string;
  state: string;
  calls: number;
  successfulCalls: number;
}

export interface IssuerFact {
  slug: string;
  issuer: string;
  description: string;
  applications: number;
  calls: number;
  successfulCalls: number;
  apis: Array<{ org: string; api: string; calls: number }>;
}

/** An event topic and who receives it, once topics are in the registry. */
export interface TopicFact {
  org: string;
  topic: string;
  name: string;
  /** Organisations with a granted subscription, and the deliveries each received in the period. */
  consumers: Array<{ org: string; deliveries: number }>;
  events: number;
}

const num = (v: unknown): number => Number(v ?? 0);

/** The `version` of the broker's usage records (services/broker/src/usage): its records name a topic, not an API version. */
const EVENT_USAGE_VERSION = 'events';

/**
 * Event topics published in the period (published before it ended, not retired before it
 * began; `topic_transitions`) with their granted subscriptions and the events delivered to
 * each, from the broker's usage records in usage_minutes (`version` = `events`, `api` = the
 * topic slug, `application_id` = the publisher for an accepted event, the subscriber for a
 * delivery). usage_minutes does not keep the records' `kind` and `outcome`, so a 2xx record
 * of a subscribing application counts as a delivery, and any other 2xx record as an
 * accepted event.
 */
export async function loadTopicFacts(db: Sql, period: ReportPeriod): Promise<TopicFact[]> {
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const topics = await db.query<{ id: string; org: string; topic: string; description: string }>(
    `SELECT t.id, o.slug AS org, t.slug AS topic, t.description
       FROM topics t JOIN organisations o ON o.id = t.org_id
      WHERE EXISTS (SELECT 1 FROM topic_transitions x
                     WHERE x.topic_id = t.id AND x.to_state = 'published' AND x.at < $2)
        AND NOT EXISTS (SELECT 1 FROM topic_transitions x
                         WHERE x.topic_id = t.id AND x.to_state = 'retired' AND x.at < $1)
      ORDER BY o.slug, t.slug`,
    [from, to],
  );
  if (topics.length === 0) return [];
  const subscribers = await db.query<{ topic_id: string; application_id: string; org: string }>(
    `SELECT DISTINCT s.topic_id, s.application_id, ao.slug AS org
       FROM topic_subscriptions s JOIN applications a ON a.id = s.application_id
       JOIN organisations ao ON ao.id = a.org_id
      WHERE s.state IN ('approved', 'suspended', 'revoked') AND s.topic_id = ANY($1)`,
    [topics.map((t) => t.id)],
  );
  const traffic = await db.query<{ org: string; api: string; application_id: string; ok: number }>(
    `SELECT org, api, application_id, sum(count) AS ok FROM usage_minutes
      WHERE minute >= $1 AND minute < $2 AND version = $3 AND status_class = '2xx'
      GROUP BY org, api, application_id`,
    [from, to, EVENT_USAGE_VERSION],
  );
  return topics.map((t) => {
    const rows = traffic.filter((u) => u.org === t.org && u.api === t.topic);
    const subs = subscribers.filter((s) => s.topic_id === t.id);
    const deliveriesOf = (org: string) =>
      rows
        .filter((u) => subs.some((s) => s.org === org && s.application_id === u.application_id))
        .reduce((n, u) => n + num(u.ok), 0);
    const subscriberApps = new Set(subs.map((s) => s.application_id));
    return {
      org: t.org,
      topic: t.topic,
      name: t.description || t.topic,
      consumers: [...new Set(subs.map((s) => s.org))]
        .sort()
        .map((org) => ({ org, deliveries: deliveriesOf(org) })),
      events: rows.filter((u) => !subscriberApps.has(u.application_id)).reduce((n, u) => n + num(u.ok), 0),
    };
  });
}

/**
 * Availability of each API against its SLA target (BKS 60(3)(m)) over the period, from the
 * SLA module's stored probes (maintenance windows left out), all versions of the API taken
 * together. An API with no probe in the period reads "not measured", never a number made up
 * from call counts.
 */
export async function measureAvailability(
  db: Sql,
  period: ReportPeriod,
  apis: ReadonlyArray<{ org: string; api: string }>,
): Promise<Map<string, Availability>> {
  const versions = await db.query<{ id: string; org: string; api: string; sla_target: number }>(
    `SELECT v.id, o.slug AS org, a.slug AS api, a.sla_target
       FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id`,
  );
  const wanted = new Set(apis.map((a) => `${a.org}/${a.api}`));
  const mine = versions.filter((v) => wanted.has(`${v.org}/${v.api}`));
  const totals = await availabilityTotals(db, {
    versionIds: mine.map((v) => v.id),
    from: period.from,
    to: period.to,
  });
  const byApi = new Map<string, { probes: number; up: number; target: number }>();
  for (const v of mine) {
    const key = `${v.org}/${v.api}`;
    const t = totals.get(v.id);
    const acc = byApi.get(key) ?? { probes: 0, up: 0, target: Number(v.sla_target) };
    acc.probes += t?.probes ?? 0;
    acc.up += t?.up ?? 0;
    byApi.set(key, acc);
  }
  return new Map(
    apis.map((a): [string, Availability] => {
      const key = `${a.org}/${a.api}`;
      const acc = byApi.get(key);
      if (!acc || acc.probes === 0)
        return [key, { measured: false, note: 'not measured: no health probe of this API in the period' }];
      const percent = (100 * acc.up) / acc.probes;
      return [
        key,
        {
          measured: true,
          percent,
          meetsTarget: percent >= acc.target,
          note: `${acc.up} of ${acc.probes} probes up; target ${acc.target} %`,
        },
      ];
    }),
  );
}

export async function loadSpbeFacts(db: Sql, period: ReportPeriod, now: Date): Promise<SpbeFacts> {
  const from = period.from.toISOString();
  const to = period.to.toISOString();
  const asOf = new Date(Math.min(now.getTime(), period.to.getTime() - 1));

  const organisations = (
    await db.query<{ slug: string; name: string; kind: string; on_roster: boolean }>(
      // An organisation whose kind changed after it was put on the roster no longer counts as a PD.
      `SELECT o.slug, o.name, o.kind, (r.org_id IS NOT NULL AND o.kind = 'perangkat-daerah') AS on_roster
         FROM organisations o LEFT JOIN spbe_roster r ON r.org_id = o.id ORDER BY o.slug`,
    )
  ).map((o) => ({ slug: o.slug, name: o.name, kind: o.kind, onRoster: o.on_roster }));

  // A version counts for the period when it was published before the period ended and not
  // retired before it began (version_transitions records every lifecycle step).
  const versionRows = await db.query<{
    org: string;
    api: string;
    name: string;
    sla_target: number;
    version: string;
  }>(
    `SELECT o.slug AS org, a.slug AS api, a.name, a.sla_target, v.version
       FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
      WHERE EXISTS (SELECT 1 FROM version_transitions t
                     WHERE t.version_id = v.id AND t.to_state = 'published' AND t.at < $2)
        AND NOT EXISTS (SELECT 1 FROM version_transitions t
                         WHERE t.version_id = v.id AND t.to_state = 'retired' AND t.at < $1)
      ORDER BY o.slug, a.slug, v.version`,
    [from, to],
  );
  const traffic = await db.query<{ org: string; api: string; calls: number; ok: number; errs: number }>(
    `SELECT org, api, sum(count) AS calls,
            coalesce(sum(count) FILTER (WHERE status_class IN ('2xx', '3xx')), 0) AS ok,
            coalesce(sum(count) FILTER (WHERE status_class = '5xx'), 0) AS errs
       FROM usage_minutes WHERE minute >= $1 AND minute < $2 AND version <> $3 GROUP BY org, api`,
    [from, to, EVENT_USAGE_VERSION],
  );
  const trafficOf = new Map(traffic.map((t) => [`${t.org}/${t.api}`, t]));
  const apiMap = new Map<string, Omit<ApiFact, 'availability'>>();
  for (const v of versionRows) {
    const key = `${v.org}/${v.api}`;
    let api = apiMap.get(key);
    if (!api) {
      const t = trafficOf.get(key);
      api = {
        org: v.org,
        api: v.api,
        name: v.name,
        slaTarget: Number(v.sla_target),
        versions: [],
        calls: num(t?.calls),
        successfulCalls: num(t?.ok),
        serverErrors: num(t?.errs),
      };
      apiMap.set(key, api);
    }
    api.versions.push(v.version);
  }
  const availability = await measureAvailability(db, period, [...apiMap.values()]);
  const apis = [...apiMap.values()].map((a) => ({
    ...a,
    availability: availability.get(`${a.org}/${a.api}`)!,
  }));

  // Granted subscriptions with the calls their application made to that version. One
  // application may have had several grants of one version over time: counted once.
  const subscriptionRows = await db.query<{
    consumer_org: string;
    application: string;
    owner: string;
    api: string;
    version: string;
    state: string;
    calls: number;
    ok: number;
  }>(
    `SELECT DISTINCT ON (a.id, v.id) ao.slug AS consumer_org, a.slug AS application, po.slug AS owner, p.slug AS api,
            v.version, s.state, coalesce(u.calls, 0) AS calls, coalesce(u.ok, 0) AS ok
       FROM subscriptions s
       JOIN applications a ON a.id = s.application_id JOIN organisations ao ON ao.id = a.org_id
       JOIN api_versions v ON v.id = s.version_id JOIN apis p ON p.id = v.api_id
       JOIN organisations po ON po.id = p.org_id
       LEFT JOIN (SELECT application_id, org, api, version, sum(count) AS calls,
                         coalesce(sum(count) FILTER (WHERE status_class IN ('2xx', '3xx')), 0) AS ok
                    FROM usage_minutes WHERE minute >= $1 AND minute < $2
                   GROUP BY application_id, org, api, version) u
         ON u.application_id = a.id AND u.org = po.slug AND u.api = p.slug AND u.version = v.version
      WHERE s.state IN ('approved', 'suspended', 'revoked')
      ORDER BY a.id, v.id, (s.state = 'approved') DESC, s.updated_at DESC`,
    [from, to],
  );
  const subscriptions = subscriptionRows
    .map((s) => ({
      consumerOrg: s.consumer_org,
      application: s.application,
      owner: s.owner,
      api: s.api,
      version: s.version,
      state: s.state,
      calls: num(s.calls),
      successfulCalls: num(s.ok),
    }))
    .sort((x, y) =>
      `${x.consumerOrg}/${x.application} ${x.owner}/${x.api}/${x.version}`.localeCompare(
        `${y.consumerOrg}/${y.application} ${y.owner}/${y.api}/${y.version}`,
      ),
    );

  const issuerRows = await db.query<{
    slug: string;
    issuer: string;
    description: string;
    applications: number;
  }>(
    `SELECT t.slug, t.issuer, t.description,
            (SELECT count(*) FROM applications a WHERE a.trusted_issuer_id = t.id) AS applications
       FROM trusted_issuers t ORDER BY t.slug`,
  );
  const issuerTraffic = await db.query<{
    issuer: string;
    org: string;
    api: string;
    calls: number;
    ok: number;
  }>(
    `SELECT issuer, org, api, sum(count) AS calls,
            coalesce(sum(count) FILTER (WHERE status_class IN ('2xx', '3xx')), 0) AS ok
       FROM usage_minutes WHERE minute >= $1 AND minute < $2 AND issuer = ANY($3) AND version <> $4
      GROUP BY issuer, org, api ORDER BY issuer, org, api`,
    [from, to, issuerRows.map((i) => i.issuer), EVENT_USAGE_VERSION],
  );
  const issuers = issuerRows.map((i) => {
    const rows = issuerTraffic.filter((t) => t.issuer === i.issuer);
    return {
      slug: i.slug,
      issuer: i.issuer,
      description: i.description,
      applications: num(i.applications),
      calls: rows.reduce((n, r) => n + num(r.calls), 0),
      successfulCalls: rows.reduce((n, r) => n + num(r.ok), 0),
      apis: rows.map((r) => ({ org: r.org, api: r.api, calls: num(r.calls) })),
    };
  });

  return {
    period,
    asOf,
    organisations,
    apis,
    subscriptions,
    issuers,
    topics: await loadTopicFacts(db, period),
    reviews: await listReviews(db),
  };
}
