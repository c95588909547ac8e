/**
 * Request validation. Bodies are validated strictly (no type coercion: `"5"` is not a number, and
 * unknown properties are refused by the schemas that say so); querystrings and path params are
 * coerced, since everything in a URL is a string.
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, ...options });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

const strict = makeAjv({ coerceTypes: false, useDefaults: false, removeAdditional: false });
const coercing = makeAjv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** A body validator, as the routes' own (strict: no coercion), for a route that picks its schema. */
export function compileBody(schema: object): ValidateFunction {
  return strict.compile(schema);
}

/** A separate validator for user-supplied JSON Schemas (event types); never shares compiled state. */
export const userSchemaAjv = makeAjv({ coerceTypes: false, useDefaults: false, allErrors: true });
