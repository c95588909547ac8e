/**
 * Date-times from requests. The schema's `date-time` format accepts what RFC 3339 allows, which is
 * more than Herald can keep: instants past the year 9999 once their offset is applied
 * (`9999-12-31T23:00:00-05:00`, or `9999-12-31T23:59:60Z`), which ISO 8601 answers cannot spell
 * in four digits, are refused with 400 before anything is written (issue 16: they were stored,
 * then answered 500). A leap second (`…23:59:60Z`), which JavaScript cannot hold, is either rolled
 * over to the next second as PostgreSQL stores it (an event's `occurredAt`) or refused (a query's
 * bounds, where a rolled-over bound would silently move).
 */
import { invalid } from '../core/errors.ts';
import { inIsoYears } from '../core/iso.ts';

const LEAP_SECOND = /:60(?=(\.\d+)?(Z|[+-]\d\d:\d\d)$)/i;

/** The instant `value` names, or VALIDATION_FAILED at `path`. */
export function instant(path: string, value: string, opts: { rollLeapSecond?: boolean } = {}): Date {
  let t = new Date(value).getTime();
  if (Number.isNaN(t) && opts.rollLeapSecond && LEAP_SECOND.test(value)) {
    t = new Date(value.replace(LEAP_SECOND, ':59')).getTime() + 1000;
  }
  if (Number.isNaN(t)) throw invalid(path, 'is not a date-time Herald can use');
  if (!inIsoYears(t)) throw invalid(path, 'must fall within the years 0000 to 9999 (UTC)');
  return new Date(t);
}
