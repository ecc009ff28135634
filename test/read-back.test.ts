import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSummary } from '../agent/cli.ts';
import { naturalKey } from '../mappers/keys.ts';
import type { AnyEntity } from '../mappers/types.ts';
import { StatusServer } from '../agent/telemetry/status-server.ts';
import { FakeDiodeIngester, GrpcCode, type FakeEvent } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { generatePveScenario, pveHandler } from './fakes/pve-server.ts';
import { entitiesOf, harness, kindOf, PVE_TOKEN } from './helpers/agent-harness.ts';

/*
 * diode.read_back through the real wire: the fake Diode serves ReconcilerService beside the
 * ingester on one port, checks the diode:read scope, and scripts the ingestion logs.
 */
let ingester: FakeDiodeIngester;
let pve: FakeServer;

const READ_BACK = (timeout = '10s') => `  read_back: { enabled: true, timeout: ${timeout}, poll_interval: 5ms }`;
const DEFINITIONS = new Set(['tag', 'custom_field_choice_set', 'custom_field']);

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

const metricValue = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').pop());
const acceptedIngests = () => ingester.ingests.filter((r) => r.code === GrpcCode.OK);

describe('diode.read_back', () => {
  it('two entities Diode fails: reported in the result, /status, metrics and the once summary; the next delta run resends exactly those two', async () => {
    ingester = await new FakeDiodeIngester().start();
    const secret = ingester.opts.clientSecret;
    // Run 1: the first two VMs of the second request fail, with an error that quotes a secret.
    let failing: number[] = [];
    ingester.scriptLogs(({ request, index, kind, entity }) => {
      if (request === 2 && kind === 'virtual_machine') {
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
      const second = acceptedIngests()[1]!.request.entities;
      const failedIds = failing.map((i) => idOf(second[i]!));
      expect(failedIds).toHaveLength(2);
      const keyOf = (id: string) => id.slice(id.indexOf('|') + 1);
      const error = `The selected cluster is not assigned to this site (${secret}) [FAILED]`;
      const expectedFailed = failedIds.map((id) => ({ kind: 'virtual_machine', key: keyOf(id), error }));
      const total = acceptedIngests().reduce((n, x) => n + x.request.entities.length, 0);
      expect(r!.status).toBe('partial');
      expect(r!.diode.failed).toEqual(expectedFailed);
      expect(r!.diode.readBack).toEqual({ status: 'complete', applied: total - 2 - r!.collected.platform!, noChanges: r!.collected.platform, failed: 2, ignored: 0, unconfirmed: 0, polls: 2 });
      expect(r!.sent.virtual_machine).toBe(r!.collected.virtual_machine! - 2);

      const status = await (await fetch(`http://127.0.0.1:${server.port}/status`)).json() as { policies: Array<{ last_run: Record<string, unknown> }> };
      const redacted = expectedFailed.map((f) => ({ ...f, error: f.error.replace(secret, '[REDACTED]') }));
      expect(status.policies[0]!.last_run.diode_failed).toEqual(redacted);
      expect(status.policies[0]!.last_run.diode_read_back).toEqual(r!.diode.readBack);
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(metricValue(metrics, 'diode_agent_entities_failed_total{policy="pve"}')).toBe(2);
      expect(metricValue(metrics, 'diode_agent_entities_unconfirmed_total{policy="pve"}')).toBe(0);

      const summary = formatSummary([r!]).split('\n');
      expect(summary).toContain(`  diode read-back: ${total - 2 - r!.collected.platform!} applied, ${r!.collected.platform} unchanged, 2 failed, 0 ignored, 0 unconfirmed`);
      expect(summary.filter((l) => l.startsWith('  failed in diode: '))).toEqual(redacted.map((f) => `  failed in diode: virtual_machine ${f.key}: ${f.error}`));
      expect(summary.join('\n')).not.toContain(secret);

      // Run 2, Diode applies everything: the delta is exactly the two failed VMs.
      ingester.scriptLogs(() => ({ state: 'reconciled' }));
      const before = acceptedIngests().length;
      const [r2] = await a.once();
      const resent = entitiesOf(acceptedIngests().slice(before).map((x) => x.bytes));
      expect(resent.map(idOf)).toEqual(failedIds);
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
    ingester.scriptLogs(({ request }) => (request === 1 ? { state: 'reconciled' } : { state: 'queued' }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK('150ms') }).agent();
    const [r] = await a.once();
    const queued = acceptedIngests()[1]!.request.entities.length;
    const definitions = acceptedIngests()[0]!.request.entities.length;
    expect(r!.status).toBe('success');
    expect(r!.diode.failed).toEqual([]);
    expect(r!.diode.readBack).toMatchObject({ status: 'timeout', applied: definitions, noChanges: 0, failed: 0, ignored: 0, unconfirmed: queued });
    expect(r!.sent).toEqual(r!.collected);
    expect(formatSummary([r!]).split('\n')).toContain(`  diode read-back: ${definitions} applied, 0 unchanged, 0 failed, 0 ignored, ${queued} unconfirmed`);
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
        status: 'unavailable', applied: 0, noChanges: 0, failed: 0, ignored: 0, unconfirmed: r.diode.entities, polls: 1,
        error: `token request to http://127.0.0.1:${ingester.port}/diode/auth/token was refused: HTTP 400 invalid_scope: the OAuth2 client is not allowed the diode:read scope`,
      });
      expect(formatSummary([r])).toContain(`  diode read-back unavailable: ${r.diode.readBack!.error}`);
    }
    const warnings = lines.filter((l) => l.msg === 'diode read-back unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ policy: 'pve', reason: r1!.diode.readBack!.error, fallback: 'entities count as delivered once Diode accepts them, as without read-back; grant the Diode OAuth2 client the diode:read scope, or set diode.read_back.enabled: false' });
    expect(metricValue(await a.metrics.registry.metrics(), 'diode_agent_read_back_unavailable_total{policy="pve"}')).toBe(2);
    expect(ingester.tokenRequests.map((t) => t.scope)).toEqual(['diode:ingest', 'diode:read', 'diode:read']);
    expect(ingester.retrieveRequests).toEqual([]);
    expect(acceptedIngests()).toHaveLength(4);
  });

  it('a token granted without diode:read: RetrieveIngestionLogs is UNAUTHENTICATED after one refresh, one warning, fallback', async () => {
    ingester = await new FakeDiodeIngester({ allowedScopes: ['diode:ingest'], unallowedScope: 'drop' }).start();
    const { log, lines } = capture();
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent({ log });
    const [r] = await a.once();
    await a.stop(0);
    expect(r!.status).toBe('success');
    expect(r!.diode.readBack).toMatchObject({ status: 'unavailable', failed: 0, unconfirmed: r!.diode.entities });
    expect(r!.diode.readBack!.error).toBe('Diode refused RetrieveIngestionLogs (UNAUTHENTICATED: missing or invalid authorization: scope diode:read required): the reconciler requires the diode:read scope, which this credential\'s token does not carry');
    expect(ingester.events.filter((e) => e.type === 'retrieve').map((e) => e.code)).toEqual([GrpcCode.UNAUTHENTICATED, GrpcCode.UNAUTHENTICATED]);
    expect(lines.filter((l) => l.msg === 'diode read-back unavailable')).toHaveLength(1);
    // Both requests went out all the same, definitions first.
    expect(ingester.events.filter((e) => e.type === 'ingest').map((e) => e.code)).toEqual([GrpcCode.OK, GrpcCode.OK]);
  });

  it('a Diode that does not route ReconcilerService (HTTP 404 → UNIMPLEMENTED): one warning, fallback', async () => {
    ingester = await new FakeDiodeIngester({ reconcilerService: false }).start();
    const { log, lines } = capture();
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent({ log });
    const [r] = await a.once();
    await a.stop(0);
    expect(r!.status).toBe('success');
    expect(r!.diode.readBack).toMatchObject({ status: 'unavailable', unconfirmed: r!.diode.entities });
    expect(r!.diode.readBack!.error).toMatch(/^Diode does not serve \/diode\/diode\.v1\.ReconcilerService\/RetrieveIngestionLogs \(UNIMPLEMENTED: .*\): a release without ReconcilerService, or a proxy that does not route it$/);
    expect(lines.filter((l) => l.msg === 'diode read-back unavailable')).toHaveLength(1);
  });
});

describe('definitions first', () => {
  const order = (events: FakeEvent[]) => events.map((e) => `${e.type}:${e.code}`);

  it('with read-back: definitions alone in the first request, the second sent only after their logs are final', async () => {
    ingester = await new FakeDiodeIngester().start();
    ingester.scriptLogs(({ request }) => (request === 1 ? { state: 'reconciled', queuedPolls: 3 } : { state: 'reconciled' }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent();
    const [r] = await a.once();
    await a.stop(0);
    const [first, second] = acceptedIngests();
    expect(acceptedIngests()).toHaveLength(2);
    expect(new Set(first!.request.entities.map(kindOf))).toEqual(new Set(['tag', 'custom_field']));
    expect(second!.request.entities.filter((e) => DEFINITIONS.has(kindOf(e)))).toEqual([]);
    // Three listings see the definitions queued, the fourth final; only then the second Ingest.
    expect(order(ingester.events)).toEqual(['ingest:0', 'retrieve:0', 'retrieve:0', 'retrieve:0', 'retrieve:0', 'ingest:0', 'retrieve:0']);
    const listings = ingester.events.filter((e) => e.type === 'retrieve');
    const definitionStates = (e: FakeEvent) => (e.logs ?? []).filter((l) => l.requestId === first!.request.id).map((l) => l.state);
    const n = first!.request.entities.length;
    expect(listings.slice(0, 4).map(definitionStates)).toEqual([
      Array(n).fill('queued'), Array(n).fill('queued'), Array(n).fill('queued'), Array(n).fill('reconciled'),
    ]);
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', failed: 0, unconfirmed: 0, polls: 5 });
  });

  it('without read-back: definitions still go first, alone, and nothing is read back', async () => {
    ingester = await new FakeDiodeIngester().start();
    const a = harness(ingester, pve).agent();
    const [r] = await a.once();
    await a.stop(0);
    const [first, second] = acceptedIngests();
    expect(new Set(first!.request.entities.map(kindOf))).toEqual(new Set(['tag', 'custom_field']));
    expect(second!.request.entities.filter((e) => DEFINITIONS.has(kindOf(e)))).toEqual([]);
    expect(order(ingester.events)).toEqual(['ingest:0', 'ingest:0']);
    expect(ingester.tokenRequests.map((t) => t.scope)).toEqual(['diode:ingest']);
    expect(r!.diode.readBack).toBeUndefined();
    expect(r!.status).toBe('success');
  });
});

describe('listing the logs', () => {
  it('a Diode that honours request_id: one listing per request still pending, each asking for its own id', async () => {
    ingester = await new FakeDiodeIngester({ requestIdFilter: true }).start();
    ingester.scriptLogs(({ request }) => ({ state: 'reconciled', queuedPolls: request === 2 ? 2 : 0 }));
    const a = harness(ingester, pve, { diodeExtra: READ_BACK() }).agent();
    const [r] = await a.once();
    await a.stop(0);
    const [first, second] = ingester.acceptedRequestIds();
    // Definitions: one listing. Then the rest, queued for two listings of its own: three more.
    expect(ingester.retrieveRequests.map((q) => q.request_id)).toEqual([first, second, second, second]);
    expect(ingester.retrieveRequests.every((q) => q.page_token === '' && q.page_size === 500 && Number(q.ingestion_ts_start) > 0)).toBe(true);
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', failed: 0, unconfirmed: 0, polls: 4 });
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
    const [defs, rest] = acceptedIngests().map((x) => x.request.entities.length);
    expect(defs).toBe(13);
    const tokens = ingester.retrieveRequests.map((q) => q.page_token);
    // Listing 1, the definitions' 13 logs: 2 pages. Listing 2, newest first: the rest's logs
    // come first, and paging stops on the page that holds the last of them.
    expect(tokens).toEqual(['', '1:10', '', ...Array.from({ length: Math.ceil(rest! / 10) - 1 }, (_v, i) => `2:${(i + 1) * 10}`)]);
    expect(r!.diode.readBack).toMatchObject({ status: 'complete', applied: total, unconfirmed: 0 });
  });
});

describe('failed entities and Diode folding identical resends into earlier logs', () => {
  it('a failed entity resent unchanged gets no log of its own: unconfirmed, and sent again until a log confirms it', async () => {
    ingester = await new FakeDiodeIngester().start();
    let failedId = '';
    ingester.scriptLogs(({ request, kind, entity }) => {
      if (request === 2 && kind === 'virtual_machine' && !failedId) failedId = idOf(entity);
      return idOf(entity) === failedId ? { state: 'failed', error: 'Field type is required' } : { state: 'reconciled' };
    });
    const a = harness(ingester, pve, { diodeExtra: READ_BACK('100ms') }).agent();
    const [r1] = await a.once();
    expect(r1!.diode.failed?.map((f) => `${f.kind}|${f.key}`)).toEqual([failedId]);
    // Run 2: the resent VM is identical to the one Diode failed; Diode requeues that earlier log
    // and writes none under this run's request, so read-back cannot confirm it.
    ingester.scriptLogs(({ entity }) => (idOf(entity) === failedId ? 'absent' : { state: 'reconciled' }));
    const sentBefore = () => entitiesOf(acceptedIngests().map((x) => x.bytes)).length;
    let n = sentBefore();
    const [r2] = await a.once();
    expect(entitiesOf(acceptedIngests().map((x) => x.bytes)).slice(n).map(idOf)).toEqual([failedId]);
    expect(r2!.diode.readBack).toMatchObject({ status: 'timeout', applied: 0, failed: 0, unconfirmed: 1 });
    expect(r2!.diode.failed).toEqual([]);
    // Run 3: never confirmed, so sent again; this time its log says applied.
    ingester.scriptLogs(() => ({ state: 'reconciled' }));
    n = sentBefore();
    const [r3] = await a.once();
    expect(entitiesOf(acceptedIngests().map((x) => x.bytes)).slice(n).map(idOf)).toEqual([failedId]);
    expect(r3!.diode.readBack).toMatchObject({ status: 'complete', applied: 1, unconfirmed: 0 });
    // Run 4: confirmed, nothing to send.
    const [r4] = await a.once();
    expect(r4!.delivery).toMatchObject({ full: false, planned: 0 });
    await a.stop(0);
  });
});
