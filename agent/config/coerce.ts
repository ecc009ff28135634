import { z } from 'zod';

/*
 * Policy parameters arrive as YAML scalars or as strings from ${env:}/${file:}
 * substitution, so booleans and numbers are accepted in both forms.
 */
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const boolish = z.union(
  [
    z.boolean(),
    z
      .number()
      .refine((n) => n === 0 || n === 1, 'expected a boolean (true/false)')
      .transform((n) => n === 1),
    z
      .string()
      .refine((s) => TRUE.has(s.toLowerCase()) || FALSE.has(s.toLowerCase()), 'expected a boolean (true/false)')
      .transform((s) => TRUE.has(s.toLowerCase())),
  ],
  { error: 'expected a boolean (true/false)' },
);

export const intish = (min: number, max: number) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^\s*-?\d+\s*$/, 'expected an integer')
          .transform(Number),
      ],
      { error: 'expected an integer' },
    )
    .pipe(z.number().int('expected an integer').min(min).max(max));

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "15m", "24h", "1d", "500ms" or a bare number of seconds → milliseconds. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000));
}

export const duration = z.union([z.string(), z.number()], { error: 'expected a duration (e.g. 30s, 15m, 24h)' }).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (use e.g. 30s, 15m, 24h)` });
    return z.NEVER;
  }
  return ms;
});

/**
 * A timeout in seconds, as `*_API_TIMEOUT` settings give it: a number of seconds (30, "30")
 * or a duration like every other duration setting takes ("30s", "1m", "1500ms"). The value
 * is seconds, so collectors keep multiplying by 1000.
 */
export const timeoutSeconds = (minS: number, maxS: number) =>
  z.union([z.number(), z.string()], { error: 'expected a timeout: seconds (e.g. 30) or a duration (e.g. 30s, 1m)' }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a timeout (use seconds, e.g. 30, or a duration: 30s, 1m)` });
      return z.NEVER;
    }
    if (ms < minS * 1000 || ms > maxS * 1000) {
      ctx.addIssue({ code: 'custom', message: `must be between ${minS}s and ${maxS}s (got ${ms / 1000}s)` });
      return z.NEVER;
    }
    return ms / 1000;
  });

/** `*_API_TIMEOUT`: 1 second to 1 hour, default 30 seconds. */
export const apiTimeout = () => timeoutSeconds(1, 3600).default(30);

export const hostname = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9.\-:[\]_]+$/, 'expected a host name or IP address');

/**
 * A SHA-256 certificate fingerprint, 32 hex bytes (colons optional), as Proxmox products
 * show it; `shownAs` tells the operator where to copy it from.
 */
export function sha256Fingerprint(shownAs: string) {
  return z
    .string()
    .refine((s) => /^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/.test(s.trim()), `expected a SHA-256 fingerprint: 32 colon-separated hex bytes, as ${shownAs}`);
}
