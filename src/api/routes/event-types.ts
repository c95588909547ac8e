/**
 * `/v1/event-types`: the global catalog of event types. The operator writes it; any valid key reads
 * it (tenants discover what they can subscribe to). A schema must be a valid JSON Schema, and an
 * example must match it.
 */
import { Type } from 'typebox';
import { HeraldError } from '../../core/errors.ts';
import { checkEventTypeDefinition } from '../../event-types/definition.ts';
import {
  decodeNameCursor,
  EVENT_TYPE_NAME_PATTERN,
  encodeNameCursor,
  isEventTypeName,
} from '../../event-types/event-type-name.ts';
import { MAX_SCHEMA_BYTES } from '../../event-types/user-schema.ts';
import {
  createEventType,
  deleteEventType,
  type EventTypeDefinition,
  getEventType,
  listEventTypes,
  updateEventType,
} from '../../store/event-types.ts';
import type { App, AppContext } from '../context.ts';
import { DEFAULT_LIMIT, PageOf, PageQuery } from '../pagination.ts';
import { Timestamp } from '../schemas/common.ts';

const Name = Type.String({
  pattern: EVENT_TYPE_NAME_PATTERN,
  minLength: 1,
  maxLength: 128,
  description: 'e.g. `invoice.created` or `CustomerCreated`',
});
const Description = Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]);
// Checked by compileUserSchema, not here, so that anything wrong with a schema is INVALID_SCHEMA.
const SchemaIn = Type.Unknown({
  description: `a JSON Schema object (draft-07 by default; \`$schema\` may name 2019-09 or 2020-12), at most ${MAX_SCHEMA_BYTES} bytes; null clears`,
});
const ExampleIn = Type.Unknown({ description: 'example data; must match the schema; null clears' });

const EventTypeOut = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  schema: Type.Unknown({ description: 'a JSON Schema object, or null' }),
  example: Type.Unknown({ description: 'example data, or null' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const NameParams = Type.Object({ name: Type.String({ maxLength: 500 }) });

function notFound(name: string): HeraldError {
  return new HeraldError('EVENT_TYPE_NOT_FOUND', `No event type named "${name}"`);
}

/** A definition as the store keeps it, after the checks every write must pass. */
function checked(def: {
  description: string | null;
  schema: unknown;
  example: unknown;
}): EventTypeDefinition {
  checkEventTypeDefinition(def);
  return def as EventTypeDefinition;
}

export function eventTypeRoutes(app: App, ctx: AppContext): void {
  const tags = ['event-types'];
  const write = { access: 'admin' as const };
  const read = { access: 'any' as const };

  app.post(
    '/v1/event-types',
    {
      config: write,
      schema: {
        tags,
        operationId: 'createEventType',
        summary: 'Add an event type to the catalog',
        errors: ['INVALID_SCHEMA', 'DATA_SCHEMA_MISMATCH', 'EVENT_TYPE_EXISTS'],
        body: Type.Object(
          {
            name: Name,
            description: Type.Optional(Description),
            schema: Type.Optional(SchemaIn),
            example: Type.Optional(ExampleIn),
          },
          { additionalProperties: false },
        ),
        response: { 201: EventTypeOut },
      },
    },
    async (req, reply) => {
      const def = checked({
        description: req.body.description ?? null,
        schema: req.body.schema ?? null,
        example: req.body.example ?? null,
      });
      const created = await createEventType(ctx.db, { name: req.body.name, ...def });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/v1/event-types',
    {
      config: read,
      schema: {
        tags,
        operationId: 'listEventTypes',
        summary: 'List the catalog, in name order',
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(EventTypeOut) },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? DEFAULT_LIMIT;
      const after = decodeNameCursor(req.query.cursor);
      const rows = await listEventTypes(ctx.db, { limit: limit + 1, ...(after ? { after } : {}) });
      if (rows.length <= limit) return { data: rows, nextCursor: null };
      const data = rows.slice(0, limit);
      return { data, nextCursor: encodeNameCursor(data[data.length - 1]!.name) };
    },
  );

  app.get(
    '/v1/event-types/:name',
    {
      config: read,
      schema: {
        tags,
        operationId: 'getEventType',
        summary: 'Get an event type',
        params: NameParams,
        errors: ['EVENT_TYPE_NOT_FOUND'],
        response: { 200: EventTypeOut },
      },
    },
    async (req) => {
      if (!isEventTypeName(req.params.name)) throw notFound(req.params.name);
      return getEventType(ctx.db, req.params.name);
    },
  );

  app.patch(
    '/v1/event-types/:name',
    {
      config: write,
      schema: {
        tags,
        operationId: 'updateEventType',
        summary: 'Change an event type (absent: unchanged; null: cleared)',
        errors: ['INVALID_SCHEMA', 'DATA_SCHEMA_MISMATCH', 'EVENT_TYPE_NOT_FOUND'],
        params: NameParams,
        body: Type.Object(
          {
            description: Type.Optional(Description),
            schema: Type.Optional(SchemaIn),
            example: Type.Optional(ExampleIn),
          },
          { additionalProperties: false },
        ),
        response: { 200: EventTypeOut },
      },
    },
    async (req) => {
      const { name } = req.params;
      if (!isEventTypeName(name)) throw notFound(name);
      const patch = req.body;
      // The result as a whole must hold (a new schema must accept the kept example), so read,
      // check and write under the row lock.
      return ctx.db.transaction(async (tx) => {
        const current = await getEventType(tx, name, { forUpdate: true });
        const def = checked({
          description: patch.description === undefined ? current.description : patch.description,
          schema: patch.schema === undefined ? current.schema : patch.schema,
          example: patch.example === undefined ? current.example : patch.example,
        });
        return updateEventType(tx, name, def);
      });
    },
  );

  app.delete(
    '/v1/event-types/:name',
    {
      config: write,
      schema: {
        tags,
        operationId: 'deleteEventType',
        summary: 'Remove an event type from the catalog',
        params: NameParams,
        errors: ['EVENT_TYPE_NOT_FOUND'],
        response: { 204: Type.Null({ description: 'Done: no content' }) },
      },
    },
    async (req, reply) => {
      if (!isEventTypeName(req.params.name)) throw notFound(req.params.name);
      await deleteEventType(ctx.db, req.params.name);
      return reply.code(204).send(null);
    },
  );
}
