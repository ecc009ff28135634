import type { z } from 'zod';
import type { ConfigIssue } from '../errors.ts';
import type { YamlSource } from './yaml-source.ts';

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] ?? 0;
      prev[j] = Math.min((prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] ?? 0;
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const UNRECOGNIZED = '\u0000unrecognized:';

/**
 * zod error map: keeps zod's wording except for unknown keys, where it records the
 * keys the object does accept so `toConfigIssues` can suggest the closest one.
 */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'unrecognized_keys') {
    const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
    return UNRECOGNIZED + JSON.stringify({ keys: iss.keys, known: shape ? Object.keys(shape) : [] });
  }
  if (iss.code === 'invalid_type' && iss.input === undefined) return 'is required';
  return undefined;
};

/** zod issues → positioned config issues, one per unknown key. */
export function toConfigIssues(src: YamlSource, error: z.ZodError, base: ReadonlyArray<string | number> = []): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of error.issues) {
    const path = [...base, ...(iss.path as Array<string | number>)];
    if (iss.message.startsWith(UNRECOGNIZED)) {
      const { keys, known } = JSON.parse(iss.message.slice(UNRECOGNIZED.length)) as { keys: string[]; known: string[] };
      for (const k of keys) {
        const hint = didYouMean(k, known);
        out.push(src.issue([...path, k], `unknown key${hint ? `; did you mean "${hint}"?` : ''}`, true));
      }
      continue;
    }
    out.push(src.issue(path, iss.message));
  }
  return out;
}
