import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSummary } from '../agent/cli.ts';
import { naturalKey } from '../mappers/keys.ts';
import { DELIVERY_PHASES, deliveryPhase, kindRank } from '../mappers/order.ts';
import type { AnyEntity, EntityKind } from '../mappers/types.ts';
import { StatusServer } from '../agent/telemetry/status-server.ts';
import { FakeDiodeIngester, GrpcCode, type FakeEvent, type RecordedIngest } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { entitiesOf, harness, kindOf, PVE_TOKEN } from './helpers/agent-harness.ts';

/*
 * diode.read_back through the real wire: the fake Diode serves ReconcilerService beside the
 * ingester on one port, checks the diode:read scope, and scripts the ingestion logs.
 */
let ingester: FakeDiodeIngester;
let pve: FakeServer;

const READ_BACK = (timeout = '10s') => `  read_back: { enabled: true, timeout: ${timeout}, poll_interval: 5ms }`;

beforeEach(async () => {
  pve = await startFakeHttps(pveHandler(generatePveScenario({ guests: 4, nodes: 1, seed: 3 }), PVE_TOKEN));
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, stream) as Logger, lines };
}

/** The agent's `kind|key` of a decoded entity as the fake recorded it. */
function idOf(e: Record<string, unknown>): string {
  const kind = kindOf(e);
  return `${kind}|${naturalKey({ kind, value: e[kind] } as AnyEntity)}`;
}

const metricValue = (text: string, line: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(line))
      ?.split(' ')
      .pop(),
  );
const acceptedIngests = () => ingester.ingests.filter((r) => r.code === GrpcCode.OK);
/** The delivery phases (mappers/order.ts DELIVERY_PHASES) of the entities of one request. */
const phasesOf = (r: RecordedIngest) => [...new Set(r.request.entities.map((e) => deliveryPhase(kindOf(e) as EntityKind)))];
/** At this scenario's size every phase is present and fits one request: [[0], [1], [2], [3], [4]]. */
const ONE_REQUEST_PER_PHASE = DELIVERY_PHASES.map((_kinds, i) => [i]);
/** The accepted requests that carry virtual machines. */
const vmRequests = () => acceptedIngests().filter((x) => x.request.entities.some((e) => kindOf(e) === 'virtual_machine'));

