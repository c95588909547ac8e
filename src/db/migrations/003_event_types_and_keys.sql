-- Event types keep the operator's JSON exactly as written: jsonb would reorder object keys (shortest
-- first), and the example is what the endpoint emulator sends, while schemas are read by people.
-- Nothing queries inside these columns, so plain json loses nothing.
ALTER TABLE event_types
  ALTER COLUMN schema TYPE json USING schema::json,
  ALTER COLUMN example TYPE json USING example::json;
