/**
 * What the direct handoff (src/queue/handoff.ts) may take, within the dispatcher's free concurrency:
 * deliveries that can start now — within their endpoint's room here (endpoint-slots.ts) and their
 * tenant's room here — and, as a claim does (docs/isolation.md, "Claiming ahead"), deliveries held
 * ahead behind their endpoint's own requests, up to its ahead room. Those wait for the endpoint's
 * requests to finish, so its requests in flight, and its tenant's, do not grow: they take no tenant
 * room. The claim keeps the cluster-wide limits by counting leases; the handoff skips that
 * statement, so it keeps the same limits by this process's own counts (requests in flight per
 * tenant, reservations of publishes still committing). With several workers a tenant or endpoint can
 * then exceed its limit by what the others hold, as concurrent claims can.
 */
import type { HandoffWanted } from '../queue/handoff.ts';

export interface HandoffRoomLimits {
  /** Free requests in flight in the dispatcher, before these reservations. */
  free: number;
  /** How many more requests the endpoint may start here (endpoint-slots.ts). */
  endpointRoom(endpointId: string): number;
  /** How many more deliveries the endpoint may hold here in all, ahead included (at least endpointRoom). */
  endpointAheadRoom(endpointId: string): number;
  /** The endpoint's circuit is open here: its deliveries go through the claim. */
  circuitOpen(endpointId: string): boolean;
}

export interface HandoffRoom {
  /** Marks which of `wanted` to take, and holds their room until `release`. */
  reserve(wanted: readonly HandoffWanted[], limits: HandoffRoomLimits): boolean[];
  /** Reservations ended (the publish committed or failed). */
  release(reserved: readonly HandoffWanted[]): void;
  /** A request of the tenant started or finished in this process. */
  started(tenantId: string): void;
  finished(tenantId: string): void;
  /** Reservations not yet released. */
  readonly reserved: number;
}

function add(counts: Map<string, number>, key: string, n: number): void {
  const v = (counts.get(key) ?? 0) + n;
  if (v <= 0) counts.delete(key);
  else counts.set(key, v);
}

/** @example const room = createHandoffRoom(500); const taken = room.reserve(wanted, limits) */
export function createHandoffRoom(maxInFlightPerTenant: number): HandoffRoom {
  const tenantInFlight = new Map<string, number>();
  const byEndpoint = new Map<string, number>();
  const byTenant = new Map<string, number>();
  let reserved = 0;
  return {
    reserve(wanted, limits) {
      const taken = wanted.map(() => false);
      let free = limits.free;
      for (const [i, w] of wanted.entries()) {
        if (free <= 0) break;
        if (limits.circuitOpen(w.endpointId)) continue;
        const reservedHere = byEndpoint.get(w.endpointId) ?? 0;
        if (limits.endpointRoom(w.endpointId) > reservedHere) {
          // Starts now: its tenant's room too.
          const tenantUsed = (tenantInFlight.get(w.tenantId) ?? 0) + (byTenant.get(w.tenantId) ?? 0);
          if (tenantUsed >= maxInFlightPerTenant) continue;
        } else if (limits.endpointAheadRoom(w.endpointId) <= reservedHere) continue;
        add(byEndpoint, w.endpointId, 1);
        add(byTenant, w.tenantId, 1);
        taken[i] = true;
        free--;
        reserved++;
      }
      return taken;
    },
    release(list) {
      for (const w of list) {
        add(byEndpoint, w.endpointId, -1);
        add(byTenant, w.tenantId, -1);
      }
      reserved -= list.length;
    },
    started(tenantId) {
      add(tenantInFlight, tenantId, 1);
    },
    finished(tenantId) {
      add(tenantInFlight, tenantId, -1);
    },
    get reserved() {
      return reserved;
    },
  };
}
