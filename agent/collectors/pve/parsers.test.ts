import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareConfigKeys,
  parseAgentEnabled,
  parseDisk,
  parseGuestConfig,
  parseGuestIp,
  parseLxcNet,
  parsePropertyString,
  parsePveVersion,
  parseQemuNet,
  parseSizeMb,
  parseTags,
  PveParseError,
  QEMU_NIC_MODELS,
} from './parsers.ts';

/** Calls `fn`; passes when it returns or throws PveParseError, fails on any other throw. */
function onlyTypedErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof PveParseError) return true;
    throw err;
  }
}

// Strings biased towards the characters these formats are made of.
const pveish = fc.string({ unit: fc.constantFrom(...'abcdefvirto0123456789:=,;/. -_KMGTmedia=cdromsizenone'.split('')), maxLength: 60 });
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), pveish);

describe('parsePropertyString', () => {
  it('reads key=value pairs and the default key, ignoring empty parts', () => {
    expect([...parsePropertyString('x', 'local-lvm:vm-1-disk-0,,size=32G, ssd=1', 'file')]).toEqual([
      ['file', 'local-lvm:vm-1-disk-0'],
      ['size', '32G'],
      ['ssd', '1'],
    ]);
  });
  it('rejects duplicates, key-less parts without a default key, and empty values', () => {
    expect(() => parsePropertyString('x', 'a=1,a=2')).toThrow('x "a=1,a=2": key "a" appears twice');
    expect(() => parsePropertyString('x', 'eth0')).toThrow('x "eth0": "eth0" is not a key=value pair');
    expect(() => parsePropertyString('x', 'a=')).toThrow('x "a=": key "a" has no value');
    expect(() => parsePropertyString('x', 'v1,v2', 'file')).toThrow('key "file" appears twice');
  });
});

