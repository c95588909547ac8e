/**
 * The rule an event type's definition must keep on every write: a schema that is a valid JSON
 * Schema, and an example that matches it when both are present.
 */
import { HeraldError, invalid } from '../core/errors.ts';
import { compileUserSchema, dataErrors } from './user-schema.ts';

/**
 * The path of a number JSON cannot carry (`1e400` parses to Infinity and would be stored as null),
 * or undefined. Walked without recursion.
 */
function nonFiniteNumberAt(value: unknown, path: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return at;
    if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) stack.push([child, `${at}.${k}`]);
    }
  }
  return undefined;
}

/**
 * Throws INVALID_SCHEMA, DATA_SCHEMA_MISMATCH or VALIDATION_FAILED (all 400, with details) if the
 * pair is not acceptable.
 *
 * @example checkEventTypeDefinition({ schema: { type: 'object' }, example: { id: 1 } })
 */
export function checkEventTypeDefinition(def: { schema: unknown; example: unknown }): void {
  for (const [field, value] of [
    ['schema', def.schema],
    ['example', def.example],
  ] as const) {
    const at = nonFiniteNumberAt(value, field);
    if (at) throw invalid(at, 'is a number out of range');
  }
  if (def.schema === null || def.schema === undefined) return;
  const validate = compileUserSchema(def.schema);
  if (def.example === null || def.example === undefined) return;
  const details = dataErrors(validate, def.example, 'example');
  if (details.length > 0) {
    throw new HeraldError(
      'DATA_SCHEMA_MISMATCH',
      `The example does not match the schema: ${details[0]!.path} ${details[0]!.message}`,
      details,
    );
  }
}
