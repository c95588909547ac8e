/** Schemas of the operational webhooks' routes (src/api/routes/operational-endpoints.ts). */
import { Type } from 'typebox';

export const OperationalEndpointParams = Type.Object({
  endpointId: Type.String({ minLength: 1, maxLength: 200 }),
});

export const OperationalEventTypeOut = Type.Object({
  name: Type.String(),
  description: Type.String(),
  schema: Type.Record(Type.String(), Type.Unknown(), {
    description: "the JSON Schema of the event's `data`",
  }),
  example: Type.Record(Type.String(), Type.Unknown(), { description: 'an example of its `data`' }),
});
