import { describe, expect, it } from 'vitest';
import { NetBoxDiodeModel, wireEntity as ent, type IngestionLog } from './model.ts';

let requests = 0;
function run(m: NetBoxDiodeModel, ...entities: Array<Record<string, unknown>>): IngestionLog[] {
  const id = `req-${++requests}`;
  m.ingest({ id, entities });
  m.drain();
  return m.logs({ requestId: id });
}

const only = (logs: IngestionLog[]): IngestionLog => {
  expect(logs).toHaveLength(1);
  return logs[0] as IngestionLog;
};

const hq = { name: 'HQ', slug: 'hq' };
const proxmoxType = { name: 'Proxmox', slug: 'proxmox' };
const cluster = { name: 'prod', type: proxmoxType, scope_site: hq };
const deviceRef = (name: string, site = hq) => ({
  name,
  site,
  device_type: { model: 'Proxmox Node', slug: 'proxmox-node', manufacturer: { name: 'Proxmox', slug: 'proxmox' } },
  role: { name: 'Hypervisor', slug: 'hypervisor' },
});
const vmRef = (name: string) => ({ name, cluster });

describe('matching', () => {
  it('a cluster reference without scope does not match the scoped cluster', () => {
    const m = new NetBoxDiodeModel();
    const site = m.seed('site', hq);
    const ct = m.seed('cluster_type', proxmoxType);
    const prod = m.seed('cluster', { name: 'prod', type: ct.id, scope_type: 'dcim.site', scope_id: site.id });

    const bare = only(run(m, ent('virtual_machine', { name: 'vm1', cluster: { name: 'prod' } })));
    expect(bare.state).toBe('failed');
    expect(bare.error).toContain('virtualization.cluster: type: Field type is required');

    const typed = only(run(m, ent('virtual_machine', { name: 'vm1', cluster: { name: 'prod', type: proxmoxType } })));
    expect(typed.state).toBe('reconciled');
    expect(m.objects('cluster')).toHaveLength(2); // a second, unscoped "prod"
    expect(m.duplicates('cluster')).toEqual([]); // (name, scope) differ...
    expect(m.duplicates('cluster', (r) => String(r.name))).toHaveLength(1); // ...but it is the same cluster

    const scoped = only(run(m, ent('virtual_machine', { name: 'vm2', cluster })));
    expect(scoped.state).toBe('reconciled');
    expect(m.objects('cluster')).toHaveLength(2);
    expect(m.find('virtual_machine', 'vm2@prod@dcim.site:HQ')?.cluster).toBe(prod.id);
    expect(m.find('virtual_machine', 'vm2@prod@dcim.site:HQ')?.site).toBe(site.id); // VM.save: site from the cluster
  });

  it('a device reference {name, site} to a missing device fails with the required-field error and writes nothing', () => {
    const m = new NetBoxDiodeModel();
    const l = only(run(m, ent('interface', { device: { name: 'pve1', site: hq }, name: 'eth0', type: '1000base-t' })));
    expect(l.state).toBe('failed');
    expect(l.error).toContain('dcim.device: device_type: Field device_type is required');
    expect(l.error).toContain('dcim.device: role: Field role is required');
    expect(m.objects('site')).toHaveLength(0);

    const ok = only(run(m, ent('interface', { device: deviceRef('pve1'), name: 'eth0', type: '1000base-t' })));
    expect(ok.state).toBe('reconciled');
    expect(m.objects('interface')).toHaveLength(1);
    expect(m.objects('device_type')[0]?.u_height).toBe(1); // NetBox default
  });

  it('a prefix is matched on the network alone: another scope updates it', () => {
    const m = new NetBoxDiodeModel();
    const a = m.seed('site', { name: 'A', slug: 'a' });
    m.seed('prefix', { prefix: '10.0.0.0/24', scope_type: 'dcim.site', scope_id: a.id });
    expect(only(run(m, ent('prefix', { prefix: '10.0.0.0/24', scope_site: { name: 'B', slug: 'b' } }))).state).toBe('reconciled');
    const prefixes = m.objects('prefix');
    expect(prefixes).toHaveLength(1);
    expect(prefixes[0]?.scope_id).toBe(m.find('site', 'B')?.id);
    expect(only(run(m, ent('prefix', { prefix: '10.0.0.0/24' }))).state).toBe('no_changes');
  });

  it('an IP address is matched on its host part', () => {
    const m = new NetBoxDiodeModel();
    m.seed('ip_address', { address: '10.0.0.5/24' });
    expect(only(run(m, ent('ip_address', { address: '10.0.0.5/32' }))).state).toBe('reconciled');
    expect(m.objects('ip_address').map((r) => r.address)).toEqual(['10.0.0.5/32']);
    expect(only(run(m, ent('ip_address', { address: '10.0.0.5' }))).state).toBe('no_changes'); // bare host is /32
  });

  it('two nested copies of one object in an entity merge, and conflict when they disagree', () => {
    const m = new NetBoxDiodeModel();
    const same = only(run(m, ent('virtual_machine', { name: 'vm1', site: hq, cluster })));
    expect(same.state).toBe('reconciled');
    expect(m.objects('site')).toHaveLength(1);
    const clash = only(run(m, ent('virtual_machine', { name: 'vm2', site: { name: 'HQ', slug: 'hq-2' }, cluster })));
    expect(clash.state).toBe('failed');
    expect(clash.error).toContain("Conflicting values for 'slug' merging duplicate dcim.site");
  });
});

