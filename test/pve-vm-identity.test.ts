import { describe, expect, it } from 'vitest';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import type { PveGuest, PveSnapshot } from '../agent/collectors/pve/snapshot.ts';
import { encodeEntity, EntityType, type EncodedEntity } from '../agent/diode/codec.ts';
import { commitDelta, planDelta, type DeltaOptions } from '../agent/pipeline/delta.ts';
import type { PolicyState } from '../agent/state/store.ts';
import { mapPve } from '../agent/collectors/pve/map/index.ts';
import type { AnyEntity } from '../mappers/types.ts';
import { NetBoxDiodeModel } from './fakes/netbox-diode/model.ts';
import { applyRun, duplicatesIn } from './helpers/netbox-model.ts';

/*
 * Issue #17 item 6: proxmox_vm_uid (<cluster>/<vmid>) is a unique custom field, which
 * Diode's matcher tries after the logical matchers and NetBox's unique constraints
 * (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/matcher.py get_model_matchers,
 * CustomFieldMatcher). A renamed guest has no (name, cluster) match, so the unique field
 * finds its row: one VM, renamed, with its interfaces; and the delta does not send its old
 * name as stale.
 */

const config = pveConfigSchema.parse({ PROXMOX_HOST: 'pve.example', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 's', SITE_NAME: 'HQ' });
const ctx = { config, scope: { nodes: ['*'] }, now: new Date('2025-06-01T12:00:00Z'), policyName: 'ident' };

function guest(name: string, node = 'pve1'): PveGuest {
  return {
    type: 'qemu',
    vmid: 100,
    name,
    node,
    status: 'running',
    maxcpu: 2,
    maxmem: 2147483648,
    tags: [],
    config: {
      ostype: 'l26',
      onboot: true,
      agentEnabled: false,
      nets: [{ key: 'net0', name: 'net0', mac: 'BC:24:11:00:00:01' }],
      disks: [],
    } as unknown as NonNullable<PveGuest['config']>,
  };
}
const snapshot = (g: PveGuest): PveSnapshot => ({
  bootstrap: false,
  host: 'pve.example',
  clusterName: 'prod',
  nodes: [
    { name: 'pve1', status: 'online' },
    { name: 'pve2', status: 'online' },
  ],
  guests: [g],
});

describe('proxmox_vm_uid: a renamed or migrated guest is the same NetBox VM', () => {
  it('the renamed VM updates its row: no new VM, interfaces follow, no change on a repeat', () => {
    const model = new NetBoxDiodeModel({ seed: 3 });
    const first = applyRun(model, mapPve(snapshot(guest('web01')), ctx));
    expect(first.filter((l) => l.state === 'failed')).toEqual([]);
    const [before] = model.objects('virtualization.virtualmachine');
    expect(before).toMatchObject({ name: 'web01', custom_fields: { proxmox_vm_uid: 'prod/100' } });
    // The model applies the unique-CF matcher after (name, cluster), as the plugin does: a row by its uid is found only when the name misses.
    const renamed = mapPve(snapshot(guest('web01-renamed', 'pve2')), ctx);
    const second = applyRun(model, renamed);
    expect(second.filter((l) => l.state === 'failed')).toEqual([]);
    const vms = model.objects('virtualization.virtualmachine');
    expect(vms.map((r) => [r.id, r.name, (r.custom_fields as Record<string, unknown>).proxmox_node])).toEqual([[before?.id, 'web01-renamed', 'pve2']]);
    const vmLog = second.find((l) => l.member === 'virtual_machine');
    expect(vmLog?.changes).toEqual([{ action: 'update', objectType: 'virtualization.virtualmachine', id: before?.id }]);
    expect(model.objects('virtualization.vminterface').map((r) => [r.virtual_machine, r.name])).toEqual([[before?.id, 'net0']]);
    expect(duplicatesIn(model)).toEqual([]);
    expect(applyRun(model, renamed).filter((l) => l.state !== 'no_changes')).toEqual([]);
  });

  it('the old name is not sent as stale, while a VM that is really gone still is', () => {
    const o: DeltaOptions = { agentVersion: '1', policyHash: 'h', now: 1, delta: true, fullSyncIntervalMs: 1e12, staleAfterRuns: 1, staleAction: 'mark' };
    const cycle = (state: PolicyState | null, ents: AnyEntity[]): { state: PolicyState; sent: EncodedEntity[] } => {
      const encoded = ents.map(encodeEntity);
      const plan = planDelta(state, encoded, o);
      return { state: commitDelta(state, o, plan, encoded, new Set(plan.send), true), sent: plan.send };
    };
    const other: PveGuest = {
      ...guest('db01'),
      vmid: 101,
      config: { ...guest('db01').config!, nets: [{ key: 'net0', name: 'net0', mac: 'BC:24:11:00:00:02' }] } as NonNullable<PveGuest['config']>,
    };
    const r1 = cycle(null, mapPve({ ...snapshot(guest('web01')), guests: [guest('web01'), other] }, ctx));
    const r2 = cycle(r1.state, mapPve(snapshot(guest('web01-renamed')), ctx));
    const staleSent = r2.sent
      .map((e) => EntityType.toObject(EntityType.decode(e.body), { longs: Number }) as Record<string, Record<string, unknown>>)
      .filter((d) => (d.virtual_machine ?? d.vm_interface) && JSON.stringify(d).includes('diode_agent_stale'))
      .map((d) =>
        d.virtual_machine
          ? `vm ${String(d.virtual_machine.name)}`
          : `vm_interface ${String((d.vm_interface!.virtual_machine as { name?: string }).name)}/${String(d.vm_interface!.name)}`,
      );
    expect(staleSent.sort()).toEqual(['vm db01', 'vm_interface db01/net0']);
  });
});