describe('parseQemuNet', () => {
  it('reads the short form <model>=<MAC>', () => {
    expect(parseQemuNet('virtio=bc:24:11:2e:c5:4a,bridge=vmbr0,firewall=1,tag=10,trunks=20;30,mtu=9000,queues=4')).toEqual({
      model: 'virtio',
      mac: 'BC:24:11:2E:C5:4A',
      bridge: 'vmbr0',
      vlan: 10,
    });
  });
  it('reads the long form model=…,macaddr=…', () => {
    expect(parseQemuNet('model=e1000,macaddr=A2:C0:43:77:08:A0,bridge=vmbr1')).toEqual({ model: 'e1000', mac: 'A2:C0:43:77:08:A0', bridge: 'vmbr1' });
  });
  it('accepts a bare model (no MAC yet) and NAT without bridge', () => {
    expect(parseQemuNet('virtio')).toEqual({ model: 'virtio' });
  });
  it('rejects bad MACs, bad tags and two models', () => {
    expect(() => parseQemuNet('virtio=BC:24:11,bridge=vmbr0')).toThrow('QEMU net "virtio=BC:24:11,bridge=vmbr0": not a MAC address');
    expect(() => parseQemuNet('virtio=BC:24:11:2E:C5:4A,tag=4095')).toThrow('VLAN id 4095 is outside 1-4094');
    expect(() => parseQemuNet('virtio=BC:24:11:2E:C5:4A,tag=ten')).toThrow('tag is not a VLAN id');
    expect(() => parseQemuNet('virtio=BC:24:11:2E:C5:4A,e1000=BC:24:11:2E:C5:4B')).toThrow('more than one model');
  });
  it('recovers MAC and tag from any generated NIC string', () => {
    const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
    fc.assert(
      fc.property(
        fc.constantFrom(...QEMU_NIC_MODELS),
        mac,
        fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
        fc.boolean(),
        (model, m, tag, long) => {
          const head = long ? `model=${model},macaddr=${m}` : `${model}=${m}`;
          const parsed = parseQemuNet(`${head},bridge=vmbr0${tag !== undefined ? `,tag=${tag}` : ''}`);
          expect(parsed).toEqual({ model, mac: m.toUpperCase(), bridge: 'vmbr0', ...(tag !== undefined && { vlan: tag }) });
        },
      ),
    );
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseQemuNet(s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseLxcNet', () => {
  it('reads name, hwaddr, static addresses and tag', () => {
    expect(
      parseLxcNet(
        'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:2E:C5:7E,ip=192.168.3.102/20,gw=192.168.2.1,ip6=2001:db8::10/64,gw6=2001:db8::1,tag=10,firewall=1,type=veth',
      ),
    ).toEqual({ name: 'eth0', bridge: 'vmbr0', mac: 'BC:24:11:2E:C5:7E', ipv4: '192.168.3.102/20', ipv6: '2001:db8::10/64', vlan: 10 });
  });
  it('skips dhcp, manual and auto', () => {
    expect(parseLxcNet('name=eth0,hwaddr=BC:24:11:2E:C5:7E,ip=dhcp,ip6=auto')).toEqual({ name: 'eth0', mac: 'BC:24:11:2E:C5:7E' });
    expect(parseLxcNet('name=eth1,ip=manual,ip6=manual')).toEqual({ name: 'eth1' });
    expect(parseLxcNet('name=eth2,ip6=dhcp')).toEqual({ name: 'eth2' });
  });
  it('rejects an address without prefix and a key-less part', () => {
    expect(() => parseLxcNet('name=eth0,ip=10.0.0.5')).toThrow('LXC net "name=eth0,ip=10.0.0.5": IPv4 address has no prefix length');
    expect(() => parseLxcNet('name=eth0,ip6=10.0.0.5/24')).toThrow('not an IPv6 address');
    expect(() => parseLxcNet('eth0,bridge=vmbr0')).toThrow('"eth0" is not a key=value pair');
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseLxcNet(s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseGuestIp', () => {
  it('keeps static CIDRs and drops the method words', () => {
    expect(parseGuestIp('10.1.2.3/24', 4)).toBe('10.1.2.3/24');
    expect(parseGuestIp('fd00::5/064', 6)).toBe('fd00::5/64');
    expect(parseGuestIp('dhcp', 4)).toBeUndefined();
    expect(parseGuestIp('manual', 6)).toBeUndefined();
    expect(parseGuestIp('auto', 6)).toBeUndefined();
  });
  it('rejects prefix lengths out of range', () => {
    expect(() => parseGuestIp('10.1.2.3/33', 4)).toThrow('IPv4 address "10.1.2.3/33": bad IPv4 prefix length');
    expect(() => parseGuestIp('fd00::1/129', 6)).toThrow('IPv6 address "fd00::1/129": bad IPv6 prefix length');
  });
  it('round-trips any valid IPv4 CIDR', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, len) => {
        expect(parseGuestIp(`${ip}/${len}`, 4)).toBe(`${ip}/${len}`);
      }),
    );
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom(4 as const, 6 as const), (s, f) => onlyTypedErrors(() => parseGuestIp(s, f))),
      { numRuns: 2000 },
    );
  });
});