describe('creation', () => {
  it('fills the slug from the name and NetBox defaults, and needs the required references', () => {
    const m = new NetBoxDiodeModel();
    expect(only(run(m, ent('site', { name: 'HQ Main' }))).state).toBe('reconciled');
    expect(m.objects('site')[0]).toMatchObject({ slug: 'hq-main', status: 'active' });
    const dt = only(run(m, ent('device_type', { model: 'X1' })));
    expect(dt.state).toBe('failed');
    expect(dt.error).toContain('dcim.devicetype: manufacturer: Field manufacturer is required');
  });

  it("drops zero values as the reconciler's protoJSON does: a 0-size disk has no size", () => {
    const m = new NetBoxDiodeModel();
    const l = only(run(m, ent('virtual_disk', { virtual_machine: vmRef('vm1'), name: 'scsi0', size: 0 })));
    expect(l.state).toBe('failed');
    expect(l.error).toContain('virtualization.virtualdisk: size: This field cannot be null.');
  });
});

describe('merge rules', () => {
  it('adds tags and never removes them', () => {
    const m = new NetBoxDiodeModel();
    const op = m.seed('tag', { name: 'operator', slug: 'operator' });
    m.seed('site', { ...hq, tags: [op.id] });
    expect(only(run(m, ent('site', { ...hq, tags: [{ name: 'discovered', slug: 'discovered' }] }))).state).toBe('reconciled');
    const tagNames = (): string[] =>
      ((m.find('site', 'HQ')?.tags as number[]) ?? []).map((id) => String(m.objects('tag').find((t) => t.id === id)?.name)).sort();
    expect(tagNames()).toEqual(['discovered', 'operator']);
    expect(only(run(m, ent('site', { ...hq, description: 'x' }))).state).toBe('reconciled');
    expect(tagNames()).toEqual(['discovered', 'operator']);
  });

  it('merges custom fields per key and replaces other fields', () => {
    const m = new NetBoxDiodeModel();
    m.seed('custom_field', { name: 'a', type: 'integer', object_types: ['dcim.site'] });
    m.seed('custom_field', { name: 'b', type: 'text', object_types: ['dcim.site'] });
    m.seed('site', { ...hq, description: 'old', custom_fields: { a: 1, b: 'keep' } });
    expect(only(run(m, ent('site', { ...hq, description: 'new', custom_fields: { a: { integer: 2 } } }))).state).toBe('reconciled');
    expect(m.find('site', 'HQ')).toMatchObject({ description: 'new', custom_fields: { a: 2, b: 'keep' } });
  });

  it('a repeated identical request yields no_changes', () => {
    const m = new NetBoxDiodeModel();
    const entities = [
      ent('virtual_machine', { name: 'vm1', cluster, status: 'active', vcpus: 2, tags: [{ name: 'discovered', slug: 'discovered' }] }),
      ent('vm_interface', { virtual_machine: vmRef('vm1'), name: 'net0' }),
      ent('ip_address', { address: '10.0.0.5/24', assigned_object_vm_interface: { virtual_machine: vmRef('vm1'), name: 'net0' } }),
    ];
    expect(run(m, ...entities).map((l) => l.state)).toEqual(['reconciled', 'reconciled', 'reconciled']);
    expect(run(m, ...entities).map((l) => l.state)).toEqual(['no_changes', 'no_changes', 'no_changes']);
  });
});

