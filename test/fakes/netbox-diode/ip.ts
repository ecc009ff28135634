import { isIPv4, isIPv6 } from 'node:net';

/** A parsed `address/len` (netaddr.IPNetwork as NetBox stores addresses and prefixes). */
export interface IpNet {
  family: 4 | 6;
  /** Host bits as a bigint. */
  value: bigint;
  len: number;
}

export function parseIpNet(text: string): IpNet | undefined {
  const [addr = '', lenText] = text.split('/');
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (!family) return undefined;
  const max = family === 4 ? 32 : 128;
  const len = lenText === undefined ? max : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > max) return undefined;
  return { family, value: family === 4 ? v4(addr) : v6(addr), len };
}

function v4(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6(a: string): bigint {
  let text = a;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const x = v4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(x >> 16n).toString(16)}:${(x & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - h.length - r.length : 0;
  return [...h, ...Array<string>(fill).fill('0'), ...r].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The host part, as P matcher.py `_ip_only` (netaddr IPNetwork(value).ip), as a comparable key. */
export function hostKey(text: string): string | undefined {
  const n = parseIpNet(text);
  return n ? `${n.family}:${n.value.toString(16)}` : undefined;
}

export function formatNet(n: IpNet): string {
  if (n.family === 4) {
    const o = [24n, 16n, 8n, 0n].map((s) => String((n.value >> s) & 0xffn));
    return `${o.join('.')}/${n.len}`;
  }
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((n.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952 compression of the longest zero run, as netaddr prints.
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = best < 0 ? g.join(':') : `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
  return `${text}/${n.len}`;
}

/** Network address of a prefix (NetBox Prefix.save stores `prefix.cidr`). */
export function cidr(n: IpNet): IpNet {
  const bits = n.family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - n.len)) - 1n);
  return { ...n, value: n.value & mask };
}

/** P plugin_utils.py `ip_network_defaulting`: str(netaddr.IPNetwork(value)), a bare host gets /32 or /128. */
export function ipNetworkDefaulting(value: string): string {
  const n = parseIpNet(value);
  if (!n) throw new Error(`Invalid IP network value: ${value}`);
  return formatNet(n);
}
