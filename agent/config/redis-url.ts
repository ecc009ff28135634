import { CENSOR } from '../log.ts';

/*
 * coordination.redis_url is checked here rather than when ioredis connects: ioredis parses
 * it with WHATWG `new URL()` and `decodeURIComponent()` (luin/ioredis lib/utils/index.ts,
 * parseURL), which throw a TypeError whose `input` is the whole URL, password included, or
 * a URIError, long after `validate` said OK. This module never puts the password in a
 * message: every problem names the URL with the password masked.
 */

interface Parts {
  scheme: string;
  /** Text between `://` and the last `@`, undefined without an `@`. */
  userinfo?: string;
  /** Everything after the userinfo: host, port, path, query. */
  rest: string;
}

function split(raw: string): Parts | undefined {
  const m = /^(rediss?):\/\/(.*)$/is.exec(raw);
  if (!m) return undefined;
  const scheme = m[1] ?? '';
  const after = m[2] ?? '';
  // The last `@`: a password may hold an unencoded `@` (WHATWG URL takes the last one too).
  const at = after.lastIndexOf('@');
  return at < 0 ? { scheme, rest: after } : { scheme, userinfo: after.slice(0, at), rest: after.slice(at + 1) };
}

/** The URL with everything after the first `:` of the userinfo (the password) masked. */
export function maskRedisUrl(raw: string): string {
  const p = split(raw);
  if (!p || p.userinfo === undefined) return raw;
  const colon = p.userinfo.indexOf(':');
  const user = colon < 0 ? p.userinfo : `${p.userinfo.slice(0, colon)}:${CENSOR}`;
  return `${p.scheme}://${user}@${p.rest}`;
}

/** The password as written and as ioredis decodes it, for secret registration. */
export function redisPasswordForms(raw: string): string[] {
  const p = split(raw);
  const colon = p?.userinfo?.indexOf(':') ?? -1;
  if (!p?.userinfo || colon < 0) return [];
  const written = p.userinfo.slice(colon + 1);
  try {
    return [written, decodeURIComponent(written)];
  } catch {
    return [written];
  }
}

function decodes(s: string): boolean {
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a redis:// or rediss:// URL, or undefined when ioredis will accept it.
 * URLs with another scheme are left to the schema's pattern.
 */
export function redisUrlProblem(raw: string): string | undefined {
  const p = split(raw);
  if (!p) return undefined;
  const fail = (why: string) => `${why} (${maskRedisUrl(raw)})`;
  if (p.userinfo !== undefined) {
    const colon = p.userinfo.indexOf(':');
    const user = colon < 0 ? p.userinfo : p.userinfo.slice(0, colon);
    const password = colon < 0 ? '' : p.userinfo.slice(colon + 1);
    // An unencoded / ? or # ends the authority for URL parsers: the rest of the password
    // would become the host, port or path.
    if (/[/?#]/.test(p.userinfo)) return fail('the user name or password contains "/", "?" or "#"; percent-encode them as %2F, %3F, %23');
    if (!decodes(user)) return fail('malformed percent-encoding in the user name; write a literal "%" as %25');
    if (!decodes(password)) return fail('malformed percent-encoding in the password; write a literal "%" as %25');
  }
  const end = p.rest.search(/[/?#]/);
  const authority = end < 0 ? p.rest : p.rest.slice(0, end);
  const tail = end < 0 ? '' : p.rest.slice(end);
  let host = authority;
  let port = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close < 0 ? authority : authority.slice(0, close + 1);
    const after = close < 0 ? '' : authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail('expected ":port" after the IPv6 address');
    port = after.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      port = authority.slice(colon + 1);
    }
  }
  if (host === '' || host === '[]') return fail('the host is missing');
  if (port !== '') {
    if (!/^\d+$/.test(port)) return fail(`port "${port}" is not a number`);
    const n = Number(port);
    if (n < 1 || n > 65535) return fail(`port ${port} is out of range 1-65535`);
  }
  const q = tail.search(/[?#]/);
  const path = q < 0 ? tail : tail.slice(0, q);
  // ioredis sends the path after "/" to SELECT as is.
  if (path !== '' && path !== '/' && !/^\/\d+$/.test(path)) return fail(`database "${path.slice(1)}" is not a number (e.g. redis://host:6379/0)`);
  try {
    new URL(raw);
  } catch {
    return fail('is not a valid URL');
  }
  return undefined;
}
