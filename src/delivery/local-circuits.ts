/**
 * The endpoints whose circuit this process saw open (from recorded outcomes: record-outcomes.ts),
 * until when. The claim already skips an open circuit's deliveries; this is for what it holds
 * already or is handed by publishing: given back until the circuit cools down rather than sent.
 */
export interface LocalCircuits {
  /** The circuit opened until `untilMs` (epoch ms on the queue's clock). */
  opened(endpointId: string, untilMs: number): void;
  closed(endpointId: string): void;
  /** How long the endpoint's circuit stays open (ms), 0 when it is closed or cooled down. */
  openFor(endpointId: string): number;
}

/** @example const circuits = createLocalCircuits(() => Date.now()); circuits.openFor('ep_1') // 0 */
export function createLocalCircuits(nowMs: () => number): LocalCircuits {
  const until = new Map<string, number>();
  return {
    opened(endpointId, untilMs) {
      until.set(endpointId, untilMs);
    },
    closed(endpointId) {
      until.delete(endpointId);
    },
    openFor(endpointId) {
      const at = until.get(endpointId);
      if (at === undefined) return 0;
      const left = at - nowMs();
      if (left > 0) return left;
      until.delete(endpointId);
      return 0;
    },
  };
}
