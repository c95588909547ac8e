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
 *
 * Past the ahead room, a fast endpoint's deliveries may still be held **behind** (`heldBehind` on the
 * reservation): in its backlog line, as many as its requests finish in a few seconds
 * (endpoint-pace.ts), within a budget of their own (`behindFree`). Left to the queue, each would be
 * claimed later: a claim statement's share and an UPDATE of the row and every index of it, for
 * what is already in memory here. They take neither the dispatcher's free room nor the tenant's,
 * so an endpoint with a deep backlog here starves no other (those go through the claim, at worst);
 * the tenant's limit still holds when they start (endpoint-slots.ts, `tenantRoom`).
 */
import type { HandoffWanted } from '../queue/handoff.ts';

export interface HandoffRoomLimits {
  /** Free requests in flight in the dispatcher, before these reservations. */
  free: number;
  /** How many more requests the endpoint may start here (endpoint-slots.ts). */
  endpointRoom(endpointId: string): number;
  /** How many more deliveries the endpoint may hold here in all, ahead included (at least endpointRoom). */
  endpointAheadRoom(endpointId: string): number;
  /** How many more deliveries the endpoint may hold here in all, behind included (at least endpointAheadRoom). */
  endpointBehindRoom(endpointId: string): number;
  /** How many more deliveries may be held behind in all, before these reservations. */
  behindFree: number;
  /** The endpoint's circuit is open here: its deliveries go through the claim. */
  circuitOpen(endpointId: string): boolean;
}

export interface HandoffRoom {
  /**
   * Marks which of `wanted` to take, and holds their room until `release`; those taken past their
   * endpoint's ahead room are marked `heldBehind`.
   */
  reserve(wanted: readonly HandoffWanted[], limits: HandoffRoomLimits): boolean[];
  /** Reservations ended (the publish committed or failed). */
  release(reserved: readonly HandoffWanted[]): void;
  /** A request of the tenant started or finished in this process. */
  started(tenantId: string): void;
  finished(tenantId: string): void;
  /** How many more requests the tenant may have in flight here, its reservations counted. */
  tenantRoom(tenantId: string): number;
  /** Reservations not yet released that take room (not those held behind). */
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
  let reservedBehind = 0;
  const tenantRoom = (tenantId: string) => {
    const used = (tenantInFlight.get(tenantId) ?? 0) + (byTenant.get(tenantId) ?? 0);
    return Math.max(0, maxInFlightPerTenant - used);
  };
  return {
    reserve(wanted, limits) {
      let free = limits.free;
      let behindFree = limits.behindFree - reservedBehind;
      return wanted.map((w) => {
        if (limits.circuitOpen(w.endpointId)) return false;
        const reservedHere = byEndpoint.get(w.endpointId) ?? 0;
        let behind = false;
        if (free > 0 && limits.endpointRoom(w.endpointId) > reservedHere) {
          // Starts now: its tenant's room too.
          if (tenantRoom(w.tenantId) <= 0) return false;
        } else if (free > 0 && limits.endpointAheadRoom(w.endpointId) > reservedHere) {
          // Ahead: waits in the endpoint's fresh line.
        } else if (behindFree > 0 && limits.endpointBehindRoom(w.endpointId) > reservedHere) {
          behind = true;
        } else return false;
        add(byEndpoint, w.endpointId, 1);
        if (behind) {
          w.heldBehind = true;
          behindFree--;
          reservedBehind++;
        } else {
          add(byTenant, w.tenantId, 1);
          free--;
          reserved++;
        }
        return true;
      });
    },
    release(list) {
      for (const w of list) {
        add(byEndpoint, w.endpointId, -1);
        if (w.heldBehind) reservedBehind--;
        else {
          add(byTenant, w.tenantId, -1);
          reserved--;
        }
      }
    },
    started(tenantId) {
      add(tenantInFlight, tenantId, 1);
    },
    finished(tenantId) {
      add(tenantInFlight, tenantId, -1);
    },
    tenantRoom,
    get reserved() {
      return reserved;
    },
  };
}
