import { errors } from '../errors.js';

/** A reporting period: [from, to) in UTC, and the label it was asked as. */
export interface ReportPeriod {
  label: string;
  from: Date;
  to: Date;
}

/** `2026` is the calendar year, `2026-03` the month (UTC); the SPBE evaluation is yearly. */
export function parsePeriod(label: string): ReportPeriod {
  const match = /^(\d{4})(?:-(\d{2}))?$/.exec(label);
  const year = Number(match?.[1]);
  const month = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || year < 2000 || (month !== undefined && (month < 1 || month > 12)))
    throw errors.SPL_VALIDATION(`period ${label} is neither a year (2026) nor a month (2026-03)`);
  if (month === undefined)
    return { label, from: new Date(Date.UTC(year, 0, 1)), to: new Date(Date.UTC(year + 1, 0, 1)) };
  return { label, from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}
