/**
 * The endpoint payload filter: a small JSON match language over `{type, data, origin}`, described
 * for users in docs/filters.md. A filter is stored on the endpoint and evaluated for every event
 * published to its tenant, so matching is a plain walk with no allocation beyond path splitting,
 * and validation (on write) bounds the work any one filter can cost.
 *
 * @example matchesFilter({ 'data.amount': { $gte: 100 }, type: 'invoice.paid' }, event)
 */
import { type ErrorDetail, HeraldError } from '../core/errors.ts';

export const MAX_FILTER_BYTES = 8 * 1024;
/** How deep `$and` / `$or` / `$not` may nest; the top-level filter is depth 1. */
export const MAX_FILTER_DEPTH = 8;
/**
 * The most comparisons one filter may make per event ({@link filterCost}): every condition counts
 * one, an `$in`/`$nin` one per value. Bytes alone did not bound the work: 8 KB of `$in` zeros is
 * 4,000 comparisons per event (issue 16).
 */
export const MAX_FILTER_COST = 256;

export type Filter = Record<string, unknown>;

/** What a filter sees of an event. An event without an origin has `origin: null`. */
export interface FilterSubject {
  type: string;
  data: unknown;
  origin?: string | null;
}

const FIELD_OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);
const ROOTS = new Set(['type', 'data', 'origin']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object of operators (`{$gt: 5}`), as opposed to a literal object to compare with. */
const isOperatorObject = (v: unknown): v is Record<string, unknown> =>
  isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'));

// ---------------------------------------------------------------- validation

function refuse(path: string, message: string): HeraldError {
  const details: ErrorDetail[] = [{ path, message }];
  return new HeraldError('INVALID_FILTER', `${path}: ${message}`, details);
}

function checkPath(key: string, at: string): void {
  const segments = key.split('.');
  if (segments.some((s) => s === '')) throw refuse(at, 'a path must be dot-separated, non-empty names');
  if (!ROOTS.has(segments[0]!)) throw refuse(at, 'a path must start with "type", "origin" or "data"');
  if (segments[0] !== 'data' && segments.length > 1) throw refuse(at, `"${segments[0]}" has no fields`);
}

function checkCondition(cond: unknown, at: string): void {
  if (!isOperatorObject(cond)) return; // a literal: any JSON value, compared for equality
  for (const [op, operand] of Object.entries(cond)) {
    const here = `${at}.${op}`;
    if (!op.startsWith('$')) throw refuse(here, 'operators and field names cannot be mixed in one object');
    if (!FIELD_OPERATORS.has(op)) throw refuse(here, `unknown operator ${op}`);
    if ((op === '$in' || op === '$nin') && !Array.isArray(operand)) throw refuse(here, 'must be an array');
    if (/^\$(gt|gte|lt|lte)$/.test(op) && typeof operand !== 'number' && typeof operand !== 'string') {
      throw refuse(here, 'must be a number or a string');
    }
    if (op === '$exists' && typeof operand !== 'boolean') throw refuse(here, 'must be true or false');
  }
}

function checkNode(node: unknown, at: string, depth: number): void {
  if (depth > MAX_FILTER_DEPTH) throw refuse(at, `nests $and/$or/$not more than ${MAX_FILTER_DEPTH} deep`);
  if (!isPlainObject(node)) throw refuse(at, 'must be an object');
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        throw refuse(here, 'must be a non-empty array of filters');
      for (const [i, sub] of value.entries()) checkNode(sub, `${here}.${i}`, depth + 1);
    } else if (key === '$not') {
      checkNode(value, here, depth + 1);
    } else if (key.startsWith('$')) {
      throw refuse(here, `unknown operator ${key}`);
    } else {
      checkPath(key, here);
      checkCondition(value, here);
    }
  }
}

/**
 * The most comparisons matching `filter` against one event can make: one per condition (a literal
 * or an operator), one per value of an `$in`/`$nin`. Expects a filter validateFilter accepted; a
 * stored filter from before the bound still answers its true cost.
 */