describe('parseDisk', () => {
  it('reads storage, size and flags of the forms qemu-server and pve-container write', () => {
    expect(parseDisk('scsi0', 'local-lvm:vm-100-disk-0,iothread=1,discard=on,ssd=1,size=32G')).toEqual({
      key: 'scsi0',
      volume: 'local-lvm:vm-100-disk-0',
      storage: 'local-lvm',
      sizeMb: 32768,
      cdrom: false,
      cloudinit: false,
      none: false,
    });
    expect(parseDisk('scsi1', 'local:8006/vm-8006-disk-0.qcow2,discard=on,size=104858K')).toMatchObject({ storage: 'local', sizeMb: 103 });
    expect(parseDisk('ide2', 'local:iso/debian-12.iso,media=cdrom')).toEqual({
      key: 'ide2',
      volume: 'local:iso/debian-12.iso',
      storage: 'local',
      cdrom: true,
      cloudinit: false,
      none: false,
    });
    expect(parseDisk('ide2', 'none,media=cdrom')).toEqual({ key: 'ide2', volume: 'none', cdrom: true, cloudinit: false, none: true });
    expect(parseDisk('ide0', 'local-lvm:vm-100-cloudinit,media=cdrom')).toMatchObject({ cloudinit: true, cdrom: true });
    expect(parseDisk('ide0', 'local:100/vm-100-cloudinit.qcow2,media=cdrom,size=4M')).toMatchObject({ cloudinit: true, sizeMb: 4 });
    expect(parseDisk('rootfs', 'local-lvm:subvol-101-disk-0,size=8G')).toMatchObject({ storage: 'local-lvm', sizeMb: 8192 });
    expect(parseDisk('mp0', '/mnt/host/data,mp=/data')).toEqual({ key: 'mp0', volume: '/mnt/host/data', cdrom: false, cloudinit: false, none: false });
    expect(parseDisk('mp1', 'volume=ceph:vm-101-disk-1,mp=/srv,size=1T')).toMatchObject({ storage: 'ceph', sizeMb: 1048576 });
    expect(parseDisk('scsi2', '/dev/disk/by-id/ata-ST4000-XYZ,size=3907018584K')).toMatchObject({ sizeMb: 3815448 });
  });
  it('rejects a bad size', () => {
    expect(() => parseDisk('scsi0', 'local-lvm:vm-1-disk-0,size=32X')).toThrow('disk scsi0 "local-lvm:vm-1-disk-0,size=32X": size is not <number>[K|M|G|T]');
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseDisk('scsi0', s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseSizeMb', () => {
  it('converts K/M/G/T (binary) and bare bytes to MB, rounding up', () => {
    expect(parseSizeMb('s', '512M')).toBe(512);
    expect(parseSizeMb('s', '1.5G')).toBe(1536);
    expect(parseSizeMb('s', '2T')).toBe(2097152);
    expect(parseSizeMb('s', '528K')).toBe(1);
    expect(parseSizeMb('s', '1048576')).toBe(1);
    expect(parseSizeMb('s', '0')).toBe(0);
  });
  it('is exact for whole numbers in every unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n) => {
        expect(parseSizeMb('s', `${n}M`)).toBe(n);
        expect(parseSizeMb('s', `${n}G`)).toBe(n * 1024);
        expect(parseSizeMb('s', `${n}T`)).toBe(n * 1024 * 1024);
        expect(parseSizeMb('s', `${n * 1024}K`)).toBe(n);
      }),
    );
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseSizeMb('s', s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseTags', () => {
  it('splits on ; , and spaces, dropping empties and repeats', () => {
    expect(parseTags('production;webserver')).toEqual(['production', 'webserver']);
    expect(parseTags(' a,b ; c  a;;')).toEqual(['a', 'b', 'c']);
    expect(parseTags('')).toEqual([]);
  });
  it('returns separator-free, non-empty, unique tags that survive a ;-join', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const tags = parseTags(s);
        for (const t of tags) expect(t).toMatch(/^[^;,\s]+$/);
        expect(new Set(tags).size).toBe(tags.length);
        expect(parseTags(tags.join(';'))).toEqual(tags);
      }),
    );
  });
});

