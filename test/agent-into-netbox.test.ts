import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiodeIngester } from './fakes/diode-ingester.ts';
import { startFakeHttps, type FakeServer } from './fakes/https-server.ts';
import { NetBoxDiodeModel } from './fakes/netbox-diode/model.ts';
import { generatePveScenario, pveHandler } from '../agent/collectors/pve/fake.ts';
import { harness, PVE_TOKEN } from './helpers/agent-harness.ts';
import { duplicatesIn, modelBehind } from './helpers/netbox-model.ts';

/*
 * The agent itself (collect → map → delta → phased delivery over the real gRPC wire, with
 * diode.read_back) into the NetBox model standing behind the fake Diode: the ingester hands
 * every accepted request to the model, and RetrieveIngestionLogs answers from the model's
 * ingestion logs, applying what is queued first (the reconciler works while the agent waits).
 */

let ingester: FakeDiodeIngester;
let pve: FakeServer;
let model: NetBoxDiodeModel;

beforeEach(async () => {
  pve = await startFakeHttps(pveHandler(generatePveScenario({ guests: 60, nodes: 3, seed: 21 }), PVE_TOKEN));
  ingester = await new FakeDiodeIngester().start();
  model = new NetBoxDiodeModel({ seed: 5, workers: 4 });
  modelBehind(ingester, model);
});
afterEach(async () => {
  await ingester.stop();
  await pve.close();
});

describe('the agent into NetBox behind Diode', () => {
  it('lands a 60-guest cluster from an empty NetBox: every entity applied, none failed, nothing twice; the next run sends nothing', async () => {
    const h = harness(ingester, pve, { diodeExtra: '  read_back: { enabled: true, timeout: 20s, poll_interval: 5ms }' });
    const a = h.agent();
    try {
      const [r] = await a.once();
      expect(r!.diode.failed).toEqual([]);
      expect(model.failed().map((l) => `${l.member}: ${l.error ?? ''}`)).toEqual([]);
      expect(r!.diode.readBack).toMatchObject({ status: 'complete', failed: 0, unconfirmed: 0 });
      expect(r!.status).toBe('success');
      expect(duplicatesIn(model)).toEqual([]);
      expect(model.objects('virtualization.virtualmachine')).toHaveLength(r!.collected.virtual_machine!);
      expect(
        model
          .objects('dcim.device')
          .map((d) => d.name)
          .sort(),
      ).toEqual(['pve1', 'pve2', 'pve3']);
      // Primary IPs landed: every device with an address has one.
      expect(model.objects('dcim.device').filter((d) => d.primary_ip4 == null)).toEqual([]);
      const before = ingester.ingests.length;
      const [r2] = await a.once();
      expect(r2!.delivery).toMatchObject({ full: false, planned: 0 });
      expect(ingester.ingests.length).toBe(before);
    } finally {
      await a.stop(0);
    }
    // Everything again (delta off): NetBox already holds every field the agent sends, so
    // nothing changes; a field lost on the first run to a race would show here.
    h.writePolicy('delta: false\n');
    const b = h.agent();
    try {
      const seen = model.logs().length;
      const [r3] = await b.once();
      expect(r3!.delivery).toMatchObject({ full: true });
      const again = model.logs().slice(seen);
      expect(again).toHaveLength(r3!.diode.entities);
      expect(again.filter((l) => l.state !== 'no_changes').map((l) => `${l.member} ${l.state} ${l.error ?? ''}`)).toEqual([]);
    } finally {
      await b.stop(0);
    }
  });
});
