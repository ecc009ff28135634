import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig } from '../agent/config/load.ts';
import { EntityType, IngestRequestType } from '../agent/diode/codec.ts';
import { listDryRunFiles, readDryRunFile } from '../agent/diode/dry-run.ts';
import { FileStateStore, parseState } from '../agent/state/store.ts';
import { FakeDiodeIngester, GrpcCode } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler, type PveScenario } from '../agent/collectors/pve/fake.ts';
import { entitiesOf, harness, PVE_TOKEN, waitFor } from './helpers/agent-harness.ts';

/*
 * Issue #14: what the agent collected is delivered, or its loss is reported (log, result,
 * exit code, /status, metric); state never claims what Diode did not accept.
 */
const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let scenario: PveScenario;
let pveDown = false;

beforeEach(async () => {
  scenario = generatePveScenario({ guests: 20, nodes: 2, seed: 14 });
  scenario.cluster = 'loss';
  ingester = await new FakeDiodeIngester().start();
  const handler = pveHandler(scenario, PVE_TOKEN);
  pveDown = false;
  pve = await startFakeHttps((req) => (pveDown ? { status: 401, statusText: 'Authentication failed!', body: { data: null } } : handler(req)));
});

afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

const accepted = () => entitiesOf(ingester.ingests.filter((r) => r.code === GrpcCode.OK).map((r) => r.bytes));
const total = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** A logger whose lines are kept, parsed. */
function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) }), lines };
}

async function metric(a: Agent, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await a.metrics.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

/** Entities in the dry-run files of a directory. */
const dryRunEntities = (dir: string) => entitiesOf(listDryRunFiles(dir).map(readDryRunFile));

describe('dry run', () => {
  it('`once --dry-run` writes no state: the live run after it is a first run and sends everything', async () => {
    const h = harness(ingester, pve);
    const dryDir = mkdtempSync(join(tmpdir(), 'dry-'));
    // --dry-run with the output directory from agent.yaml: point it at dryDir.
    writeFileSync(h.configFile, readFileSync(h.configFile, 'utf8').replace('diode:\n', `diode:\n  dry_run_output_dir: ${dryDir}\n`));
    const res = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '--dry-run', '-c', h.configFile], {
      env: { ...h.env, LOG_LEVEL: 'silent' },
    });
    expect(res.stdout).toMatch(/^pve \(pve\): success in /);
    const written = dryRunEntities(dryDir);
    expect(written.length).toBeGreaterThan(40);
    expect(ingester.ingests).toEqual([]);
    expect(existsSync(join(h.dir, 'state', 'pve.state'))).toBe(false);
    const a = h.agent();
    const [r] = await a.once();
    await a.stop(0);
    expect(r?.delivery).toMatchObject({ full: true, reason: 'first run', planned: written.length });
    expect(accepted()).toEqual(written);
  });

  it('`dry_run: true` in agent.yaml plans against the live state, leaves it byte for byte, and the live run sends the change', async () => {
    const h = harness(ingester, pve);
    const live = h.agent();
    const [r1] = await live.once();
    const everything = accepted().length;
    expect(r1?.status).toBe('success');
    const stateFile = join(h.dir, 'state', 'pve.state');
    const before = readFileSync(stateFile);
    scenario.guests[4]!.resource.maxcpu = 9;
    const dryDir = join(h.dir, 'dry');
    const dryConfig = join(h.dir, 'agent-dry.yaml');
    writeFileSync(dryConfig, readFileSync(h.configFile, 'utf8').replace('diode:\n', 'diode:\n  dry_run: true\n  dry_run_output_dir: ./dry\n'));
    const dry = new Agent(loadAgentConfig(dryConfig, h.env), COLLECTORS, pino({ level: 'silent' }), { env: h.env });
    dry.loadPolicies();
    expect(dry.dryRun).toBe(true);
    const [rd] = await dry.once();
    await dry.stop(0);
    // The dry run shows what the live run would send now: the changed VM only.
    expect(rd).toMatchObject({ status: 'success', sent: { virtual_machine: 1 }, delivery: { full: false, reason: 'delta', planned: 1 } });
    const vmOf = (e: Record<string, unknown>) => [(e.virtual_machine as { name: string }).name, (e.virtual_machine as { vcpus: number }).vcpus];
    expect(dryRunEntities(dryDir).map(vmOf)).toEqual([[scenario.guests[4]!.resource.name, 9]]);
    expect(readFileSync(stateFile)).toEqual(before);
    const [r2] = await live.once();
    await live.stop(0);
    expect(r2).toMatchObject({ status: 'success', sent: { virtual_machine: 1 } });
    expect(accepted().slice(everything).map(vmOf)).toEqual([[scenario.guests[4]!.resource.name, 9]]);
  });
});

