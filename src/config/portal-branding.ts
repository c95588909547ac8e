/**
 * The tenant portal as an operator embeds it in their product: which sites may frame it
 * (HERALD_PORTAL_FRAME_ANCESTORS, the CSP `frame-ancestors` of /portal) and how it presents itself —
 * the product's name, logo and accent colour, set for every portal here or per portal session
 * (`POST /v1/tenants/{tid}/portal-sessions` with `branding`). The checks live here so the
 * configuration and the API refuse the same values.
 */

export interface PortalBranding {
  /** Shown as the portal's title; default "Webhooks". */
  name?: string;
  /** An https:// image shown beside the name. */
  logoUrl?: string;
  /** `#rrggbb`: links, buttons and focus rings. */
  accentColor?: string;
}

export const PORTAL_NAME_MAX = 64;
export const PORTAL_LOGO_URL_MAX = 512;
export const ACCENT_COLOR_PATTERN = '^#[0-9a-fA-F]{6}$';

/** Why `name` cannot be a portal's name, or undefined. */
export function portalNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (name.length > PORTAL_NAME_MAX) return `must be at most ${PORTAL_NAME_MAX} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'must not contain control characters';
  return undefined;
}

/** Why `url` cannot be a portal's logo, or undefined: an absolute https:// URL (the page's CSP allows those images). */
export function logoUrlProblem(url: string): string | undefined {
  if (url.length > PORTAL_LOGO_URL_MAX) return `must be at most ${PORTAL_LOGO_URL_MAX} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:') return 'must be an https:// URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  return undefined;
}

/** Why `color` cannot be an accent colour, or undefined. */
export function accentColorProblem(color: string): string | undefined {
  return new RegExp(ACCENT_COLOR_PATTERN).test(color) ? undefined : 'must be a colour like #2450c9';
}

/**
 * The origins that may frame the portal, from a space- or comma-separated list such as
 * `https://app.example.com https://admin.example.com:8443`; each becomes its exact origin.
 *
 * @example frameAncestors('https://app.example.com') // { origins: ['https://app.example.com'] }
 */
export function frameAncestors(raw: string): { origins: string[] } | { problem: string } {
  const origins: string[] = [];
  for (const item of raw.split(/[\s,]+/).filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      return { problem: `"${item}" is not an origin like https://app.example.com` };
    }
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    // A host name or an IP address: CSP's wildcards (`*.example.com`) are not offered.
    const plainHost = /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(url.hostname);
    if (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      !bare ||
      !plainHost ||
      item.endsWith('/')
    ) {
      return { problem: `"${item}" is not an origin like https://app.example.com (scheme, host, port only)` };
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { origins };
}