describe('custom field values', () => {
  function withChoices(): NetBoxDiodeModel {
    const m = new NetBoxDiodeModel();
    const cs = m.seed('custom_field_choice_set', {
      name: 'cs',
      extra_choices: [
        ['x', 'x'],
        ['y', 'y'],
      ],
    });
    m.seed('custom_field', { name: 'm', type: 'multiselect', choice_set: cs.id, object_types: ['dcim.site'] });
    m.seed('custom_field', { name: 'j', type: 'json', object_types: ['dcim.site'] });
    m.seed('custom_field', { name: 'dev_only', type: 'text', object_types: ['dcim.device'] });
    return m;
  }

  it('an empty multiple_selection reaches the plugin as {} and fails the entity', () => {
    const m = withChoices();
    const l = only(run(m, ent('site', { ...hq, custom_fields: { m: { multiple_selection: [] } } })));
    expect(l.state).toBe('failed');
    expect(l.error).toContain('Custom field m is invalid');
    expect(m.objects('site')).toHaveLength(0);
  });

  it('checks multiselect choices; a json {} is dropped on create and lands on the next run', () => {
    const m = withChoices();
    const entity = ent('site', { ...hq, custom_fields: { m: { multiple_selection: ['x'] }, j: { json: '{}' } } });
    expect(only(run(m, entity)).state).toBe('reconciled');
    // P differ.py clean_diff_data drops {} (and [] and "") from CREATE data, custom fields included.
    expect(m.find('site', 'HQ')?.custom_fields).toEqual({ m: ['x'], j: null });
    // An update keeps empty values (diff_to_change preserve_empty), so the second run writes it.
    expect(only(run(m, entity)).state).toBe('reconciled');
    expect(m.find('site', 'HQ')?.custom_fields).toEqual({ m: ['x'], j: {} });
    expect(only(run(m, entity)).state).toBe('no_changes');
    const bad = only(run(m, ent('site', { ...hq, custom_fields: { m: { multiple_selection: ['z'] } } })));
    expect(bad.state).toBe('failed');
    expect(bad.error).toContain("Invalid value for custom field 'm'");
    const badJson = only(run(m, ent('site', { ...hq, custom_fields: { j: { json: '{nope' } } })));
    expect(badJson.error).toContain('failed to parse as JSON');
  });

  it('rejects a custom field that does not exist or is not defined for the object type', () => {
    const m = withChoices();
    const unknown = only(run(m, ent('site', { ...hq, custom_fields: { nope: { text: 'x' } } })));
    expect(unknown.error).toContain("Unknown field name 'nope' in custom field data.");
    const wrongType = only(run(m, ent('site', { ...hq, custom_fields: { dev_only: { text: 'x' } } })));
    expect(wrongType.error).toContain("Unknown field name 'dev_only' in custom field data.");
  });

  it('rejects a value of the wrong shape for its field type', () => {
    const m = new NetBoxDiodeModel();
    m.seed('custom_field', { name: 'count', type: 'integer', object_types: ['dcim.site'] });
    const l = only(run(m, ent('site', { ...hq, custom_fields: { count: { text: '5' } } })));
    expect(l.error).toContain("Invalid value for custom field 'count': Value must be an integer.");
  });
});