describe('a failed collection while a snapshot waits for Diode', () => {
  it('Diode down, then PVE down, then Diode back: Diode receives the pending snapshot, complete', async () => {
    let diodeDown = true;
    ingester.faultFn = () => (diodeDown ? { code: GrpcCode.UNAVAILABLE, message: 'connection refused' } : undefined);
    const { log, lines } = capture();
    const a = harness(ingester, pve).agent({ log, background: true, outboxRetryBaseMs: 50, outboxRetryMaxMs: 100 });
    const policy = a.policies[0]!;
    const r1 = await a.run(policy);
    expect(r1).toMatchObject({ status: 'failed', delivery: { pending: true } });
    // The snapshot as the Deliverer keeps it: the first attempt stopped at its first request.
    const snapshot = (a.deliverer.pending.get('pve')?.delivery.chunks ?? [])
      .flat()
      .map((e) => EntityType.toObject(EntityType.decode(e.body), { longs: Number, arrays: true }));
    expect(snapshot).toHaveLength(total(r1.collected));
    pveDown = true;
    const r2 = await a.run(policy);
    expect(r2.status).toBe('failed');
    expect(r2.error).toMatch(/^collection failed: /);
    expect(a.deliverer.pending.get('pve')?.run.result.runId).toBe(r1.runId);
    expect(
      lines
        .filter((l) => l.msg === 'collection failed; the undelivered snapshot of an earlier run stays pending')
        .map((l) => [l.level, l.run_id, l.pending_run_id]),
    ).toEqual([[40, r2.runId, r1.runId]]);
    diodeDown = false;
    await waitFor(() => !a.deliverer.pending.has('pve'));
    await a.stop(0);
    expect(accepted()).toEqual(snapshot);
    expect(r1).toMatchObject({ status: 'success', delivery: { pending: false } });
    expect(total(r1.sent)).toBe(snapshot.length);
    expect(a.deliverer.superseded).toBe(0);
    expect(await metric(a, 'diode_agent_superseded_snapshots_total', { policy: 'pve' })).toBeUndefined();
    expect(await metric(a, 'diode_agent_entities_sent_total', { policy: 'pve', kind: 'virtual_machine' })).toBe(r1.sent.virtual_machine);
    // /status keeps showing the newest run (the failed collection); nothing is pending any more.
    const status = a.status() as { policies: Array<{ delivery_pending: boolean; last_run: Record<string, unknown> }> };
    expect([status.policies[0]?.delivery_pending, status.policies[0]?.last_run.run_id, status.policies[0]?.last_run.result]).toEqual([
      false,
      r2.runId,
      'failed',
    ]);
  });
});

/** The collection time carried by the entities of a recorded request. */
function collectedAt(bytes: Uint8Array): string {
  const ts = (
    IngestRequestType.toObject(IngestRequestType.decode(bytes), { longs: Number }) as { entities: Array<{ timestamp: { seconds: number; nanos?: number } }> }
  ).entities[0]!.timestamp;
  return new Date(ts.seconds * 1000 + (ts.nanos ?? 0) / 1e6).toISOString();
}

