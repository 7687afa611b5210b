// The domains a site's pageviews may come from, as typed by the founder: "example.com,
// shop.example.com" or one per line. As the server does, pasted URLs are cut down to their host,
// a port and a leading "www." go (a domain covers its subdomains anyway), and international
// names become punycode. The API validates again; its 422 `fields.domains` is shown at the field.

export interface ParsedDomains {
  domains: string[];
  /** One sentence per entry that is not a host name, in the order typed. */
  problems: string[];
}

/** Split on commas, semicolons and white space; drop empty pieces. */
export function splitDomains(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * One entry → its domain in lower case, or a problem. `https://www.Example.com:8443/pricing`
 * becomes `example.com`.
 */
export function normalizeDomain(raw: string): { domain: string } | { problem: string } {
  const shown = raw.trim();
  let v = shown.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''); // scheme
  v = v.replace(/[/?#].*$/, ''); // path, query, fragment
  if (!v) return { problem: `"${shown}" has no domain name in it.` };
  if (v.includes('@')) return { problem: `"${shown}": enter the domain only, without a user name.` };
  if (v.startsWith('*.')) return { problem: `"${shown}": leave out "*.", subdomains are covered already.` };
  if (v.startsWith('[')) return { problem: `"${shown}": enter a domain name, not an IP address.` };
  v = v.replace(/:\d*$/, ''); // port
  let host: string;
  try {
    host = new URL(`http://${v}`).hostname.replace(/\.$/, '');
  } catch {
    return { problem: `"${shown}" is not a domain name like example.com.` };
  }
  if (/^\d+(\.\d+){3}$/.test(host)) return { problem: `"${shown}": enter a domain name, not an IP address.` };
  if (host.startsWith('www.')) host = host.slice(4);
  if (host === 'localhost') return { domain: host };
  const labels = host.split('.');
  if (labels.length < 2) return { problem: `"${shown}" is not a full domain name like example.com.` };
  if (host.length > 253 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1]))
    return { problem: `"${shown}" is not a domain name like example.com.` };
  return { domain: host };
}

/** Every entry of a typed list, normalized and without repeats, with what is wrong. */
export function parseDomains(input: string | string[]): ParsedDomains {
  const entries = typeof input === 'string' ? splitDomains(input) : input;
  const domains: string[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    const r = normalizeDomain(e);
    if ('problem' in r) problems.push(r.problem);
    else if (!domains.includes(r.domain)) domains.push(r.domain);
  }
  return { domains, problems };
}

/** The field error for a typed list (the first problem, and how many more), or undefined. */
export function domainsError(input: string | string[]): string | undefined {
  const { problems } = parseDomains(input);
  if (!problems.length) return undefined;
  return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
}

/** The field error for a site name. */
export function siteNameError(name: string): string | undefined {
  const v = name.trim();
  if (!v) return 'Give the site a name, e.g. the product it tracks.';
  if (v.length > 80) return 'Keep the name under 80 characters.';
  return undefined;
}