describe('NetBox clean() rules', () => {
  it('rejects a primary IP not assigned to the VM, and rolls the entity back', () => {
    const m = new NetBoxDiodeModel();
    const l = only(run(m, ent('virtual_machine', { name: 'vm1', cluster, primary_ip4: { address: '10.0.0.5/24' } })));
    expect(l.state).toBe('failed');
    expect(l.error).toContain('The specified IP address (10.0.0.5/24) is not assigned to this VM.');
    expect(m.objects('ip_address')).toHaveLength(0);
    expect(m.objects('virtual_machine')).toHaveLength(0);

    run(
      m,
      ent('vm_interface', { virtual_machine: vmRef('vm1'), name: 'net0' }),
      ent('ip_address', { address: '10.0.0.5/24', assigned_object_vm_interface: { virtual_machine: vmRef('vm1'), name: 'net0' } }),
    );
    expect(only(run(m, ent('virtual_machine', { name: 'vm1', cluster, primary_ip4: { address: '10.0.0.5/24' } }))).state).toBe('reconciled');
    expect(m.find('virtual_machine', 'vm1@prod@dcim.site:HQ')?.primary_ip4).toBe(m.objects('ip_address')[0]?.id);
  });

  it('an IP entity whose nested VM / device reference carries primary_ip4 assigns and sets it in one entity', () => {
    const m = new NetBoxDiodeModel();
    const vmIp = only(
      run(
        m,
        ent('ip_address', {
          address: '10.0.0.5/24',
          assigned_object_vm_interface: { virtual_machine: { ...vmRef('vm1'), primary_ip4: { address: '10.0.0.5/24' } }, name: 'net0' },
        }),
      ),
    );
    expect(vmIp.state).toBe('reconciled');
    expect(m.objects('ip_address')).toHaveLength(1); // the nested {address} merged with the entity
    expect(m.find('virtual_machine', 'vm1@prod@dcim.site:HQ')?.primary_ip4).toBe(m.find('ip_address', '10.0.0.5')?.id);

    const devIp = only(
      run(
        m,
        ent('ip_address', {
          address: '10.0.1.5/24',
          assigned_object_interface: { device: { ...deviceRef('pve1'), primary_ip4: { address: '10.0.1.5/24' } }, name: 'vmbr0', type: 'bridge' },
        }),
      ),
    );
    expect(devIp.state).toBe('reconciled');
    expect(m.find('device', 'pve1@HQ')?.primary_ip4).toBe(m.find('ip_address', '10.0.1.5')?.id);
  });

  it("rejects a VM site that is not its cluster's scope site", () => {
    const m = new NetBoxDiodeModel();
    const l = only(run(m, ent('virtual_machine', { name: 'vm1', cluster, site: { name: 'Elsewhere', slug: 'elsewhere' } })));
    expect(l.error).toContain('The selected cluster (prod) is not assigned to this site (Elsewhere).');
  });

  it('rejects an untagged VLAN from another site; a global VLAN is fine', () => {
    const m = new NetBoxDiodeModel();
    run(m, ent('virtual_machine', { name: 'vm1', cluster }));
    const other = only(
      run(
        m,
        ent('vm_interface', {
          virtual_machine: vmRef('vm1'),
          name: 'net0',
          mode: 'access',
          untagged_vlan: { vid: 10, name: 'VLAN 10', site: { name: 'B', slug: 'b' } },
        }),
      ),
    );
    expect(other.error).toContain("must belong to the same site as the interface's parent virtual machine, or it must be global.");
    const global = only(
      run(m, ent('vm_interface', { virtual_machine: vmRef('vm1'), name: 'net0', mode: 'access', untagged_vlan: { vid: 10, name: 'VLAN 10' } })),
    );
    expect(global.state).toBe('reconciled');
  });

  it('rejects a VM disk that differs from the sum of its virtual disks', () => {
    const m = new NetBoxDiodeModel();
    run(m, ent('virtual_disk', { virtual_machine: vmRef('vm1'), name: 'scsi0', size: 100 }));
    expect(m.objects('virtual_machine')[0]?.disk).toBe(100); // the VirtualDisk signal
    const l = only(run(m, ent('virtual_machine', { name: 'vm1', cluster, disk: 200 })));
    expect(l.error).toContain('The specified disk size (200) must match the aggregate size of assigned virtual disks (100).');
    expect(only(run(m, ent('virtual_machine', { name: 'vm1', cluster, disk: 100 }))).state).toBe('no_changes');
  });
});