describe('shutdown with a snapshot waiting for Diode', () => {
  const DROPPED = 'undelivered snapshot dropped at shutdown';

  it('a waiting snapshot: logged with its size and collection time, counted, and the next run is full', async () => {
    ingester.faultFn = () => ({ code: GrpcCode.UNAVAILABLE, message: 'connection refused' });
    const { log, lines } = capture();
    const h = harness(ingester, pve);
    // No retry comes before the stop: the snapshot is waiting, not being sent.
    const a = h.agent({ log, background: true, outboxRetryBaseMs: 600_000, outboxRetryMaxMs: 600_000 });
    const r = await a.run(a.policies[0]!);
    expect(r.delivery?.pending).toBe(true);
    const n = total(r.collected);
    await a.stop(0);
    expect(
      lines
        .filter((l) => l.msg === DROPPED)
        .map(({ level, policy, run_id, reason, entities, unsent, collected_at, attempts, in_flight }) => ({
          level,
          policy,
          run_id,
          reason,
          entities,
          unsent,
          collected_at,
          attempts,
          in_flight,
        })),
    ).toEqual([
      {
        level: 40,
        policy: 'pve',
        run_id: r.runId,
        reason: 'shutdown',
        entities: n,
        unsent: n,
        collected_at: collectedAt(ingester.ingests[0]!.bytes),
        attempts: 1,
        in_flight: false,
      },
    ]);
    expect(await metric(a, 'diode_agent_snapshots_dropped_total', { policy: 'pve', reason: 'shutdown' })).toBe(1);
    expect(a.deliverer.dropped).toBe(1);
    expect(a.deliverer.pending.size).toBe(0);
    expect(r).toMatchObject({ status: 'failed', error: 'Diode unavailable; snapshot dropped at shutdown', delivery: { pending: false } });
    expect(parseState(readFileSync(join(h.dir, 'state', 'pve.state')), 'pve.state').forceFull).toBe(true);
    ingester.faultFn = undefined;
    const b = h.agent();
    const [next] = await b.once();
    await b.stop(0);
    expect(next?.delivery).toMatchObject({ full: true, planned: n });
    expect(accepted()).toHaveLength(n);
  });

  it('a retry under way when the agent stops, then Diode gone: reported once as dropped, not rescheduled', async () => {
    // The first attempt fails; the background retry (the third Ingest) is held by Diode.
    ingester.faultFn = (_r, i) => (i >= 3 ? { code: 0, delayMs: 60_000 } : { code: GrpcCode.UNAVAILABLE, message: 'connection refused' });
    const { log, lines } = capture();
    const a = harness(ingester, pve).agent({ log, background: true, outboxRetryBaseMs: 10, outboxRetryMaxMs: 10 });
    const r = await a.run(a.policies[0]!);
    await waitFor(() => ingester.ingests.length >= 3);
    // The agent is told to stop before Diode goes away (the stop starts synchronously, the
    // connections break on a later turn of the event loop): the retry fails while stopping.
    const stopping = a.stop(30_000);
    await ingester.stop();
    await stopping;
    expect(lines.filter((l) => l.msg === DROPPED).map((l) => [l.run_id, l.reason, l.entities, l.unsent, l.attempts, l.in_flight])).toEqual([
      [r.runId, 'shutdown', total(r.collected), total(r.collected), 2, false],
    ]);
    expect(await metric(a, 'diode_agent_snapshots_dropped_total', { policy: 'pve', reason: 'shutdown' })).toBe(1);
    expect(r.error).toBe(
      `Diode unavailable (Diode UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:${ingester.port}. Resolution note: ); snapshot dropped at shutdown`,
    );
    expect(lines.filter((l) => l.msg === 'delivery pending, Diode unavailable').map((l) => l.attempt)).toEqual([1]);
  });

  it('a retry still under way at the end of the grace period: reported dropped (in flight) before the agent exits', async () => {
    ingester.faultFn = (_r, i) => (i >= 3 ? { code: 0, delayMs: 60_000 } : { code: GrpcCode.UNAVAILABLE, message: 'connection refused' });
    const { log, lines } = capture();
    const h = harness(ingester, pve);
    const a = h.agent({ log, background: true, outboxRetryBaseMs: 10, outboxRetryMaxMs: 10 });
    const r = await a.run(a.policies[0]!);
    await waitFor(() => ingester.ingests.length >= 3);
    await a.stop(0);
    const dropped = () => lines.filter((l) => l.msg === DROPPED).map((l) => [l.run_id, l.reason, l.entities, l.unsent, l.in_flight]);
    expect(dropped()).toEqual([[r.runId, 'shutdown', total(r.collected), total(r.collected), true]]);
    expect(await metric(a, 'diode_agent_snapshots_dropped_total', { policy: 'pve', reason: 'shutdown' })).toBe(1);
    // When the abandoned attempt does end (Diode goes away), it records the state and says nothing more.
    await ingester.stop();
    await waitFor(() => existsSync(join(h.dir, 'state', 'pve.state')));
    expect(dropped()).toHaveLength(1);
    expect(lines.filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual([
      'diode request failed, retrying',
      'delivery pending, Diode unavailable', // the first attempt
      DROPPED,
      'diode request failed, retrying', // the abandoned attempt's client, then nothing from the deliverer
    ]);
    expect(await metric(a, 'diode_agent_snapshots_dropped_total', { policy: 'pve', reason: 'shutdown' })).toBe(1);
  });
});

const CONSEQUENCE = 'the next run compares against the last saved state and resends what changed since it was saved';

describe('a state save that fails', () => {
  it('state_dir is a file: the run is partial with stateError, in /status, in the metric, logged at error', async () => {
    const h = harness(ingester, pve);
    const stateDir = join(h.dir, 'state');
    writeFileSync(stateDir, '');
    const { log, lines } = capture();
    const a = h.agent({ log });
    const [r] = await a.once();
    await a.stop(0);
    const message = `cannot create the state directory ${stateDir}: EEXIST; ${CONSEQUENCE}`;
    expect(r?.status).toBe('partial');
    expect(r?.stateError).toBe(message);
    expect(r?.error).toBeUndefined();
    expect(total(r?.sent)).toBe(total(r?.collected));
    expect(accepted()).toHaveLength(total(r?.collected));
    expect(await metric(a, 'diode_agent_state_save_failures_total', { policy: 'pve' })).toBe(1);
    expect(await metric(a, 'diode_agent_runs_total', { policy: 'pve', result: 'partial' })).toBe(1);
    const status = a.status() as { policies: Array<{ last_run: Record<string, unknown> }> };
    expect(status.policies[0]?.last_run).toMatchObject({ result: 'partial', state_error: message, error: null });
    const logged = lines.filter((l) => l.msg === 'state not saved; the next run resends what changed since the last saved state');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 50,
      policy: 'pve',
      run_id: r?.runId,
      err: {
        type: 'StateSaveError',
        code: 'state_not_saved',
        // pino's error serializer appends the cause's message.
        message: `cannot create the state directory ${stateDir}: EEXIST: EEXIST: file already exists, mkdir '${stateDir}'`,
      },
    });
    expect(lines.some((l) => String(l.msg).includes('resends everything'))).toBe(false);
  });

  it('what the next run resends: only what changed since the last saved state, not everything', async () => {
    const h = harness(ingester, pve);
    let failWrites = false;
    const store = new FileStateStore(join(h.dir, 'state'), {
      writeSync: (fd, text) => {
        if (failWrites) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        writeSync(fd, text);
      },
    });
    const a = h.agent({ store });
    const [r1] = await a.once();
    expect(r1?.status).toBe('success');
    scenario.guests[2]!.resource.maxcpu = 7;
    failWrites = true;
    const [r2] = await a.once();
    expect(r2).toMatchObject({
      status: 'partial',
      sent: { virtual_machine: 1 },
      stateError: `cannot write ${join(h.dir, 'state', 'pve.state')}: ENOSPC; ${CONSEQUENCE}`,
    });
    failWrites = false;
    const n = accepted().length;
    const [r3] = await a.once();
    expect(r3).toMatchObject({ status: 'success', sent: { virtual_machine: 1 } });
    expect(r3?.stateError).toBeUndefined();
    expect(
      accepted()
        .slice(n)
        .map((e) => e.virtual_machine as { name: string; vcpus: number })
        .map((v) => [v.name, v.vcpus]),
    ).toEqual([[scenario.guests[2]!.resource.name, 7]]);
    const [r4] = await a.once();
    await a.stop(0);
    expect(r4?.delivery).toMatchObject({ full: false, planned: 0 });
    expect(await metric(a, 'diode_agent_state_save_failures_total', { policy: 'pve' })).toBe(1);
  });

  it('`once` exits 1 and its summary says the state was not saved', async () => {
    const h = harness(ingester, pve);
    const stateDir = join(h.dir, 'state');
    writeFileSync(stateDir, '');
    const err = await exec(process.execPath, [join(root, 'bin/diode-agent.js'), 'once', '-c', h.configFile], { env: { ...h.env, LOG_LEVEL: 'silent' } }).then(
      () => undefined,
      (e: unknown) => e as { code: number; stdout: string },
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout.split('\n').filter((l) => l.startsWith('pve ') || l.startsWith('  state'))).toEqual([
      expect.stringMatching(/^pve \(pve\): partial in /),
      `  state not saved: cannot create the state directory ${stateDir}: EEXIST; ${CONSEQUENCE}`,
    ]);
  });
});