describe('diode.read_back', () => {
  it('two entities Diode fails: reported in the result, /status, metrics and the once summary; the next delta run resends exactly those two', async () => {
    ingester = await new FakeDiodeIngester().start();
    const secret = ingester.opts.clientSecret;
    // Run 1: the first two VMs of the request that carries them (phase 3) fail, with an error
    // that quotes a secret.
    const failing: number[] = [];
    let vmRequest = '';
    ingester.scriptLogs(({ requestId, index, kind, entity }) => {
      if (kind === 'virtual_machine' && (vmRequest === '' || vmRequest === requestId)) {
        vmRequest = requestId;
        if (failing.length < 2 && !failing.includes(index)) failing.push(index);
        if (failing.includes(index)) return { state: 'failed', error: `The selected cluster is not assigned to this site (${secret})` };
      }
      return { state: kindOf(entity) === 'platform' ? 'no_changes' : 'reconciled' };
    });
    const h = harness(ingester, pve, { diodeExtra: READ_BACK() });
    const a = h.agent();
    const server = new StatusServer(a, a.metrics);
    await server.listen('127.0.0.1:0');
    try {
      const [r] = await a.once();
      expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
      expect(vmRequests().map((x) => x.request.id)).toEqual([vmRequest]);
      const vms = vmRequests()[0]!.request.entities;
      const failedIds = failing.map((i) => idOf(vms[i]!));
      expect(failedIds).toHaveLength(2);
      const keyOf = (id: string) => id.slice(id.indexOf('|') + 1);
      const error = `The selected cluster is not assigned to this site (${secret}) [FAILED]`;
      const expectedFailed = failedIds.map((id) => ({ kind: 'virtual_machine', key: keyOf(id), error }));
      const total = acceptedIngests().reduce((n, x) => n + x.request.entities.length, 0);
      expect(r!.status).toBe('partial');
      expect(r!.diode.failed).toEqual(expectedFailed);
      expect(r!.diode.readBack).toEqual({
        status: 'complete',
        applied: total - 2 - r!.collected.platform!,
        noChanges: r!.collected.platform,
        failed: 2,
        ignored: 0,
        unconfirmed: 0,
        polls: 5,
      });
      expect(r!.sent.virtual_machine).toBe(r!.collected.virtual_machine! - 2);

      const status = (await (await fetch(`http://127.0.0.1:${server.port}/status`)).json()) as { policies: Array<{ last_run: Record<string, unknown> }> };
      const redacted = expectedFailed.map((f) => ({ ...f, error: f.error.replace(secret, '[REDACTED]') }));
      expect(status.policies[0]!.last_run.diode_failed).toEqual(redacted);
      expect(status.policies[0]!.last_run.diode_read_back).toEqual(r!.diode.readBack);
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(metricValue(metrics, 'diode_agent_entities_failed_total{policy="pve"}')).toBe(2);
      expect(metricValue(metrics, 'diode_agent_entities_unconfirmed_total{policy="pve"}')).toBe(0);

      const summary = formatSummary([r!]).split('\n');
      expect(summary).toContain(
        `  diode read-back: ${total - 2 - r!.collected.platform!} applied, ${r!.collected.platform} unchanged, 2 failed, 0 ignored, 0 unconfirmed`,
      );
      expect(summary.filter((l) => l.startsWith('  failed in diode: '))).toEqual(
        redacted.map((f) => `  failed in diode: virtual_machine ${f.key}: ${f.error}`),
      );
      expect(summary.join('\n')).not.toContain(secret);

      // Run 2, Diode applies everything: the delta is exactly the two failed VMs.
      ingester.scriptLogs(() => ({ state: 'reconciled' }));
      const before = acceptedIngests().length;
      const [r2] = await a.once();
      const resent = entitiesOf(
        acceptedIngests()
          .slice(before)
          .map((x) => x.bytes),
      );
      expect(resent.map(idOf)).toEqual(failedIds);
      // One phase only (the VMs'): no wait between phases, one poll at the end.
      expect(acceptedIngests().slice(before).map(phasesOf)).toEqual([[2]]);
      expect(r2!).toMatchObject({ status: 'success', sent: { virtual_machine: 2 }, delivery: { full: false, reason: 'delta', planned: 2 } });
      expect(r2!.diode.failed).toEqual([]);
      expect(r2!.diode.readBack).toEqual({ status: 'complete', applied: 2, noChanges: 0, failed: 0, ignored: 0, unconfirmed: 0, polls: 1 });

      // Run 3: nothing changed and nothing failed, so nothing is sent.
      const [r3] = await a.once();
      expect(r3!.delivery).toMatchObject({ full: false, planned: 0 });
      expect(acceptedIngests().length).toBe(before + 1);
    } finally {
      await server.close();
      await a.stop(0);
    }
  });

  it('logs still queued when the timeout passes: unconfirmed, reported, and delivered as far as the state knows', async () => {
    ingester = await new FakeDiodeIngester().start();
    // The tags (phase 1, the first request) are applied; every later phase stays queued: each
    // phase boundary waits out the timeout, then the next phase goes out all the same.
    ingester.scriptLogs(({ request }) => (request === 1 ? { state: 'reconciled' } : { state: 'queued' }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK('150ms') }).agent();
    const [r] = await a.once();
    expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    const [tags, ...later] = acceptedIngests().map((x) => x.request.entities.length);
    const queued = later.reduce((n, x) => n + x, 0);
    expect(tags! + queued).toBe(r!.diode.entities);
    expect(r!.status).toBe('success');
    expect(r!.diode.failed).toEqual([]);
    expect(r!.diode.readBack).toMatchObject({ status: 'timeout', applied: tags, noChanges: 0, failed: 0, ignored: 0, unconfirmed: queued });
    expect(r!.sent).toEqual(r!.collected);
    expect(formatSummary([r!]).split('\n')).toContain(`  diode read-back: ${tags} applied, 0 unchanged, 0 failed, 0 ignored, ${queued} unconfirmed`);
    const metrics = await a.metrics.registry.metrics();
    expect(metricValue(metrics, 'diode_agent_entities_unconfirmed_total{policy="pve"}')).toBe(queued);
    expect(metricValue(metrics, 'diode_agent_entities_failed_total{policy="pve"}')).toBe(0);
    // As without read-back: the next delta run has nothing to send.
    const [r2] = await a.once();
    expect(r2!.delivery).toMatchObject({ full: false, reason: 'delta', planned: 0 });
    await a.stop(0);
  });

  it('a credential the token endpoint refuses diode:read: one warning per policy, delivery as without read-back', async () => {
    ingester = await new FakeDiodeIngester({ allowedScopes: ['diode:ingest'] }).start();
    const { log, lines } = capture();
    const h = harness(ingester, pve, { diodeExtra: READ_BACK() });
    h.writePolicy('delta: false');
    const a = h.agent({ log });
    const [r1] = await a.once();
    const [r2] = await a.once();
    await a.stop(0);
    for (const r of [r1!, r2!]) {
      expect(r.status).toBe('success');
      expect(r.sent).toEqual(r.collected);
      expect(r.diode.readBack).toEqual({
        status: 'unavailable',
        applied: 0,
        noChanges: 0,
        failed: 0,
        ignored: 0,
        unconfirmed: r.diode.entities,
        polls: 1,
        error: `token request to http://127.0.0.1:${ingester.port}/diode/auth/token was refused: HTTP 400 invalid_scope: the OAuth2 client is not allowed the diode:read scope`,
      });
      expect(formatSummary([r])).toContain(`  diode read-back unavailable: ${r.diode.readBack!.error}`);
    }
    const warnings = lines.filter((l) => l.msg === 'diode read-back unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      policy: 'pve',
      reason: r1!.diode.readBack!.error,
      fallback:
        'entities count as delivered once Diode accepts them, as without read-back; grant the Diode OAuth2 client the diode:read scope, or set diode.read_back.enabled: false',
    });
    expect(metricValue(await a.metrics.registry.metrics(), 'diode_agent_read_back_unavailable_total{policy="pve"}')).toBe(2);
    expect(ingester.tokenRequests.map((t) => t.scope)).toEqual(['diode:ingest', 'diode:read', 'diode:read']);
    expect(ingester.retrieveRequests).toEqual([]);
    // Two full runs, each every phase in order, without waiting between them.
    expect(acceptedIngests().map(phasesOf)).toEqual([...ONE_REQUEST_PER_PHASE, ...ONE_REQUEST_PER_PHASE]);
    expect(ingester.events.map((e) => e.type)).toEqual(Array(2 * DELIVERY_PHASES.length).fill('ingest'));
  });

  it('a token granted without diode:read: RetrieveIngestionLogs is UNAUTHENTICATED after one refresh, one warning, fallback', async () => {
    ingester = await new FakeDiodeIngester({ allowedScopes: ['diode:ingest'], unallowedScope: 'drop' }).start();
    const { log, lines } = capture();
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent({ log });
    const [r] = await a.once();
    await a.stop(0);
    expect(r!.status).toBe('success');
    expect(r!.diode.readBack).toMatchObject({ status: 'unavailable', failed: 0, unconfirmed: r!.diode.entities });
    expect(r!.diode.readBack!.error).toBe(
      "Diode refused RetrieveIngestionLogs (UNAUTHENTICATED: missing or invalid authorization: scope diode:read required): the reconciler requires the diode:read scope, which this credential's token does not carry",
    );
    expect(ingester.events.filter((e) => e.type === 'retrieve').map((e) => e.code)).toEqual([GrpcCode.UNAUTHENTICATED, GrpcCode.UNAUTHENTICATED]);
    expect(lines.filter((l) => l.msg === 'diode read-back unavailable')).toHaveLength(1);
    // The refusal comes at the first phase boundary (after the tags); every phase went out all
    // the same, in order, without waiting.
    expect(ingester.events.map((e) => `${e.type}:${e.code}`)).toEqual([
      'ingest:0',
      `retrieve:${GrpcCode.UNAUTHENTICATED}`,
      `retrieve:${GrpcCode.UNAUTHENTICATED}`,
      'ingest:0',
      'ingest:0',
      'ingest:0',
      'ingest:0',
    ]);
    expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
  });

  it('a Diode that does not route ReconcilerService (HTTP 404 → UNIMPLEMENTED): one warning, fallback', async () => {
    ingester = await new FakeDiodeIngester({ reconcilerService: false }).start();
    const { log, lines } = capture();
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent({ log });
    const [r] = await a.once();
    await a.stop(0);
    expect(r!.status).toBe('success');
    expect(r!.diode.readBack).toMatchObject({ status: 'unavailable', unconfirmed: r!.diode.entities });
    expect(r!.diode.readBack!.error).toMatch(
      /^Diode does not serve \/diode\/diode\.v1\.ReconcilerService\/RetrieveIngestionLogs \(UNIMPLEMENTED: .*\): a release without ReconcilerService, or a proxy that does not route it$/,
    );
    expect(lines.filter((l) => l.msg === 'diode read-back unavailable')).toHaveLength(1);
  });
});

