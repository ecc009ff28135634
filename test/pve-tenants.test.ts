import { describe, expect, it } from 'vitest';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import type { PveGuest, PveSnapshot } from '../agent/collectors/pve/snapshot.ts';
import { excludedVmKeys, mapPve, mapPveEach, tenantOf } from '../agent/collectors/pve/map/index.ts';
import { NetBoxDiodeModel } from './fakes/netbox-diode/model.ts';
import { applyRun, changed, describeFailures, duplicatesIn } from './helpers/netbox-model.ts';

/*
 * Issue #17 item 4: TENANT_MAP puts a guest's VM and IPs in a NetBox tenant, from its pool or
 * one of its tags. Proven on the NetBox/Diode model: the tenant is created once, VMs and IPs
 * carry it, a changed or dropped rule moves or clears it without a second VM (NetBox's VM
 * uniqueness includes the tenant, netbox-community/netbox
 * netbox/virtualization/models/virtualmachines.py), and an operator's tenant of the same
 * name is reused.
 */

const base = { PROXMOX_HOST: 'pve.example', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 's', SITE_NAME: 'HQ' };
const ctxWith = (extra: Record<string, unknown>) => ({
  config: pveConfigSchema.parse({ ...base, ...extra }),
  scope: { nodes: ['*'] },
  now: new Date('2025-06-01T12:00:00Z'),
  policyName: 'tenants',
});
const withMap = ctxWith({ TENANT_MAP: { 'pool/finance': 'Finance', 'tag/team-a': 'Team A', 'tag/team-b': 'Team B' } });

function ct(vmid: number, name: string, ip: string, extra: Partial<PveGuest> = {}): PveGuest {
  return {
    type: 'lxc',
    vmid,
    name,
    node: 'pve1',
    status: 'running',
    maxcpu: 1,
    maxmem: 536870912,
    tags: [],
    config: {
      ostype: 'debian',
      onboot: false,
      agentEnabled: false,
      nets: [{ key: 'net0', name: 'eth0', mac: `BC:24:11:00:00:${String(vmid % 100).padStart(2, '0')}`, ipv4: ip }],
      disks: [],
    },
    ...extra,
  };
}
const snapshot = (...guests: PveGuest[]): PveSnapshot => ({
  bootstrap: false,
  host: 'pve.example',
  clusterName: 'prod',
  nodes: [{ name: 'pve1', status: 'online' }],
  guests,
});

// Rows by name (or address): the model's workers create them in no fixed order.
const rows = (model: NetBoxDiodeModel, type: string) =>
  [...model.objects(type)].sort((a, b) => String(a.name ?? a.address).localeCompare(String(b.name ?? b.address)));
const tenantName = (model: NetBoxDiodeModel, id: unknown) => (id == null ? null : rows(model, 'tenancy.tenant').find((t) => t.id === id)?.name);

describe('TENANT_MAP precedence (agent/collectors/pve/map tenantOf)', () => {
  const rules = withMap.config.TENANT_MAP ?? [];
  it('the pool rule wins, then the first tag rule in written order, tags case-insensitive', () => {
    expect(tenantOf({ pool: 'finance', tags: ['team-a'] }, rules)).toBe('Finance');
    expect(tenantOf({ pool: 'other', tags: ['Team-B', 'team-a'] }, rules)).toBe('Team A');
    expect(tenantOf({ tags: ['team-b'] }, rules)).toBe('Team B');
    expect(tenantOf({ pool: 'Finance', tags: [] }, rules)).toBeUndefined();
  });
  it('names that slugify alike are one tenant, under the first written name', () => {
    const r = pveConfigSchema.parse({ ...base, TENANT_MAP: { 'tag/a': 'Team A', 'tag/b': 'team a' } }).TENANT_MAP ?? [];
    expect(tenantOf({ tags: ['b'] }, r)).toBe('Team A');
  });
});

