/**
 * Signing as each product's documentation describes it, written here with node:crypto alone (not
 * with Herald's code), so the verify tests check Herald's verifier against an independent sender.
 */
import { createHmac } from 'node:crypto';

export const NOW = new Date('2026-03-01T12:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);

function mac(key: string | Buffer, ...parts: (string | Buffer)[]) {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h;
}

export interface Signed {
  body: Buffer;
  headers: Record<string, string>;
}

export interface ProfileCase {
  profile: 'standard' | 'courier-invoice' | 'invoiceahoy' | 'shipstream' | 'corrigopro' | 'altoviz';
  secret: string;
  otherSecret: string;
  /** The header that carries the proof. */
  header: string;
  accountNumber?: string;
  /** A body the product would send, signed at `at` (unix s) with `secret`. */
  sign(secret: string, at?: number, body?: Buffer): Signed;
  /** Whether the format signs a timestamp. */
  timed: boolean;
}

const b64Secret = (s: string) => `whsec_${Buffer.from(s).toString('base64')}`;

function standardSig(secret: string, id: string, at: number, body: Buffer): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${mac(key, `${id}.${at}.`, body).digest('base64')}`;
}

export const CASES: ProfileCase[] = [
  {
    profile: 'standard',
    secret: b64Secret('standard-secret-0123456789abcdef'),
    otherSecret: b64Secret('another-secret-0123456789abcdef!'),
    header: 'webhook-signature',
    timed: true,
    sign(secret, at = NOW_S, body) {
      const b =
        body ??
        Buffer.from(
          JSON.stringify({ type: 'invoice.created', timestamp: NOW.toISOString(), data: { n: 'é/1' } }),
        );
      return {
        body: b,
        headers: {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(at),
          'webhook-signature': standardSig(secret, 'msg_1', at, b),
        },
      };
    },
  },
  {
    profile: 'courier-invoice',
    secret: 'private-api-key',
    otherSecret: 'other-private-key',
    header: 'x-ci-auth',
    accountNumber: '1042',
    timed: true,
    sign(secret, at = NOW_S, body) {
      const b =
        body ??
        Buffer.from(
          `{"timestamp":${at},"Data":[{"type":"ticket.oncall.pickup","error":null,"note":"a\\/b \\u00e9"}]}`,
        );
      return { body: b, headers: { 'X-CI-AUTH': mac(secret, b, '1042', String(at)).digest('hex') } };
    },
  },
  {
    profile: 'invoiceahoy',
    secret: 'ia-secret',
    otherSecret: 'ia-other',
    header: 'x-ia-signature',
    timed: false,
    sign(secret, _at, body) {
      const b =
        body ?? Buffer.from('{"id":"a056V7R7NmNRjl70","type":"invoice.updated","payload":{"id":"WAz8"}}');
      return { body: b, headers: { 'x-ia-signature': mac(secret, b).digest('hex') } };
    },
  },
  {
    profile: 'shipstream',
    secret: 'ss-secret',
    otherSecret: 'ss-other',
    header: 'x-plugin-hmac-sha256',
    timed: false,
    sign(secret, _at, body) {
      const b = body ?? Buffer.from('{"topic":"order:created","message_id":7,"message":{"order_id":1}}');
      return { body: b, headers: { 'X-Plugin-Hmac-Sha256': mac(secret, b).digest('base64') } };
    },
  },
  {
    profile: 'corrigopro',
    secret: 'H4sIAAAEAG2MQQr-token',
    otherSecret: 'another-token',
    header: 'authorization',
    timed: false,
    sign(secret, _at, body) {
      const b =
        body ??
        Buffer.from(
          '{"Header":{"Action":"WoCreated","ActionDate":"2018-09-04T10:12:08Z","ApiVersion":"1.1","MessageId":"c1d3"},"WorkOrderId":42}',
        );
      return { body: b, headers: { Authorization: `Bearer ${secret}`, 'Event-Type': 'WoCreated' } };
    },
  },
  {
    profile: 'altoviz',
    secret: 'av-secret',
    otherSecret: 'av-other',
    header: 'x-signature',
    timed: false,
    sign(secret, _at, body) {
      const b = body ?? Buffer.from('{"id":"ep_1","type":"CustomerCreated","data":{"id":370}}');
      return { body: b, headers: { 'X-SIGNATURE': mac(secret, b).digest('hex') } };
    },
  },
];
