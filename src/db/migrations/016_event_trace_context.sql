-- Tracing (src/tracing/): the W3C trace context of the publish call that created an event, so each
-- delivery attempt — made by any worker, minutes or hours later — continues the publish's trace.
-- `traceparent`, then a space and the `tracestate` when there was one (src/tracing/trace-context.ts).
-- NULL unless tracing was on in the publishing process or the call carried a `traceparent` header.
ALTER TABLE events ADD COLUMN trace_context text;

-- An endpoint's opt-in to receive the `traceparent` (and `tracestate`) of each attempt, so its
-- receiver can continue the trace. Off by default: a header the receiver never asked for.
ALTER TABLE endpoints ADD COLUMN forward_traceparent boolean NOT NULL DEFAULT false;

-- Publishing keeps candidate endpoints in memory and hands deliveries over with their settings
-- (migration 014): turning forwarding on or off must make those stale too. A trigger of its own, so
-- 014's stays as it is.
CREATE TRIGGER endpoints_version_on_forward_traceparent
  AFTER UPDATE ON endpoints
  FOR EACH ROW WHEN (OLD.forward_traceparent IS DISTINCT FROM NEW.forward_traceparent)
  EXECUTE FUNCTION herald_bump_endpoints_version();