describe('tenants land in NetBox as Diode applies them', () => {
  it('VM and IPs carry the tenant; one tenant row per name; no change on a repeat', () => {
    const model = new NetBoxDiodeModel({ seed: 5 });
    const run = mapPve(
      snapshot(
        ct(100, 'fin1', '10.0.0.100/24', { pool: 'finance', tags: ['team-a'] }),
        ct(101, 'a1', '10.0.0.101/24', { tags: ['team-a'] }),
        ct(102, 'none', '10.0.0.102/24'),
      ),
      withMap,
    );
    expect(run.filter((e) => e.kind === 'tenant').map((e) => e.value)).toEqual([
      { name: 'Finance', slug: 'finance' },
      { name: 'Team A', slug: 'team-a' },
    ]);
    expect(describeFailures(applyRun(model, run))).toEqual([]);
    expect(duplicatesIn(model)).toEqual([]);
    expect(rows(model, 'tenancy.tenant').map((t) => [t.name, t.slug])).toEqual([
      ['Finance', 'finance'],
      ['Team A', 'team-a'],
    ]);
    expect(rows(model, 'virtualization.virtualmachine').map((v) => [v.name, tenantName(model, v.tenant)])).toEqual([
      ['a1', 'Team A'],
      ['fin1', 'Finance'],
      ['none', null],
    ]);
    expect(rows(model, 'ipam.ipaddress').map((i) => [i.address, tenantName(model, i.tenant)])).toEqual([
      ['10.0.0.100/24', 'Finance'],
      ['10.0.0.101/24', 'Team A'],
      ['10.0.0.102/24', null],
    ]);
    expect(changed(applyRun(model, run))).toEqual([]);
  });

  it('a guest whose rule changes moves to the new tenant, and one whose rule is gone is cleared: the same VM, its interface and IP follow', () => {
    const model = new NetBoxDiodeModel({ seed: 9 });
    expect(
      describeFailures(
        applyRun(model, mapPve(snapshot(ct(100, 'web', '10.0.0.100/24', { pool: 'finance' }), ct(101, 'db', '10.0.0.101/24', { tags: ['team-a'] })), withMap)),
      ),
    ).toEqual([]);
    const before = new Map(rows(model, 'virtualization.virtualmachine').map((v) => [v.name, v.id]));
    // web leaves the pool for tag team-b; db's tag rule is dropped (TENANT_MAP still set).
    const next = ctxWith({ TENANT_MAP: { 'pool/finance': 'Finance', 'tag/team-b': 'Team B' } });
    const run = mapPve(snapshot(ct(100, 'web', '10.0.0.100/24', { tags: ['team-b'] }), ct(101, 'db', '10.0.0.101/24', { tags: ['team-a'] })), next);
    expect(run.find((e) => e.kind === 'virtual_machine' && e.value.name === 'db')?.value).toMatchObject({ tenant: {} });
    expect(describeFailures(applyRun(model, run))).toEqual([]);
    expect(duplicatesIn(model)).toEqual([]);
    const vms = rows(model, 'virtualization.virtualmachine');
    expect(vms.map((v) => [v.id, v.name, tenantName(model, v.tenant)])).toEqual([
      [before.get('db'), 'db', null],
      [before.get('web'), 'web', 'Team B'],
    ]);
    expect(
      model
        .objects('virtualization.vminterface')
        .map((i) => [i.virtual_machine, i.name])
        .sort(),
    ).toEqual(
      [
        [before.get('db'), 'eth0'],
        [before.get('web'), 'eth0'],
      ].sort(),
    );
    expect(rows(model, 'ipam.ipaddress').map((i) => [i.address, tenantName(model, i.tenant)])).toEqual([
      ['10.0.0.100/24', 'Team B'],
      ['10.0.0.101/24', null],
    ]);
    expect(changed(applyRun(model, run))).toEqual([]);
  });

  it('reuses a tenant an operator made with the same name in another case and slug', () => {
    const model = new NetBoxDiodeModel({ seed: 2 });
    const own = model.seed('tenant', { name: 'finance', slug: 'fin' });
    expect(describeFailures(applyRun(model, mapPve(snapshot(ct(100, 'web', '10.0.0.100/24', { pool: 'finance' })), withMap)))).toEqual([]);
    expect(rows(model, 'tenancy.tenant').map((t) => t.id)).toEqual([own.id]);
    expect(rows(model, 'virtualization.virtualmachine').map((v) => v.tenant)).toEqual([own.id]);
    expect(duplicatesIn(model)).toEqual([]);
  });

  it('without TENANT_MAP no entity names a tenant', () => {
    const run = mapPve(snapshot(ct(100, 'web', '10.0.0.100/24', { pool: 'finance', tags: ['team-a'] })), ctxWith({}));
    expect(run.filter((e) => JSON.stringify(e).includes('tenant'))).toEqual([]);
  });
});

describe('excluded guests (MapSummary.forgetVms)', () => {
  it('names the VM keys of excluded guests, except a name a mapped VM uses', () => {
    const ctx = ctxWith({ EXCLUDE_TAGS: ['no-netbox'] });
    const snap: PveSnapshot = {
      ...snapshot(ct(101, 'Kept', '10.0.0.101/24')),
      excluded: [
        { vmid: 100, name: 'gone', reason: 'EXCLUDE_TAGS no-netbox' },
        { vmid: 102, name: 'kept', reason: 'EXCLUDE_VMIDS 102' },
      ],
    };
    expect(excludedVmKeys(snap, ctx.config)).toEqual(['HQ/prod/gone']);
    const it = mapPveEach(snap, ctx);
    let step = it.next();
    while (!step.done) step = it.next();
    expect(step.value).toEqual({ measures: { addresses_dropped: 0 }, forgetVms: ['HQ/prod/gone'] });
    const plain = mapPveEach(snapshot(ct(101, 'Kept', '10.0.0.101/24')), ctx);
    let s2 = plain.next();
    while (!s2.done) s2 = plain.next();
    expect(s2.value).toEqual({ measures: { addresses_dropped: 0 } });
  });
});
