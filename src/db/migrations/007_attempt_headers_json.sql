-- An attempt's request and response headers are only ever stored and read back whole, never
-- queried inside. As jsonb every attempt row paid for converting them (parsing into jsonb's binary
-- form, sorting the keys): about a third of the database's work of recording a batch of outcomes.
-- As json the text is only checked, and the headers read back in the order they were sent.
ALTER TABLE attempts
  ALTER COLUMN request_headers TYPE json USING request_headers::json,
  ALTER COLUMN response_headers TYPE json USING response_headers::json;