describe('phases in order', () => {
  const order = (events: FakeEvent[]) => events.map((e) => `${e.type}:${e.code}`);
  /** Each request's kinds as a set: one request per phase at this size. */
  const KINDS_BY_PHASE = [
    new Set(['tag']),
    new Set(['custom_field', 'cluster_type', 'platform']),
    new Set(['cluster', 'vlan', 'prefix', 'virtual_machine', 'device']),
    new Set(['vm_interface', 'interface', 'virtual_disk']),
    new Set(['ip_address']),
  ];
  const expectPhasedRequests = () => {
    expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    expect(acceptedIngests().map((x) => new Set(x.request.entities.map(kindOf)))).toEqual(KINDS_BY_PHASE);
    // Within a phase, emission order.
    for (const x of acceptedIngests()) {
      const ranks = x.request.entities.map((e) => kindRank(kindOf(e) as EntityKind));
      expect(ranks).toEqual([...ranks].sort((p, q) => p - q));
    }
  };

  it("with read-back: each phase is sent only after the previous phase's logs are final", async () => {
    ingester = await new FakeDiodeIngester().start();
    // Listings that see each request's logs still queued, phase by phase.
    const queued = [3, 1, 2, 0, 1];
    ingester.scriptLogs(({ request }) => ({ state: 'reconciled', queuedPolls: queued[request - 1]! }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent();
    const [r] = await a.once();
    await a.stop(0);
    expectPhasedRequests();
    const ids = ingester.acceptedRequestIds();
    expect(ingester.events.filter((e) => e.type === 'ingest').map((e) => e.requestId)).toEqual(ids);
    // Each phase's Ingest, then listings until its logs are final (queued ones, then the
    // final one); only then the next phase's Ingest. After the last phase, the same wait.
    expect(order(ingester.events)).toEqual(queued.flatMap((q) => ['ingest:0', ...Array<string>(q + 1).fill('retrieve:0')]));
    // What each listing saw of the phase being waited for.
    const seen: string[][][] = [];
    for (const e of ingester.events) {
      if (e.type === 'ingest') seen.push([]);
      else seen.at(-1)!.push((e.logs ?? []).filter((l) => l.requestId === ids[seen.length - 1]).map((l) => l.state));
    }
    const sizes = acceptedIngests().map((x) => x.request.entities.length);
    expect(seen).toEqual(
      queued.map((q, k) => [...Array<string[]>(q).fill(Array<string>(sizes[k]!).fill('queued')), Array<string>(sizes[k]!).fill('reconciled')]),
    );
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', applied: r!.diode.entities, failed: 0, unconfirmed: 0, polls: 12 });
  });

  it('without read-back: phases still go in order, and nothing is read back', async () => {
    ingester = await new FakeDiodeIngester().start();
    const a = harness(ingester, pve).agent();
    const [r] = await a.once();
    await a.stop(0);
    expectPhasedRequests();
    expect(order(ingester.events)).toEqual(Array<string>(DELIVERY_PHASES.length).fill('ingest:0'));
    expect(ingester.tokenRequests.map((t) => t.scope)).toEqual(['diode:ingest']);
    expect(r!.diode.readBack).toBeUndefined();
    expect(r!.status).toBe('success');
  });
});

describe('listing the logs', () => {
  it('a Diode that honours request_id: one listing per request still pending, each asking for its own id', async () => {
    ingester = await new FakeDiodeIngester({ requestIdFilter: true }).start();
    ingester.scriptLogs(({ request }) => ({ state: 'reconciled', queuedPolls: request === 3 ? 2 : request === 5 ? 1 : 0 }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent();
    const [r] = await a.once();
    await a.stop(0);
    expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    const [p1, p2, p3, p4, p5] = ingester.acceptedRequestIds();
    // One listing per phase boundary for the phase just sent (the third queued for two
    // listings: three), then at the end only the last request, the one still pending
    // (queued for one listing: two); never the requests already final.
    expect(ingester.retrieveRequests.map((q) => q.request_id)).toEqual([p1, p2, p3, p3, p3, p4, p5, p5]);
    expect(ingester.events.map((e) => (e.type === 'ingest' ? `ingest ${e.requestId}` : `list ${e.requestId}`))).toEqual([
      `ingest ${p1}`,
      `list ${p1}`,
      `ingest ${p2}`,
      `list ${p2}`,
      `ingest ${p3}`,
      `list ${p3}`,
      `list ${p3}`,
      `list ${p3}`,
      `ingest ${p4}`,
      `list ${p4}`,
      `ingest ${p5}`,
      `list ${p5}`,
      `list ${p5}`,
    ]);
    expect(ingester.retrieveRequests.every((q) => q.page_token === '' && q.page_size === 500 && Number(q.ingestion_ts_start) > 0)).toBe(true);
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', failed: 0, unconfirmed: 0, polls: 8 });
  });

  it('pages through a listing: every page asked for with the token of the one before', async () => {
    ingester = await new FakeDiodeIngester().start();
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent();
    // 500 logs a page is more than this run has: ask the fake for pages of 10 instead.
    const reader = a.sink.logs!;
    const original = reader.retrieveIngestionLogs.bind(reader);
    reader.retrieveIngestionLogs = (req, signal) => original({ ...req, page_size: 10 }, signal);
    const [r] = await a.once();
    await a.stop(0);
    const total = r!.diode.entities;
    expect(acceptedIngests().map(phasesOf)).toEqual(ONE_REQUEST_PER_PHASE);
    expect(acceptedIngests().map((x) => x.request.entities.length)).toEqual([6, 17, 12, 17, 10]);
    const [p1, p2] = ingester.acceptedRequestIds();
    // One listing per phase, newest first, so the phase just sent comes first; paging stops on
    // the page that holds the last of its logs. Listing 1 (after the tags): their 6 logs, one
    // page, all of that request, so nothing shows the filter ignored. Listing 2 (the second
    // phase's 17 logs, then the tags' 6): page 2 holds the tags' logs, so the filter is seen
    // ignored there. Listings 3 and 4 (12 and 17 logs first, asked for without a request id):
    // 2 pages each. Listing 5 (the last phase's 10): one page.
    expect(ingester.retrieveRequests.map((q) => [q.request_id, q.page_token])).toEqual([
      [p1, ''],
      [p2, ''],
      [p2, '2:10'],
      ['', ''],
      ['', '3:10'],
      ['', ''],
      ['', '4:10'],
      ['', ''],
    ]);
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', applied: total, unconfirmed: 0, polls: 5 });
  });
});

describe('failed entities and Diode folding identical resends into earlier logs', () => {
  it('a failed entity resent unchanged gets no log of its own: unconfirmed, and sent again until a log confirms it', async () => {
    ingester = await new FakeDiodeIngester().start();
    let failedId = '';
    ingester.scriptLogs(({ kind, entity }) => {
      if (kind === 'virtual_machine' && !failedId) failedId = idOf(entity);
      return idOf(entity) === failedId ? { state: 'failed', error: 'Field type is required' } : { state: 'reconciled' };
    });
    const a = harness(ingester, pve, { diodeExtra: READ_BACK('100ms') }).agent();
    const [r1] = await a.once();
    expect(vmRequests()).toHaveLength(1);
    expect(r1!.diode.failed?.map((f) => `${f.kind}|${f.key}`)).toEqual([failedId]);
    // Run 2: the resent VM is identical to the one Diode failed; Diode requeues that earlier log
    // and writes none under this run's request, so read-back cannot confirm it.
    ingester.scriptLogs(({ entity }) => (idOf(entity) === failedId ? 'absent' : { state: 'reconciled' }));
    const sentBefore = () => entitiesOf(acceptedIngests().map((x) => x.bytes)).length;
    let n = sentBefore();
    const [r2] = await a.once();
    expect(
      entitiesOf(acceptedIngests().map((x) => x.bytes))
        .slice(n)
        .map(idOf),
    ).toEqual([failedId]);
    expect(r2!.diode.readBack).toMatchObject({ status: 'timeout', applied: 0, failed: 0, unconfirmed: 1 });
    expect(r2!.diode.failed).toEqual([]);
    // Run 3: never confirmed, so sent again; this time its log says applied.
    ingester.scriptLogs(() => ({ state: 'reconciled' }));
    n = sentBefore();
    const [r3] = await a.once();
    expect(
      entitiesOf(acceptedIngests().map((x) => x.bytes))
        .slice(n)
        .map(idOf),
    ).toEqual([failedId]);
    expect(r3!.diode.readBack).toMatchObject({ status: 'complete', applied: 1, unconfirmed: 0 });
    // Run 4: confirmed, nothing to send.
    const [r4] = await a.once();
    expect(r4!.delivery).toMatchObject({ full: false, planned: 0 });
    await a.stop(0);
  });
});
