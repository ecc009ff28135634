import { afterEach, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { generatePveScenario } from './fake.ts';
import { parseEach, safeParseFast } from '../../http/loose.ts';
import { agentInterfaceSchema, agentOsInfoSchema, guestConfigSchema, resourceRowSchema } from './schema.ts';

/*
 * The hand-written fast paths of the hot schemas (loose.ts withFastPath) must give exactly
 * what zod gives, or leave the value to zod: the same keys in the same order, a key whose
 * value is undefined kept as zod keeps it, nothing accepted that zod rejects. Checked on
 * every answer of a generated estate and on each field of them replaced by odd values.
 */

/** Keys in order and undefined values made visible, so two outputs compare exactly. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, x === undefined ? '<undefined>' : shape(x)]);
  return v;
}

function agrees(schema: z.ZodType, value: unknown): void {
  const slow = schema.safeParse(value);
  const fast = safeParseFast(schema, value);
  expect(fast.success, JSON.stringify(value)).toBe(slow.success);
  if (slow.success && fast.success) expect(shape(fast.data), JSON.stringify(value)).toEqual(shape(slow.data));
}

const ODD: unknown[] = [null, '', '  ', 'x', '5', ' 7 ', '1.5', 'true', '0', 0, 1, -1, 1.5, 2 ** 60, JSON.parse('1e400'), true, false, [], {}, [1], { a: 1 }];

/** The value with each of its keys (and one new key) set to each odd value in turn. */
function* variants(v: Record<string, unknown>): Generator<unknown> {
  yield v;
  for (const k of [...Object.keys(v), 'vmid', 'name', 'extra']) {
    for (const x of ODD) yield { ...v, [k]: x };
    const { [k]: _gone, ...rest } = v;
    yield rest;
  }
  yield null;
  yield [];
  yield 'row';
}

const scenario = generatePveScenario({ guests: 300, nodes: 4, seed: 7 });

describe('fast paths agree with their zod schemas', () => {
  afterEach(() => vi.restoreAllMocks());

  it('/cluster/resources rows', () => {
    for (const g of scenario.guests.slice(0, 40)) for (const v of variants(g.resource)) agrees(resourceRowSchema, v);
  });

  it('guest configs', () => {
    for (const g of scenario.guests.slice(0, 40)) if (g.config) for (const v of variants(g.config as Record<string, unknown>)) agrees(guestConfigSchema, v);
    agrees(guestConfigSchema, JSON.parse('{"__proto__": {"x": 1}, "net0": "virtio"}'));
  });

  it('guest-agent answers', () => {
    const agents = scenario.guests.flatMap((g) => (g.agent?.kind === 'ok' ? [g.agent] : []));
    expect(agents.length).toBeGreaterThan(0);
    for (const a of agents.slice(0, 20)) {
      for (const v of variants((a.osinfo ?? {}) as Record<string, unknown>)) agrees(agentOsInfoSchema, { result: v });
      agrees(agentOsInfoSchema, a.osinfo);
      for (const i of (a.interfaces ?? []) as Array<Record<string, unknown>>) {
        for (const v of variants(i)) agrees(agentInterfaceSchema, v);
        const ips = (i['ip-addresses'] ?? []) as Array<Record<string, unknown>>;
        for (const ip of ips.slice(0, 2)) for (const v of variants(ip)) agrees(agentInterfaceSchema, { ...i, 'ip-addresses': [v, ...ips] });
      }
    }
  });

  it('reads the estate without zod, and a bad row still costs only itself with zod’s reason', () => {
    const slow = vi.spyOn(resourceRowSchema, 'safeParse');
    const rows = scenario.guests.map((g) => g.resource);
    const dropped: Array<[number, string]> = [];
    const out = parseEach(resourceRowSchema, [...rows, { type: 'qemu', vmid: 'x1' }], (i, why) => dropped.push([i, why]));
    expect(out).toHaveLength(rows.length);
    expect(slow).toHaveBeenCalledTimes(1);
    expect(dropped).toEqual([[rows.length, expect.stringMatching(/^vmid: /)]]);
  });
});
