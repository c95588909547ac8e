/**
 * Courier Invoice's product-side rule for naming ticket webhooks (it runs in the product, before
 * publishing to Herald; Herald sends whatever type it is given):
 * - a request with `TransferState` is a transfer, whatever timestamps it carries;
 * - otherwise the timestamp keys are tested in reverse order — d2TimeStamp, dTimeStamp,
 *   pTimeStamp, DispatchTimeStamp, ReceivedDate — and the first one present names the step;
 * - it is that step ("ticket.oncall.pickup") when the request carries only timestamps (and
 *   optionally Notes) and the ticket had no value for it yet; otherwise "ticket.oncall.update".
 * The document names pickup, update and transfer; the other step names are this example's.
 */
const STEPS: ReadonlyArray<[key: string, step: string]> = [
  ['d2TimeStamp', 'return'],
  ['dTimeStamp', 'delivery'],
  ['pTimeStamp', 'pickup'],
  ['DispatchTimeStamp', 'dispatch'],
  ['ReceivedDate', 'received'],
];

export interface StoredTicket {
  /** "contract" or "oncall", from the database. */
  kind: 'contract' | 'oncall';
  /** The ticket's stored fields (timestamps already set). */
  fields: Record<string, unknown>;
}

/** @example ticketEventName({ pTimeStamp: '…' }, { kind: 'oncall', fields: {} }) // 'ticket.oncall.pickup' */
export function ticketEventName(request: Record<string, unknown>, ticket: StoredTicket): string {
  const prefix = `ticket.${ticket.kind}`;
  if ('TransferState' in request) return `${prefix}.transfer`;
  const found = STEPS.find(([key]) => key in request);
  if (!found) return `${prefix}.update`;
  const [key, step] = found;
  // Other timestamps of the same call do not count: received + dispatched at once is a dispatch.
  const extra = Object.keys(request).filter((k) => k !== 'Notes' && !STEPS.some(([t]) => t === k));
  const alreadySet = ticket.fields[key] !== undefined && ticket.fields[key] !== null;
  return extra.length === 0 && !alreadySet ? `${prefix}.${step}` : `${prefix}.update`;
}
