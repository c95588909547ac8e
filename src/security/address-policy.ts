/**
 * Which IP addresses Herald may deliver to (the SSRF policy). Pure: no DNS, no sockets.
 *
 * Only public unicast is allowed: an address whose ipaddr.js range is `unicast` and, for IPv6, that
 * lies in 2000::/3 (the only block IANA hands out as global unicast — ipaddr calls IPv4-compatible
 * `::a.b.c.d` and other unassigned space `unicast` too). Transition forms are judged by where the
 * packet really goes:
 * - IPv4-mapped `::ffff:a.b.c.d` is the IPv4 address itself (the kernel dials it over IPv4);
 * - NAT64 well-known prefix `64:ff9b::/96` is judged as its embedded IPv4 address, because on an
 *   IPv6-only host with DNS64 every IPv4-only receiver resolves to such an address and the NAT64
 *   gateway dials exactly the embedded one;
 * - 6to4 `2002::/16`, Teredo `2001::/32`, local-use NAT64 `64:ff9b:1::/48`, IPv4-translated
 *   `::ffff:0:0:0/96` and IPv4-compatible `::/96` are refused outright: they are deprecated or
 *   site-specific, no real receiver needs them, and their embedded IPv4 is a relay, not the target.
 * `allowPrivateNetworks` lifts the whole policy (local development, tests); `allowedNetworks`
 * lets named CIDRs through while everything else stays refused.
 */
import { isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface AddressPolicyOptions {
  /** Allow every address (loopback, private, link-local …): for local development and tests only. */
  allowPrivateNetworks: boolean;
  /** CIDRs (or single addresses) allowed although not public, e.g. `10.20.0.0/16` for an internal receiver. */
  allowedNetworks: string[];
}

export interface AddressPolicy {
  /** True when Herald may connect to this address (any spelling `parseHostAddress` accepts). */
  isAllowed(ip: string): boolean;
  /** The range the address falls in (`unicast` = public), or `invalid` when it is not an IP address. */
  classify(ip: string): string;
}

/**
 * Appended to every refusal of an address the switch below would allow: whoever meets it while trying
 * Herald against a receiver on their own machine learns the setting, and that it takes a restart
 * (configuration is read at start).
 */
export const PRIVATE_NETWORKS_HINT =
  'for development, restart Herald with HERALD_ALLOW_PRIVATE_NETWORKS=true (or --allow-private-networks) to deliver to loopback and private addresses, or allow chosen networks with HERALD_ALLOWED_NETWORKS';

/**
 * A refusal's message with the hint when allowing private networks would lift it — not for
 * `invalid` (what is no address at all stays refused whatever the configuration).
 * @example withPrivateNetworksHint('The host 127.0.0.1 is a loopback address', 'loopback')
 */
export function withPrivateNetworksHint(message: string, range: string): string {
  return range === 'invalid' ? message : `${message}; ${PRIVATE_NETWORKS_HINT}`;
}

const GLOBAL_UNICAST_V6: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];
const NAT64_WELL_KNOWN: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b::'), 96];
const IPV4_COMPATIBLE: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('::'), 96];

/** One part of a dotted IPv4 spelling, read as WHATWG URL / inet_aton do (0x… hex, 0… octal). */
function parseIPv4Number(part: string): number | undefined {
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(digits)) {
    radix = 16;
    digits = digits.slice(2);
  } else if (digits.length > 1 && digits.startsWith('0')) {
    radix = 8;
    digits = digits.slice(1);
  }
  if (digits === '') return radix === 16 ? 0 : undefined;
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  return valid.test(digits) ? Number.parseInt(digits, radix) : undefined;
}

