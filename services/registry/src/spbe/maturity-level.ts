import type { CoverageRow, LevelCheck, Review } from '../routes/spbe/schemas.js';
import type { IssuerFact } from './spbe-facts.js';

/**
 * Indikator 18 of Permen PANRB 59/2020, "Tingkat Kematangan Penggunaan Sistem Penghubung
 * Layanan", as the regions publish its levels (issue 7; docs/spbe.md):
 * 1. an SPL exists;
 * 2. the SPL is used by some PDs;
 * 3. the SPL is used by all PDs;
 * 4. the SPL is integrated with the national SPLP and/or other governments' SPLs, and is
 *    reviewed and evaluated periodically;
 * 5. the results of those reviews are followed up with improvements.
 * Levels are cumulative: a level is met when its own condition holds and the level below is
 * met. Each level says why, whether met or missed, so the evaluator sees the evidence.
 */
export const LEVEL_TITLES = [
  'SPL tersedia (the hub exists)',
  'SPL digunakan oleh sebagian PD (used by some Perangkat Daerah)',
  'SPL digunakan oleh seluruh PD (used by every Perangkat Daerah on the roster)',
  'SPL terintegrasi dengan SPLP/SPL lain dan direviu berkala (federated, and reviewed within 12 months)',
  'Hasil reviu ditindaklanjuti (every finding of the latest review has an improvement action)',
] as const;

export interface MaturityInput {
  /** Coverage of every organisation; only rows with `onRoster` count for levels 2 and 3. */
  coverage: CoverageRow[];
  issuers: IssuerFact[];
  /** Every review; those dated after `asOf` are ignored. */
  reviews: Review[];
  asOf: Date;
  /** For level 1's reason: what the hub holds. */
  hub: { organisations: number; apis: number };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const list = (xs: string[], max = 10) =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;

/** The day twelve months before `asOf` (YYYY-MM-DD); a review on or after it is recent. */
function twelveMonthsBefore(asOf: Date): string {
  const d = new Date(asOf);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export function computeMaturity(input: MaturityInput): { level: number; levels: LevelCheck[] } {
  const roster = input.coverage.filter((c) => c.onRoster);
  const using = roster.filter((c) => c.status !== 'neither');
  const idle = roster.filter((c) => c.status === 'neither');
  const asOfDay = input.asOf.toISOString().slice(0, 10);
  const reviews = input.reviews
    .filter((r) => r.reviewedOn <= asOfDay)
    .sort((a, b) => b.reviewedOn.localeCompare(a.reviewedOn) || a.slug.localeCompare(b.slug));
  const latest = reviews[0];
  const since = twelveMonthsBefore(input.asOf);

  const own: Array<{ met: boolean; reasons: string[] }> = [];

  own.push({
    met: true,
    reasons: [
      `the hub is in operation: it holds ${plural(input.hub.organisations, 'organisation')} and ${plural(input.hub.apis, 'API')} published in the period`,
    ],
  });

  if (roster.length === 0)
    own.push({
      met: false,
      reasons: [
        'no roster of Perangkat Daerah is declared, so use by PDs cannot be measured (PUT /v1/spbe/roster)',
      ],
    });
  else
    own.push({
      met: using.length > 0,
      reasons: [
        using.length > 0
          ? `${using.length} of ${roster.length} Perangkat Daerah on the roster publish or consume through the hub in the period: ${list(using.map((c) => c.org))}`
          : `none of the ${roster.length} Perangkat Daerah on the roster published or consumed through the hub in the period`,
      ],
    });

  own.push({
    met: roster.length > 0 && idle.length === 0,
    reasons: [
      roster.length === 0
        ? 'no roster of Perangkat Daerah is declared'
        : idle.length === 0
          ? `all ${roster.length} Perangkat Daerah on the roster publish or consume through the hub in the period`
          : `${idle.length} of ${roster.length} Perangkat Daerah on the roster neither publish nor consume in the period: ${list(idle.map((c) => c.org))}`,
    ],
  });

  const federated = input.issuers.filter((i) => i.successfulCalls > 0);
  const recent = reviews.filter((r) => r.reviewedOn >= since);
  own.push({
    met: federated.length > 0 && recent.length > 0,
    reasons: [
      federated.length > 0
        ? `federation traffic in the period from ${list(federated.map((i) => `${i.slug} (${i.successfulCalls} calls)`))}`
        : input.issuers.length === 0
          ? 'no federation: no trusted issuer (national SPLP or another region) is connected'
          : `no federation traffic in the period from the ${input.issuers.length} connected issuers: ${list(input.issuers.map((i) => i.slug))}`,
      recent.length > 0
        ? `reviewed within the 12 months to ${asOfDay}: ${list(recent.map((r) => `${r.slug} on ${r.reviewedOn}`))}`
        : latest
          ? `no review within the 12 months to ${asOfDay} (since ${since}); the latest is ${latest.slug} on ${latest.reviewedOn}`
          : 'no review of the hub is recorded',
    ],
  });

  if (!latest) own.push({ met: false, reasons: ['no review is recorded, so there is nothing followed up'] });
  else {
    const open = latest.findings.filter((f) => f.actions.length === 0);
    own.push({
      met: open.length === 0,
      reasons: [
        open.length > 0
          ? `${open.length} of ${latest.findings.length} findings of the latest review ${latest.slug} (${latest.reviewedOn}) have no improvement action: ${list(open.map((f) => f.code))}`
          : latest.findings.length === 0
            ? `the latest review ${latest.slug} (${latest.reviewedOn}) recorded no findings, so none waits for an improvement action`
            : `every one of the ${latest.findings.length} findings of the latest review ${latest.slug} (${latest.reviewedOn}) has an improvement action (${latest.findings.flatMap((f) => f.actions).filter((a) => a.status === 'done').length} of ${latest.findings.flatMap((f) => f.actions).length} done)`,
      ],
    });
  }

  const levels: LevelCheck[] = [];
  let reached = 0;
  own.forEach((check, i) => {
    const below = i === 0 || levels[i - 1]!.met;
    const met = check.met && below;
    if (met) reached = i + 1;
    levels.push({
      level: i + 1,
      title: LEVEL_TITLES[i]!,
      met,
      reasons: below ? check.reasons : [...check.reasons, `level ${i} is not met`],
    });
  });
  return { level: reached, levels };
}
