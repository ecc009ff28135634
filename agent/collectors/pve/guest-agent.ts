import { z } from 'zod';
import { HttpStatusError } from '../../http/client.ts';
import type { Warning } from '../types.ts';
import { ApiResponseError, type ApiSession } from '../../http/proxmox.ts';
import { getAgentNetworkInterfaces, getAgentOsInfo } from './client.ts';
import { isNodeLevel } from './collect.ts';
import type { PveAgentData, PveAgentInterface, PveGuest } from './snapshot.ts';

/*
 * The guest agent of a running QEMU guest, across runs (issues #16 and #17 item 5).
 *
 * - One call after the other: network-get-interfaces, then get-osinfo. When the first
 *   answers with an HTTP error the second is not sent: PVE checks the same things before
 *   every agent command (qemu-server src/PVE/API2/Qemu/Agent.pm register_command: the same
 *   privilege; then src/PVE/QemuServer/Agent.pm assert_agent_available: "No QEMU guest agent
 *   configured", "VM <vmid> is not running", "QEMU guest agent is not running" after a
 *   3 s guest-ping), so it would fail the same way, and a hung agent would cost its wait twice.
 * - An agent that timed out is remembered and asked again only every AGENT_RECHECK_RUNS runs.
 *   PVE's QMP client gives a QGA command 5 s (src/PVE/QMPClient.pm cmd, the default
 *   $timeout) and then dies with "VM <vmid> qmp command '<cmd>' failed - got timeout" ("VM
 *   <vmid> qga command …" in newer qemu-server), or "unable to connect to VM <vmid> qga
 *   socket - timeout after <n> retries" (open_connection); the API answers 500 with that text.
 * - get-osinfo is asked once per boot: /cluster/resources gives each guest's uptime, so
 *   now − uptime names the boot; while it is the remembered one, the remembered answer is used.
 * - No flapping: when the agent does not answer (or is skipped as hung), what it answered
 *   last is used, with a pve_agent_data_reused warning saying how old it is, instead of
 *   falling back to the ostype platform and no IPs.
 */

/**
 * Two boot times (now − uptime) this close are one boot. PVE's uptime comes from the
 * status pvestatd broadcasts every 10 s (pve-manager PVE/Service/pvestatd.pm,
 * `$updatetime = 10`), so the same boot reads up to ~10 s apart from run to run, plus
 * whatever the agent's clock drifts; a restart moves it by at least the uptime it had.
 */
export const BOOT_TOLERANCE_S = 30;

/** A 500 whose reason says the agent did not answer in time (see the comment above). */
export function isAgentTimeout(err: unknown): boolean {
  return err instanceof HttpStatusError && /(?:- got timeout|socket - timeout after \d+ retries)\s*$/.test(err.reason);
}

/** Agent GETs need VM.GuestAgent.Audit on PVE 9, VM.Monitor on PVE 8 (qemu-server src/PVE/API2/Qemu/Agent.pm register_command; b92a40ce). */
const AGENT_PRIVILEGE_HINT = 'the token needs VM.GuestAgent.Audit (PVE 9) or VM.Monitor (PVE 8) on /vms';

const osinfoSchema = z
  .object({ id: z.string().optional(), name: z.string().optional(), prettyName: z.string().optional(), versionId: z.string().optional() })
  .strict();
const interfaceSchema = z
  .object({
    name: z.string(),
    mac: z.string().optional(),
    addresses: z.array(z.object({ address: z.string(), family: z.string(), prefix: z.number() }).strict()),
  })
  .strict();

/** What one guest's agent answered, and when (ms since the epoch). */
const entrySchema = z
  .object({
    /** The guest's name then: a vmid reused by another guest does not inherit the data. */
    name: z.string(),
    interfaces: z
      .object({ at: z.number(), value: z.array(interfaceSchema) })
      .strict()
      .optional(),
    /** `boot`: the boot (epoch seconds, now − uptime) the answer belongs to. */
    osinfo: z.object({ at: z.number(), boot: z.number().optional(), value: osinfoSchema }).strict().optional(),
    /** The agent timed out at `at`; `skipped` runs have not asked it since. */
    hung: z.object({ at: z.number(), skipped: z.number().int().nonnegative() }).strict().optional(),
  })
  .strict();

export type AgentMemoryEntry = z.output<typeof entrySchema>;

