import { beforeAll, describe, expect, it } from 'vitest';
import { IngestRequestType } from '../agent/diode/codec.ts';
import { readDryRunFile } from '../agent/diode/dry-run.ts';
import { collectorLabs, runDemo } from './demo/lab.ts';
import { NetBoxDiodeModel, type IngestionLog } from './fakes/netbox-diode/model.ts';
import { deliverWire, duplicatesIn } from './helpers/netbox-model.ts';

/*
 * The demo lab's five policies (PVE, PBS, PDM, Ceph on the same nodes, Packer templates in
 * the PVE cluster) into ONE NetBox behind the Diode model, as their dry-run files would be
 * replayed: every entity decoded from the very bytes the agent writes, phase by phase.
 */

type WireEntity = Record<string, unknown>;
let policies: Array<{ policy: string; entities: WireEntity[] }> = [];

const failures = (logs: IngestionLog[]) => logs.filter((l) => l.state === 'failed').map((l) => `${l.member}: ${l.error ?? ''}`);
const changes = (logs: IngestionLog[]) =>
  logs.filter((l) => l.state !== 'no_changes').map((l) => `${l.member} ${JSON.stringify(l.entity[l.member]).slice(0, 160)}`);

beforeAll(async () => {
  const demo = await runDemo({ quiet: true, write: () => {} });
  // Files in the order written; each policy wrote as many as its run sent requests.
  const files = [...demo.files];
  policies = demo.results.map((r) => ({
    policy: r.policy,
    entities: files
      .splice(0, r.diode.requests)
      .flatMap(
        (f) =>
          (
            IngestRequestType.toObject(IngestRequestType.decode(readDryRunFile(f)), { longs: Number, arrays: true, defaults: false }) as {
              entities: WireEntity[];
            }
          ).entities,
      ),
  }));
  expect(files).toEqual([]);
  // One policy per collector, in registry order, each the one its lab part names.
  expect(policies.map((p) => p.policy)).toEqual((await collectorLabs()).map((c) => c.lab.demo.policy));
}, 60_000);

describe('the demo lab lands in one NetBox', () => {
  it('from an empty NetBox: no failed entity and no duplicate object, all five collectors together', () => {
    const model = new NetBoxDiodeModel({ seed: 11 });
    for (const p of policies) expect(failures(deliverWire(model, p.entities)), p.policy).toEqual([]);
    expect(duplicatesIn(model)).toEqual([]);
    // One cluster per identity: the PVE cluster (PVE, PDM and Packer agree on it), the standalone
    // node PDM also manages, and Ceph's (no scope).
    expect(
      model
        .objects('virtualization.cluster')
        .map((c) => model.keyOf('virtualization.cluster', c))
        .sort(),
    ).toEqual(['ceph-4f7a2c1e@-', 'lab-cluster@dcim.site:Lab', 'pve-dev.lab.example@dcim.site:Lab']);
    // The PBS server that the pbs and pdm policies both describe is one device.
    expect(model.objects('dcim.device').filter((d) => d.name === 'pbs1.lab.example')).toHaveLength(1);
  });

  it('repeated, in any policy order, changes nothing: no field flips between policies', () => {
    const model = new NetBoxDiodeModel({ seed: 12 });
    for (const p of policies) deliverWire(model, p.entities);
    for (const p of [...policies].reverse()) expect(changes(deliverWire(model, p.entities)), p.policy).toEqual([]);
    for (const p of policies) expect(changes(deliverWire(model, p.entities)), p.policy).toEqual([]);
  });

  it('ends in the same NetBox whatever order the policies and the workers take', () => {
    const a = new NetBoxDiodeModel({ seed: 1 });
    for (const p of policies) deliverWire(a, p.entities);
    const b = new NetBoxDiodeModel({ seed: 99, workers: 8 });
    for (const p of [...policies].reverse()) deliverWire(b, p.entities);
    expect(b.dump()).toEqual(a.dump());
  });
});