export function filterCost(filter: Filter | null | undefined): number {
  if (!filter) return 0;
  let cost = 0;
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      for (const sub of value as Filter[]) cost += filterCost(sub);
    } else if (key === '$not') {
      cost += filterCost(value as Filter);
    } else if (isOperatorObject(value)) {
      for (const [op, operand] of Object.entries(value)) {
        cost += (op === '$in' || op === '$nin') && Array.isArray(operand) ? Math.max(1, operand.length) : 1;
      }
    } else {
      cost += 1;
    }
  }
  return cost;
}

/**
 * Throws INVALID_FILTER (400, with the offending path in details) unless `filter` is a valid filter.
 *
 * @example validateFilter({ 'data.status': { $in: ['paid', 'void'] } })
 */
export function validateFilter(filter: unknown): asserts filter is Filter {
  if (!isPlainObject(filter)) throw refuse('filter', 'must be an object');
  const bytes = Buffer.byteLength(JSON.stringify(filter));
  if (bytes > MAX_FILTER_BYTES) {
    throw refuse('filter', `is ${bytes} bytes; a filter may have at most ${MAX_FILTER_BYTES}`);
  }
  checkNode(filter, 'filter', 1);
  const cost = filterCost(filter);
  if (cost > MAX_FILTER_COST) {
    throw refuse(
      'filter',
      `makes up to ${cost} comparisons per event (each condition one, each $in/$nin value one); at most ${MAX_FILTER_COST}`,
    );
  }
}

// ---------------------------------------------------------------- matching

/** Deep equality of JSON values; object key order does not matter, array order does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

const MISSING = Symbol('missing');

/** The value at a dotted path, or MISSING. Own properties only: `__proto__` is just a name. */
function resolve(subject: FilterSubject, path: string): unknown {
  const segments = path.split('.');
  let value: unknown =
    segments[0] === 'type'
      ? subject.type
      : segments[0] === 'origin'
        ? (subject.origin ?? null)
        : subject.data;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (Array.isArray(value) && /^(0|[1-9][0-9]*)$/.test(s)) {
      const index = Number(s);
      if (index >= value.length) return MISSING;
      value = value[index];
    } else if (isPlainObject(value) && Object.hasOwn(value, s)) {
      value = value[s];
    } else {
      return MISSING;
    }
  }
  return value === undefined ? MISSING : value;
}

/** Order of two numbers or two strings; undefined when they are not comparable. */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function applyOperator(op: string, operand: unknown, value: unknown): boolean {
  const found = value !== MISSING;
  switch (op) {
    case '$eq':
      return found && jsonEqual(value, operand);
    case '$ne':
      return !(found && jsonEqual(value, operand));
    case '$in':
      return found && (operand as unknown[]).some((x) => jsonEqual(value, x));
    case '$nin':
      return !(found && (operand as unknown[]).some((x) => jsonEqual(value, x)));
    case '$exists':
      return found === operand;
    default: {
      const o = found ? order(value, operand) : undefined;
      if (o === undefined) return false;
      if (op === '$gt') return o > 0;
      if (op === '$gte') return o >= 0;
      if (op === '$lt') return o < 0;
      if (op === '$lte') return o <= 0;
      return false; // unknown operators never pass a filter validateFilter refused
    }
  }
}

function matchesNode(node: Filter, subject: FilterSubject): boolean {
  for (const [key, cond] of Object.entries(node)) {
    let ok: boolean;
    if (key === '$and') ok = (cond as Filter[]).every((f) => matchesNode(f, subject));
    else if (key === '$or') ok = (cond as Filter[]).some((f) => matchesNode(f, subject));
    else if (key === '$not') ok = !matchesNode(cond as Filter, subject);
    else {
      const value = resolve(subject, key);
      ok = isOperatorObject(cond)
        ? Object.entries(cond).every(([op, operand]) => applyOperator(op, operand, value))
        : value !== MISSING && jsonEqual(value, cond);
    }
    if (!ok) return false;
  }
  return true;
}

/**
 * Whether the event passes the filter; no filter (null/undefined) passes everything. Expects a
 * filter that validateFilter accepted.
 *
 * @example matchesFilter({ origin: { $ne: 'import' } }, { type: 'a', data: {}, origin: null }) // true
 */
export function matchesFilter(filter: Filter | null | undefined, subject: FilterSubject): boolean {
  if (filter === null || filter === undefined) return true;
  return matchesNode(filter, subject);
}