describe('reconciler behaviour', () => {
  it('keeps logs queued until the queue is drained', () => {
    const m = new NetBoxDiodeModel();
    m.ingest({ id: 'r', entities: [ent('site', hq), ent('tag', { name: 't', slug: 't' })] });
    expect(m.pending()).toHaveLength(2);
    expect(m.objects('site')).toHaveLength(0);
    expect(m.drain(1)).toHaveLength(1);
    expect(m.pending()).toHaveLength(1);
    m.drain();
    expect(m.pending()).toHaveLength(0);
    expect(m.logs().map((l) => l.state)).toEqual(['reconciled', 'reconciled']);
  });

  it('applies in a seeded order: a seed reproduces, different seeds differ when entities depend on order', () => {
    const entities = [
      ent('custom_field', { name: 'proxmox_vmid', type: 'text', object_types: ['virtualization.virtualmachine'] }),
      ent('virtual_machine', { name: 'vm1', cluster, custom_fields: { proxmox_vmid: { text: '101' } } }),
    ];
    const outcome = (seed: number): string => {
      const m = new NetBoxDiodeModel({ seed });
      return JSON.stringify(run(m, ...entities).map((l) => l.state));
    };
    expect(outcome(7)).toBe(outcome(7));
    const seen = new Set(Array.from({ length: 20 }, (_, i) => outcome(i + 1)));
    expect(seen).toContain('["reconciled","reconciled"]');
    expect(seen).toContain('["reconciled","failed"]'); // the VM planned before its custom field existed
  });

  it('self-contained entities converge to one NetBox whatever the order', () => {
    const entities = [
      ent('virtual_machine', { name: 'vm1', cluster, vcpus: 2, memory: 2048 }),
      ent('vm_interface', { virtual_machine: vmRef('vm1'), name: 'net0' }),
      ent('virtual_disk', { virtual_machine: vmRef('vm1'), name: 'scsi0', size: 1024 }),
      ent('interface', { device: deviceRef('pve1'), name: 'vmbr0', type: 'bridge' }),
      ent('device', { ...deviceRef('pve1'), status: 'active' }),
      ent('prefix', { prefix: '10.0.0.0/24', scope_site: hq }),
    ];
    const dumps = [1, 2, 3, 4, 5].map((seed) => {
      const m = new NetBoxDiodeModel({ seed });
      expect(run(m, ...entities).filter((l) => l.state === 'failed')).toEqual([]);
      return JSON.stringify(m.dump());
    });
    expect(new Set(dumps).size).toBe(1);
  });

  it('two workers creating the same new site at once: the second binds to the first', () => {
    let binds = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const m = new NetBoxDiodeModel({ seed, workers: 2 });
      const logs = run(m, ent('device', deviceRef('pve1', { name: 'Lab', slug: 'lab' })), ent('device', deviceRef('pve2', { name: 'Lab', slug: 'lab' })));
      expect(logs.map((l) => l.state)).toEqual(['reconciled', 'reconciled']);
      expect(m.objects('site')).toHaveLength(1);
      binds += logs.flatMap((l) => l.changes).filter((c) => c.action === 'bind' && c.objectType === 'dcim.site').length;
    }
    expect(binds).toBeGreaterThan(0); // the race did happen for some seeds
  });

  it('racing IP creates bind under ENFORCE_GLOBAL_UNIQUE and duplicate without it; prefixes pre-save match', () => {
    const ips = [ent('ip_address', { address: '10.0.0.9/24', dns_name: 'a' }), ent('ip_address', { address: '10.0.0.9/24', dns_name: 'b' })];
    const prefixes = [ent('prefix', { prefix: '10.1.0.0/24', description: 'a' }), ent('prefix', { prefix: '10.1.0.0/24', description: 'b' })];
    let duplicated = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const strict = new NetBoxDiodeModel({ seed, workers: 2 });
      run(strict, ...ips, ...prefixes);
      expect(strict.duplicates('ip_address')).toEqual([]);
      expect(strict.objects('prefix')).toHaveLength(1);
      expect(strict.failed()).toEqual([]);
      const lax = new NetBoxDiodeModel({ seed, workers: 2, enforceGlobalUnique: false });
      run(lax, ...ips);
      duplicated += lax.duplicates('ip_address').length;
    }
    expect(duplicated).toBeGreaterThan(0);
  });

  it('retries a failed apply only when configured to', () => {
    const entities = [
      ent('virtual_machine', { name: 'vm1', cluster, primary_ip4: { address: '10.0.0.5/24' } }),
      ent('vm_interface', { virtual_machine: vmRef('vm1'), name: 'net0' }),
      ent('ip_address', { address: '10.0.0.5/24', assigned_object_vm_interface: { virtual_machine: vmRef('vm1'), name: 'net0' } }),
    ];
    const off = new NetBoxDiodeModel({ workers: 1, order: 'fifo' });
    expect(run(off, ...entities).map((l) => l.state)).toEqual(['failed', 'reconciled', 'reconciled']);
    const on = new NetBoxDiodeModel({ workers: 1, order: 'fifo', retries: 1 });
    expect(run(on, ...entities).map((l) => l.state)).toEqual(['reconciled', 'reconciled', 'reconciled']);
    expect(on.logs()[0]?.attempts).toBe(2);
  });
});