/** The pve collector's memory (CollectContext.recall / remember): per vmid, what its agent said. */
export interface PveMemory {
  v: 1;
  agents: Record<string, AgentMemoryEntry>;
}

const memoryHead = z.object({ v: z.literal(1), agents: z.record(z.string().regex(/^\d+$/), z.unknown()) });

/**
 * The remembered entries by vmid. A memory of another shape (an older format, a hand-edited
 * state) is ignored; one malformed entry costs only that guest.
 */
export function readMemory(raw: unknown): Map<number, AgentMemoryEntry> {
  const out = new Map<number, AgentMemoryEntry>();
  const head = memoryHead.safeParse(raw);
  if (!head.success) return out;
  for (const [vmid, e] of Object.entries(head.data.agents)) {
    const p = entrySchema.safeParse(e);
    if (p.success) out.set(Number(vmid), p.data);
  }
  return out;
}

/** "45 s", "12 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export interface GuestAgentContext {
  api: ApiSession;
  warn(w: Warning): void;
  /** The node is down: its other guests' calls are skipped. */
  markDown(node: string, reason: string): void;
  canCall(node: string): boolean;
  /** Run time, ms since the epoch. */
  now: number;
  /** AGENT_RECHECK_RUNS. */
  recheckRuns: number;
  /** What the last run remembered (CollectContext.recall), unchecked; a failed load is nothing. */
  recalled: Promise<unknown> | undefined;
}

/** The guest-agent reads of one run, and what they leave for the next. */
export class GuestAgents {
  private readonly c: GuestAgentContext;
  private readonly last: Promise<Map<number, AgentMemoryEntry>>;
  private readonly next = new Map<number, AgentMemoryEntry>();

  constructor(c: GuestAgentContext) {
    this.c = c;
    this.last = Promise.resolve(c.recalled).then(readMemory, () => new Map());
  }

  private async remembered(g: PveGuest): Promise<AgentMemoryEntry | undefined> {
    const e = (await this.last).get(g.vmid);
    return e?.name === g.name ? e : undefined;
  }

  /**
   * Reads the agent of a running QEMU guest with the agent enabled and sets `guest.agent`;
   * `uptime` is its /cluster/resources uptime (seconds). At most one warning per guest.
   */
  async read(g: PveGuest, uptime: number | undefined): Promise<void> {
    const { api, now } = this.c;
    const subject = `${g.type} ${g.vmid} on ${g.node}`;
    const prev = await this.remembered(g);

    if (prev?.hung && prev.hung.skipped + 1 < this.c.recheckRuns) {
      const skipped = prev.hung.skipped + 1;
      this.next.set(g.vmid, { ...prev, hung: { at: prev.hung.at, skipped } });
      const why = `not asked this run: it timed out ${formatAge(now - prev.hung.at)} ago (${iso(prev.hung.at)}) and is asked again in ${this.c.recheckRuns - skipped} run${this.c.recheckRuns - skipped === 1 ? '' : 's'} (AGENT_RECHECK_RUNS)`;
      this.fallBack(g, subject, prev, why, 'pve_agent_skipped');
      return;
    }

    let interfaces: PveAgentInterface[] | undefined;
    let failure: unknown;
    try {
      interfaces = await getAgentNetworkInterfaces(api, g.node, g.vmid);
    } catch (err) {
      failure = err;
    }
    // An HTTP error says the agent is not there, hung, or not ours to ask: get-osinfo would
    // get the same answer. A body of the wrong shape came from an agent that answered.
    const askOs = !(failure instanceof HttpStatusError || isNodeLevel(failure)) && this.c.canCall(g.node);
    const boot = uptime !== undefined && uptime > 0 ? Math.round(now / 1000 - uptime) : undefined;
    let osinfo: AgentMemoryEntry['osinfo'];
    if (askOs) {
      const sameBoot = prev?.osinfo?.boot !== undefined && boot !== undefined && Math.abs(prev.osinfo.boot - boot) <= BOOT_TOLERANCE_S;
      if (sameBoot) osinfo = prev?.osinfo;
      else {
        try {
          osinfo = { at: now, ...(boot !== undefined && { boot }), value: await getAgentOsInfo(api, g.node, g.vmid) };
        } catch (err) {
          failure ??= err;
        }
      }
    }

    const entry: AgentMemoryEntry = { name: g.name };
    if (interfaces) entry.interfaces = { at: now, value: interfaces };
    if (osinfo) entry.osinfo = osinfo;
    if (failure === undefined) {
      this.next.set(g.vmid, entry);
      g.agent = { ...(interfaces && { interfaces }), ...(osinfo && { osinfo: osinfo.value }) };
      return;
    }
    if (isNodeLevel(failure)) {
      // The node went away, not the agent: what was read stands; the memory stays as it was.
      this.c.markDown(g.node, describe(failure));
      if (prev) this.next.set(g.vmid, prev);
      if (interfaces || osinfo) g.agent = { ...(interfaces && { interfaces }), ...(osinfo && { osinfo: osinfo.value }) };
      return;
    }
    if (!(failure instanceof HttpStatusError || failure instanceof ApiResponseError)) throw failure;

    // What did not come this run comes from the memory.
    if (!entry.interfaces && prev?.interfaces) entry.interfaces = prev.interfaces;
    if (!entry.osinfo && prev?.osinfo) entry.osinfo = prev.osinfo;
    const timedOut = isAgentTimeout(failure);
    if (timedOut) entry.hung = { at: now, skipped: 0 };
    if (entry.interfaces || entry.osinfo || entry.hung) this.next.set(g.vmid, entry);

    const recheck =
      timedOut && this.c.recheckRuns > 1
        ? `; not asked again for ${this.c.recheckRuns - 1} run${this.c.recheckRuns === 2 ? '' : 's'} (AGENT_RECHECK_RUNS)`
        : '';
    const forbidden = failure instanceof HttpStatusError && failure.status === 403;
    const why = `${failure.message}${forbidden ? `; ${AGENT_PRIVILEGE_HINT}` : ''}${recheck}`;
    const fresh = { interfaces: interfaces !== undefined, osinfo: osinfo !== undefined };
    this.fallBack(g, subject, entry, why, forbidden ? 'guest_agent_forbidden' : 'guest_agent_unavailable', fresh);
  }

