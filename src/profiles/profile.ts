/**
 * A profile is an endpoint's wire format: it turns a delivery (one event, or a batch) into the exact
 * request body and the headers that carry its identity and signature. Profiles are pure: no I/O, the
 * time comes from the clock, so the bytes are reproducible in tests.
 *
 * The sender adds what is not the profile's business: the endpoint's extra `headers`, its `auth`, and
 * HTTP framing.
 */
import type { Clock } from '../core/clock.ts';
import type { ProfileName } from './profile-names.ts';
import type { ProfileOption } from './profile-option.ts';

/** An event as a profile sees it. `data` is the parsed payload. */
export interface ProfileEvent {
  id: string;
  type: string;
  data: unknown;
  occurredAt: Date | null;
  createdAt: Date;
}

/** The endpoint's signing secrets, decrypted. `previous` only while a rotated-out key is still live. */
export interface EndpointSecrets {
  current: string;
  previous?: string;
}

export interface RenderInput {
  endpoint: {
    id: string;
    /** The endpoint's `profileOptions` (e.g. Courier Invoice's `accountNumber`). */
    options: Record<string, unknown>;
    secrets: EndpointSecrets;
  };
  /** The delivery's per-endpoint sequence number. */
  sequence: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** The delivery's events, in order; most profiles take exactly one. */
  events: readonly ProfileEvent[];
  clock: Clock;
}

export interface RenderedRequest {
  /** The exact bytes to send; signatures are computed over these. */
  body: Buffer | string;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

/**
 * Everything Herald knows of a wire format, in one object: adding a profile is writing one of these
 * (and its name in profile-names.ts, its entry in index.ts, its receiver side in src/verify/schemes.ts:
 * docs/profiles.md, "Adding a profile"). Validation, fan-out, the UI and the CLI read it from here
 * (the UI and the CLI through GET /v1/profiles).
 */
export interface Profile {
  readonly name: ProfileName;
  /** How people call it: the UI's and the CLI's label. */
  readonly label: string;
  /** Lower-case request headers it sets itself, which an endpoint's extra `headers` may not set. */
  readonly ownedHeaders: readonly string[];
  /** The `profileOptions` it understands (any other key is refused). */
  readonly options: Readonly<Record<string, ProfileOption>>;
  /** Auth types an endpoint must have (the wire format carries the credential); absent: any or none. */
  readonly requiredAuth?: readonly string[];
  /** One delivery carries all the events of a publish call, in order (else one per event). */
  readonly batched?: boolean;
  /** Throws when the input cannot be rendered (recorded as a failed attempt, kind `render_error`). */
  render(input: RenderInput): RenderedRequest;
  /** The profile's own retry schedule (seconds to wait before each retry after the first attempt), if it has one. */
  readonly retrySchedule?: readonly number[];
  /** The profile's own timeouts, if it has them. */
  readonly timeouts?: { readonly connectMs: number; readonly totalMs: number };
}
