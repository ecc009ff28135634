import { describe, expect, it } from 'vitest';
import { NetBoxDiodeModel } from './fakes/netbox-diode/model.ts';
import { applyRun, changed, describeFailures, duplicatesIn, goldenCases } from './helpers/netbox-model.ts';

/*
 * Every golden case's entities, applied the way today's Diode applies them (the model in
 * test/fakes/netbox-diode/: each entity on its own, several workers, an order that is not the
 * emission order, references created from what they carry), phase by phase as the agent
 * sends them.
 */

const cases = goldenCases();

describe('golden cases land in NetBox as Diode applies them', () => {
  it('covers every collector', () => {
    expect([...new Set(cases.map((c) => c.collector))]).toEqual(['ceph', 'packer', 'pbs', 'pdm', 'pve']);
  });

  for (const c of cases) {
    it(`${c.collector}/${c.name}: no failed entity, no duplicate, no change on a repeated run`, () => {
      const model = new NetBoxDiodeModel({ seed: 7 });
      const first = applyRun(model, c.entities);
      expect(describeFailures(first)).toEqual([]);
      expect(first).toHaveLength(c.entities.length);
      expect(duplicatesIn(model)).toEqual([]);
      const again = applyRun(model, c.entities);
      expect(changed(again)).toEqual([]);
    });
  }

  it('ends in the same NetBox whatever order the workers take', () => {
    const all = cases.filter((c) => c.collector === 'pve' && c.name === 'multi-node-cluster')[0]!;
    const dumps = [1, 2, 3].map((seed) => {
      const m = new NetBoxDiodeModel({ seed, workers: 4 });
      applyRun(m, all.entities);
      return m.dump();
    });
    expect(dumps[1]).toEqual(dumps[0]);
    expect(dumps[2]).toEqual(dumps[0]);
  });

  it('updates what an operator already made (site, cluster, device of the same identity) instead of adding a second', () => {
    const c = cases.find((x) => x.collector === 'pve' && x.name === 'multi-node-cluster')!;
    const model = new NetBoxDiodeModel({ seed: 3 });
    // Hand-made, with other slugs and without the agent's tags, as an operator would have it.
    const hq = model.seed('site', { name: 'HQ', slug: 'headquarters' });
    const london = model.seed('site', { name: 'London', slug: 'lon' });
    const type = model.seed('cluster_type', { name: 'Proxmox', slug: 'proxmox' });
    const cluster = model.seed('cluster', { name: 'prod-cluster', type: type.id, scope_type: 'dcim.site', scope_id: hq.id, description: 'by hand' });
    const maker = model.seed('manufacturer', { name: 'Proxmox', slug: 'proxmox' });
    const dt = model.seed('device_type', { manufacturer: maker.id, model: 'Proxmox Node', slug: 'proxmox-node' });
    const role = model.seed('device_role', { name: 'Hypervisor', slug: 'hypervisor' });
    const pve1 = model.seed('device', { name: 'PVE1', site: london.id, device_type: dt.id, role: role.id, serial: 'SN-1' });
    expect(describeFailures(applyRun(model, c.entities))).toEqual([]);
    expect(duplicatesIn(model)).toEqual([]);
    expect(
      model
        .objects('site')
        .filter((x) => x.name === 'HQ')
        .map((x) => x.id),
    ).toEqual([hq.id]);
    expect(model.objects('cluster').map((x) => [x.id, x.description])).toEqual([[cluster.id, 'by hand']]);
    // Device names match case-insensitively (NetBox's Lower(name) constraint): the operator's row, updated.
    const devices = model.objects('device').filter((x) => String(x.name).toLowerCase() === 'pve1');
    expect(devices.map((x) => [x.id, x.serial, x.status])).toEqual([[pve1.id, 'SN-1', 'active']]);
    expect(changed(applyRun(model, c.entities))).toEqual([]);
  });
});