describe('parsePveVersion', () => {
  it('keeps major.minor', () => {
    expect(parsePveVersion('pve-manager/8.2.4/faa83925c9641325')).toBe('8.2');
    expect(parsePveVersion('pve-manager/9.1-1/9a1b2c3d')).toBe('9.1');
    expect(parsePveVersion('pve-manager/8.4-1/761609f7')).toBe('8.4');
    expect(parsePveVersion('8.4.1')).toBe('8.4');
  });
  it('rejects what is not a version', () => {
    expect(() => parsePveVersion('pve-manager/unknown')).toThrow('pveversion "pve-manager/unknown": expected pve-manager/X.Y.Z/<hash>');
  });
  it('reads any X.Y.Z back as X.Y', () => {
    fc.assert(
      fc.property(
        fc.nat(99),
        fc.nat(99),
        fc.nat(99),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 8, maxLength: 16 }),
        (x, y, z, h) => {
          expect(parsePveVersion(`pve-manager/${x}.${y}.${z}/${h}`)).toBe(`${x}.${y}`);
        },
      ),
    );
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parsePveVersion(s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseAgentEnabled', () => {
  it('reads both the plain and the property-string forms', () => {
    expect(parseAgentEnabled(1)).toBe(true);
    expect(parseAgentEnabled(0)).toBe(false);
    expect(parseAgentEnabled('1')).toBe(true);
    expect(parseAgentEnabled('0')).toBe(false);
    expect(parseAgentEnabled('enabled=1,fstrim_cloned_disks=1,type=virtio')).toBe(true);
    expect(parseAgentEnabled('1,type=isa')).toBe(true);
    expect(parseAgentEnabled('enabled=0,type=virtio')).toBe(false);
    expect(parseAgentEnabled('type=virtio')).toBe(false);
  });
  it('throws nothing but PveParseError on arbitrary input', () => {
    fc.assert(
      fc.property(anyText, (s) => onlyTypedErrors(() => parseAgentEnabled(s))),
      { numRuns: 2000 },
    );
  });
});

describe('parseGuestConfig', () => {
  it('parses a QEMU config (go-proxmox pve9x nodes_node1_qemu_100_config.json)', () => {
    const { config, errors } = parseGuestConfig('qemu', {
      digest: 'abc123def456',
      name: 'test-vm',
      vmid: 100,
      cores: 2,
      memory: 2048,
      sockets: 1,
      ostype: 'l26',
      boot: 'order=scsi0;ide2;net0',
      scsi0: 'local-lvm:vm-100-disk-0,size=32G',
      ide2: 'local:iso/debian-12.iso,media=cdrom',
      net0: 'virtio=BC:24:11:2E:C5:4A,bridge=vmbr0',
      scsihw: 'virtio-scsi-pci',
      tags: 'production;webserver',
    });
    expect(errors).toEqual([]);
    expect(config).toEqual({
      ostype: 'l26',
      onboot: false,
      agentEnabled: false,
      nets: [{ key: 'net0', name: 'net0', mac: 'BC:24:11:2E:C5:4A' }],
      disks: [
        { key: 'ide2', volume: 'local:iso/debian-12.iso', storage: 'local', cdrom: true, cloudinit: false, none: false },
        { key: 'scsi0', volume: 'local-lvm:vm-100-disk-0', storage: 'local-lvm', sizeMb: 32768, cdrom: false, cloudinit: false, none: false },
      ],
    });
  });
  it('parses an LXC config, names NICs by name= and ignores QEMU-only keys', () => {
    const { config, errors } = parseGuestConfig('lxc', {
      arch: 'amd64',
      hostname: 'ct',
      onboot: true,
      agent: 1,
      ostype: 'ubuntu',
      description: 'web\n',
      net1: 'bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=10.0.0.2/24',
      net0: 'name=eth0,hwaddr=BC:24:11:00:00:01,ip=dhcp',
      rootfs: 'local-lvm:vm-101-disk-0,size=8G',
      mp10: 'local-lvm:vm-101-disk-2,mp=/b,size=1G',
      mp2: 'local-lvm:vm-101-disk-1,mp=/a,size=2G',
      scsi0: 'x:y,size=1G',
    });
    expect(errors).toEqual([]);
    expect(config).toEqual({
      ostype: 'ubuntu',
      description: 'web\n',
      onboot: true,
      agentEnabled: false,
      nets: [
        { key: 'net0', name: 'eth0', mac: 'BC:24:11:00:00:01' },
        { key: 'net1', name: 'net1', mac: 'BC:24:11:00:00:02', ipv4: '10.0.0.2/24' },
      ],
      disks: [
        { key: 'rootfs', volume: 'local-lvm:vm-101-disk-0', storage: 'local-lvm', sizeMb: 8192, cdrom: false, cloudinit: false, none: false },
        { key: 'mp2', volume: 'local-lvm:vm-101-disk-1', storage: 'local-lvm', sizeMb: 2048, cdrom: false, cloudinit: false, none: false },
        { key: 'mp10', volume: 'local-lvm:vm-101-disk-2', storage: 'local-lvm', sizeMb: 1024, cdrom: false, cloudinit: false, none: false },
      ],
    });
  });
  it('leaves out a bad entry and reports it, keeping the rest', () => {
    const { config, errors } = parseGuestConfig('qemu', {
      agent: 'enabled=maybe',
      net0: 'virtio=zz',
      net1: 'virtio=BC:24:11:00:00:01',
      scsi0: 42,
      scsi1: 'l:v,size=1G',
    });
    expect(errors.map((e) => e.message)).toEqual([
      'agent "enabled=maybe": enabled is not a boolean',
      'net0 "virtio=zz": not a MAC address',
      'scsi0 "42": expected a property string',
    ]);
    expect(config.nets).toEqual([{ key: 'net1', name: 'net1', mac: 'BC:24:11:00:00:01' }]);
    expect(config.disks.map((d) => d.key)).toEqual(['scsi1']);
    expect(config.agentEnabled).toBe(false);
  });
  it('orders keys the way PVE lists them', () => {
    expect(['net10', 'net2', 'scsi0', 'ide2', 'rootfs', 'mp1', 'virtio0', 'sata1'].sort(compareConfigKeys)).toEqual([
      'rootfs',
      'ide2',
      'mp1',
      'net2',
      'net10',
      'sata1',
      'scsi0',
      'virtio0',
    ]);
  });
  it('orders any keys as name, then trailing number, then the key itself', () => {
    // The rule as a regex, the way it was first written; the parser splits keys by hand.
    const reference = (a: string, b: string): number => {
      const pa = /^(\D*)(\d*)$/.exec(a);
      const pb = /^(\D*)(\d*)$/.exec(b);
      const na = a === 'rootfs' ? '' : (pa?.[1] ?? a);
      const nb = b === 'rootfs' ? '' : (pb?.[1] ?? b);
      if (na !== nb) return na < nb ? -1 : 1;
      return Number(pa?.[2] || -1) - Number(pb?.[2] || -1) || (a < b ? -1 : a > b ? 1 : 0);
    };
    // A small alphabet, so that two keys often share their name or number.
    const key = fc.oneof(
      fc.constantFrom('rootfs', 'net', 'mp0', 'scsi10', 'a1b2', 'a1b10'),
      fc.array(fc.constantFrom('a', 'b', '0', '1', '2'), { maxLength: 5 }).map((cs) => cs.join('')),
    );
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(Math.sign(compareConfigKeys(a, b))).toBe(Math.sign(reference(a, b)));
      }),
    );
  });
  it('throws nothing but PveParseError on arbitrary configs', () => {
    const value = fc.oneof(anyText, fc.integer(), fc.boolean(), fc.constant(null));
    const key = fc.constantFrom('net0', 'net1', 'scsi0', 'ide2', 'virtio3', 'sata0', 'rootfs', 'mp0', 'agent', 'ostype', 'other');
    fc.assert(
      fc.property(fc.constantFrom('qemu' as const, 'lxc' as const), fc.dictionary(key, value), (type, raw) => {
        const cfg = { ...raw } as Record<string, unknown>;
        if (typeof cfg.agent !== 'string' && typeof cfg.agent !== 'number' && typeof cfg.agent !== 'boolean') delete cfg.agent;
        if (typeof cfg.ostype !== 'string') delete cfg.ostype;
        return onlyTypedErrors(() => parseGuestConfig(type, cfg));
      }),
      { numRuns: 1000 },
    );
  });
});