  /**
   * Sets what `data` holds on the guest and warns once: pve_agent_data_reused when any of
   * it is older than this run, else `code` with what is missing.
   */
  private fallBack(
    g: PveGuest,
    subject: string,
    data: AgentMemoryEntry | undefined,
    why: string,
    code: string,
    fresh = { interfaces: false, osinfo: false },
  ): void {
    const agent: PveAgentData = {};
    if (data?.interfaces) agent.interfaces = data.interfaces.value;
    if (data?.osinfo) agent.osinfo = data.osinfo.value;
    if (agent.interfaces || agent.osinfo) g.agent = agent;
    const reused = {
      osinfo: data?.osinfo !== undefined && !fresh.osinfo ? data.osinfo.at : undefined,
      interfaces: data?.interfaces !== undefined && !fresh.interfaces ? data.interfaces.at : undefined,
    };
    const lost = [...(agent.osinfo ? [] : ['platform from ostype']), ...(agent.interfaces ? [] : ['no guest IPs'])];
    if (reused.osinfo === undefined && reused.interfaces === undefined) {
      this.c.warn({ code, subject, message: `${why}; ${lost.join(', ')}` });
      return;
    }
    const at = Math.min(reused.osinfo ?? Infinity, reused.interfaces ?? Infinity);
    const what =
      reused.osinfo !== undefined && reused.interfaces !== undefined ? 'the platform and IPs' : reused.osinfo !== undefined ? 'the platform' : 'the IPs';
    const kept = `${what} it reported ${formatAge(this.c.now - at)} ago (${iso(at)}) ${what === 'the platform' ? 'is' : 'are'} kept`;
    this.c.warn({ code: 'pve_agent_data_reused', subject, message: `${why}; ${[kept, ...lost].join(', ')}` });
  }

  /**
   * What to remember: the entries of this run's guests, read this run or carried over
   * unchanged (a guest stopped, its config or node unreadable). Guests gone from the
   * cluster, or whose config no longer enables the agent, are forgotten, so the memory
   * never outgrows the guests of one run.
   */
  async memory(guests: readonly PveGuest[]): Promise<PveMemory> {
    const agents: Record<string, AgentMemoryEntry> = {};
    for (const g of guests) {
      if (g.type !== 'qemu') continue;
      const e = this.next.get(g.vmid) ?? (g.config?.agentEnabled === false ? undefined : await this.remembered(g));
      if (e) agents[String(g.vmid)] = e;
    }
    return { v: 1, agents };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
