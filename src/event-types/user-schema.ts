/**
 * Operator-supplied JSON Schemas (event types), treated as untrusted input: capped in size and
 * depth, checked against their meta-schema, then compiled by a throwaway Ajv instance. Never by a
 * shared one: Ajv keeps every schema it compiled (and every `$id`) for the life of the instance, so
 * a shared instance would grow with each compile, and one event type's `$id` could collide with, or
 * be `$ref`-ed by, another's. References resolve only inside the schema itself; nothing is ever
 * fetched, so a `$ref` to a remote URI is refused as INVALID_SCHEMA.
 *
 * Same options as `userSchemaAjv` (src/api/validator.ts): no coercion, no defaults, unknown keywords
 * ignored, all errors reported. `$schema` may name draft-07 (the default), 2019-09 or 2020-12.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { type ErrorDetail, HeraldError } from '../core/errors.ts';

export const MAX_SCHEMA_BYTES = 64 * 1024;
/** JSON nesting (objects and arrays); real schemas stay far below, and deep ones overflow Ajv's stack. */
export const MAX_SCHEMA_DEPTH = 128;
const MAX_DETAILS = 20;

type Draft = 'draft-07' | '2019-09' | '2020-12';

const META_IDS: Record<Draft, string> = {
  'draft-07': 'http://json-schema.org/draft-07/schema',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

function draftOf(schema: Record<string, unknown>): Draft | undefined {
  const declared = schema['$schema'];
  if (declared === undefined) return 'draft-07';
  if (typeof declared !== 'string') return undefined;
  const id = declared.replace(/#$/, '');
  return (Object.keys(META_IDS) as Draft[]).find((d) => META_IDS[d] === id);
}

type AnyAjv = Pick<Ajv, 'compile' | 'getSchema'>;

function makeAjv(draft: Draft, extra: Options = {}): AnyAjv {
  const options: Options = {
    strict: false,
    allErrors: true,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    logger: false,
    ...extra,
  };
  const ajv =
    draft === '2020-12'
      ? new Ajv2020(options)
      : draft === '2019-09'
        ? new Ajv2019(options)
        : new Ajv(options);
  (addFormats as unknown as (a: typeof ajv) => void)(ajv);
  return ajv;
}

// Meta-schema validators are compiled once per draft and shared: validating against them keeps no state.
const metaValidators = new Map<Draft, ValidateFunction>();
function metaValidator(draft: Draft): ValidateFunction {
  let v = metaValidators.get(draft);
  if (!v) {
    v = makeAjv(draft).getSchema(META_IDS[draft]);
    if (!v) throw new Error(`meta-schema ${draft} is missing`);
    metaValidators.set(draft, v);
  }
  return v;
}

/** `/a/0/b` (a JSON pointer) → `.a.0.b`. */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => `.${p.replaceAll('~1', '/').replaceAll('~0', '~')}`)
    .join('');
}

/** Ajv's errors as Herald error details under `path` (`schema`, `data`, `example`, …). */
export function ajvDetails(errors: ErrorObject[] | null | undefined, path: string): ErrorDetail[] {
  return (errors ?? []).slice(0, MAX_DETAILS).map((e) => {
    let at = path + pointerToPath(e.instancePath);
    const extra = e.params?.['additionalProperty'] ?? e.params?.['missingProperty'];
    if (typeof extra === 'string') at += `.${extra}`;
    return { path: at, message: e.message ?? 'is invalid' };
  });
}

function refuse(path: string, message: string, details: ErrorDetail[] = [{ path, message }]): HeraldError {
  return new HeraldError('INVALID_SCHEMA', `${path}: ${message}`, details);
}

/**
 * Walks a schema without recursion: too deep, or holding `$async: true` anywhere (an async
 * validator returns a promise, which is truthy, so every value would pass).
 */
function shapeProblem(schema: object, limit: number): string | undefined {
  const stack: Array<[unknown, number]> = [[schema, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > limit) return `is nested more than ${limit} levels deep`;
    if (!Array.isArray(v) && (v as Record<string, unknown>)['$async'] === true) {
      return 'uses $async, which is not supported';
    }
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return undefined;
}

/**
 * Checks and compiles an operator-supplied JSON Schema, or throws INVALID_SCHEMA with details.
 *
 * @example const validate = compileUserSchema({ type: 'object', required: ['id'] });
 */
export function compileUserSchema(schema: unknown, path = 'schema'): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw refuse(path, 'must be a JSON Schema object');
  }
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_SCHEMA_BYTES) {
    throw refuse(path, `is ${bytes} bytes; a schema may have at most ${MAX_SCHEMA_BYTES} bytes`);
  }
  const problem = shapeProblem(schema, MAX_SCHEMA_DEPTH);
  if (problem) throw refuse(path, problem);
  const record = schema as Record<string, unknown>;
  const draft = draftOf(record);
  if (!draft) {
    throw refuse(`${path}.$schema`, `must be one of ${Object.values(META_IDS).join(', ')} (or absent)`);
  }
  const meta = metaValidator(draft);
  if (!meta(schema)) {
    const details = ajvDetails(meta.errors, path);
    throw refuse(path, details[0]?.message ?? 'is not a valid JSON Schema', details);
  }
  let validate: ValidateFunction;
  try {
    validate = makeAjv(draft, { validateSchema: false }).compile(record);
  } catch (err) {
    // Unresolvable (remote) $ref, a pattern that is not a regular expression, a stack overflow, …
    const message = err instanceof Error ? err.message.slice(0, 500) : 'does not compile';
    throw refuse(path, message);
  }
  return validate;
}

/**
 * Validates `data` with a compiled user schema; answers the refusal details, empty when it matches.
 *
 * @example dataErrors(validate, { id: 1 }, 'example') // [{ path: 'example.id', message: 'must be string' }]
 */
export function dataErrors(validate: ValidateFunction, data: unknown, path: string): ErrorDetail[] {
  try {
    // Strictly true: anything else (a promise from an async schema) is not a pass.
    if (validate(data) === true) return [];
  } catch {
    // A recursive schema over absurdly deep data can overflow the stack: refuse, do not crash.
    return [{ path, message: 'could not be checked against the schema (nested too deeply)' }];
  }
  const details = ajvDetails(validate.errors, path);
  return details.length > 0 ? details : [{ path, message: 'does not match the schema' }];
}