/** The WHATWG URL IPv4 parser: 1–4 parts, the last one filling the remaining bytes. */
function parseIPv4(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // `127.0.0.1.` is allowed
  if (parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (n === undefined) return undefined;
    numbers.push(n);
  }
  const last = numbers.pop() as number;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  let value = last;
  numbers.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * Normalises a host that spells an IP address (`[::1]`, `0x7f000001`, `2130706433`, `127.1`,
 * `0177.0.0.1`) to its canonical form; undefined for a host name — so a check cannot be dodged by
 * a spelling that the URL parser or inet_aton would still turn into a blocked address.
 */
export function parseHostAddress(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // A zone (`fe80::1%eth0`) does not change which range the address is in, so it is dropped.
  const unzoned = bare.split('%')[0] as string;
  if (isIPv6(unzoned)) {
    // Node's grammar and the WHATWG serialiser, not ipaddr's: ipaddr reads the IPv4-compatible
    // `::8.8.8.8` as the mapped `::ffff:8.8.8.8`, which is not the address a socket would dial.
    return ipaddr.IPv6.parse(new URL(`http://[${unzoned}]/`).hostname.slice(1, -1)).toString();
  }
  if (bare.includes(':')) return undefined;
  return parseIPv4(bare);
}

/** The range an address is judged by (see the module comment for the transition forms). */
function judge(address: Address): string {
  if (address.kind() === 'ipv4') return address.range();
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range();
  if (v6.match(NAT64_WELL_KNOWN)) return ipaddr.IPv4.parse(embeddedV4(v6)).range();
  const range = v6.range();
  if (range !== 'unicast') return range;
  if (v6.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  return v6.match(GLOBAL_UNICAST_V6) ? 'unicast' : 'unassigned';
}

function embeddedV4(v6: ipaddr.IPv6): string {
  const bytes = v6.toByteArray().slice(12);
  return bytes.join('.');
}

/** The address ipaddr would work with, or undefined when `ip` is not an address at all. */
function toAddress(ip: string): Address | undefined {
  const canonical = parseHostAddress(ip);
  return canonical === undefined ? undefined : ipaddr.parse(canonical);
}

/** A CIDR from configuration; IPv4-mapped IPv6 CIDRs become IPv4 ones so they match what we judge. */
function parseNetwork(cidr: string): [Address, number] {
  const [ip = '', bits, ...rest] = cidr.trim().split('/');
  // Strict spellings only: ipaddr would read `10/8` as 0.0.0.10/8.
  const valid = ipaddr.IPv4.isValidFourPartDecimal(ip) || (isIPv6(ip) && !ip.includes('%'));
  const prefix = bits === undefined ? undefined : Number(bits);
  if (!valid || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    throw new Error(`allowedNetworks: "${cidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
  }
  const address = ipaddr.parse(parseHostAddress(ip) as string);
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const length = prefix ?? max;
  if (length > max) throw new Error(`allowedNetworks: "${cidr}" has a prefix longer than ${max}`);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && length >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), length - 96];
  }
  return [address, length];
}

/** Candidates an allowlist entry may match: the address as written and the IPv4 address it stands for. */
function candidates(address: Address): Address[] {
  if (address.kind() === 'ipv4') return [address];
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return [v6, v6.toIPv4Address()];
  if (v6.match(NAT64_WELL_KNOWN)) return [v6, ipaddr.IPv4.parse(embeddedV4(v6))];
  return [v6];
}

/**
 * Builds the delivery address policy; throws on a malformed `allowedNetworks` entry so bad
 * configuration fails at start, not at the first delivery.
 * @example createAddressPolicy({ allowPrivateNetworks: false, allowedNetworks: ['10.20.0.0/16'] }).isAllowed('10.20.1.2') // true
 */
export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const networks = options.allowedNetworks.map(parseNetwork);
  const inAllowedNetwork = (address: Address): boolean =>
    candidates(address).some((c) => networks.some((n) => n[0].kind() === c.kind() && c.match(n)));

  return {
    classify(ip) {
      const address = toAddress(ip);
      return address === undefined ? 'invalid' : judge(address);
    },
    isAllowed(ip) {
      const address = toAddress(ip);
      if (address === undefined) return false; // fail closed on anything we cannot read
      if (options.allowPrivateNetworks) return true;
      return judge(address) === 'unicast' || inAllowedNetwork(address);
    },
  };
}
