import type { Cluster, Device, Platform, Site, Tag, Tenant, VirtualMachine, VMInterface } from '../../../../proto/diode/v1/types.ts';
import type { PveConfig, PveGuest, PveNode, PveSnapshot, PveSnapshotHead, PveSnapshotPart, TenantRule } from '../snapshot.ts';
import { cidrText, isUsableAddress, mapNodeNetwork, prefixEntity, withPrefix, type Cidr } from '../../../../mappers/common/node-network.ts';
import {
  cf,
  deviceRef,
  ipRef,
  platformRef,
  siteFrom,
  siteRef,
  tagEntity,
  tagRef,
  tenantRef,
  vlanRef,
  vmInterfaceRef,
  vmRef,
} from '../../../../mappers/common/refs.ts';
import { slugify } from '../../../../mappers/common/slug.ts';
import { PVE_NODE, pveClusterRef } from '../../../../mappers/common/vocabulary.ts';
import { naturalKey, vmKey } from '../../../../mappers/keys.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { entity, type AnyEntity, type EntityOf, type MapContext, type MapSummary, type PartMapper } from '../../../../mappers/types.ts';
import { guestPlatformName, nodePlatformName } from './platforms.ts';
import { DISCOVERED_TAG, HOST_TAG_COLOR, hostTagName, PVE_TAG, staticEntities } from './static.ts';
import { haReplicationFieldEntities, haReplicationValues } from './ha.ts';
import { lxcIps } from './lxc-runtime.ts';

/*
 * Snapshot → Diode entities, following the seed's mapping row by row as
 * agent/collectors/pve/README.md "What lands in NetBox" states it.
 * Pure: no clock, no I/O; mapPve's output is sorted with the one emission-order table.
 */

const MB = 1024 * 1024;

/** Seed "VM / LXC Container Status Mapping". */
export function vmStatus(pve: string): NonNullable<VirtualMachine['status']> {
  return pve === 'running' ? 'active' : pve === 'stopped' ? 'offline' : 'staged';
}

/** Seed "Node (Device) Status Mapping". */
export function deviceStatus(pve: string): NonNullable<Device['status']> {
  return pve === 'online' ? 'active' : 'offline';
}

/** Resolution order of the seed's "Cluster Name Resolution". */
export function clusterName(snapshot: PveSnapshotHead, config: PveConfig): string {
  return config.CLUSTER_NAME ?? snapshot.clusterName ?? config.PROXMOX_HOST ?? snapshot.host;
}

export function nodeSite(node: string, config: PveConfig): string {
  return siteFrom(config.NODE_SITE_MAP, node, config.SITE_NAME);
}

/** A node's Device reference: what NetBox needs to create it and Diode to match it. */
export function pveNodeRef(node: string, config: PveConfig): Device {
  return deviceRef(node, nodeSite(node, config), PVE_NODE);
}

/** Guest-agent interfaces that never carry inventory IPs (seed "IP Address Discovery"). */
const AGENT_SKIP_IFACES = new Set(['lo', 'docker0']);

interface Emitter {
  /** Emits unless an entity of the same kind and natural key was emitted before. */
  push(e: AnyEntity): void;
  /** Emits an entity that is unique by construction (a guest's own VM, interfaces, disks, IPs). */
  add(e: AnyEntity): void;
  claimIp(address: string): boolean;
  isClaimed(address: string): boolean;
  /** Addresses left out because an earlier object holds them (the first owner keeps an address). */
  conflicts: number;
  /** Per-run memo of the references every guest repeats, so each slug is computed once. */
  site(name: string): Site;
  tag(name: string): Tag;
  platform(name: string): Platform;
  tenant(name: string): Tenant;
}

function emitter(out: AnyEntity[]): Emitter {
  const seen = new Set<string>();
  const ips = new Set<string>();
  const memo = <T>(make: (name: string) => T): ((name: string) => T) => {
    const cache = new Map<string, T>();
    return (name) => {
      let v = cache.get(name);
      if (v === undefined) {
        v = make(name);
        cache.set(name, v);
      }
      return v;
    };
  };
  return {
    // First one wins: shared objects (VLAN, prefix, platform, tag) are identical anyway.
    push(e) {
      const key = `${e.kind}\u0000${naturalKey(e)}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push(e);
    },
    add(e) {
      out.push(e);
    },
    claimIp(address) {
      if (ips.has(address)) return false;
      ips.add(address);
      return true;
    },
    isClaimed: (address) => ips.has(address),
    conflicts: 0,
    site: memo(siteRef),
    tag: memo(tagRef),
    platform: memo(platformRef),
    tenant: memo(tenantRef),
  };
}

/** `proxmox_vm_uid`: the cluster's name and the VMID, unique per PVE cluster. */
export function vmUid(cluster: string, vmid: number): string {
  return `${cluster}/${vmid}`;
}

/**
 * TENANT_MAP's tenant for a guest (issue #17). Precedence: the rule of the guest's pool (a
 * guest is in at most one pool), else the first tag rule, in the order TENANT_MAP is written,
 * whose tag the guest carries (tags compared case-insensitively, as PVE treats them). Tenant
 * names that slugify alike are one NetBox tenant: the first written name is used for all.
 */
export function tenantOf(g: Pick<PveGuest, 'pool' | 'tags'>, rules: readonly TenantRule[]): string | undefined {
  const rule =
    (g.pool !== undefined ? rules.find((r) => r.kind === 'pool' && r.value === g.pool) : undefined) ??
    (() => {
      const tags = new Set(g.tags.map((t) => t.toLowerCase()));
      return rules.find((r) => r.kind === 'tag' && tags.has(r.value));
    })();
  if (!rule) return undefined;
  const slug = slugify(rule.tenant);
  return rules.find((r) => slugify(r.tenant) === slug)?.tenant ?? rule.tenant;
}

/**
 * VM keys (mappers/keys.ts vmKey) of the guests the policy's selection excluded, for the
 * delta to forget instead of reporting stale; a name a mapped VM uses (case-insensitively)
 * is left out, as its key is that VM's.
 */
export function excludedVmKeys(snapshot: PveSnapshot, config: PveConfig): string[] {
  if (!snapshot.excluded?.length) return [];
  const cluster = pveClusterRef(clusterName(snapshot, config), config.SITE_NAME);
  const kept = new Set(snapshot.guests.map((g) => g.name.toLowerCase()));
  const keys = new Set<string>();
  for (const x of snapshot.excluded) if (!kept.has(x.name.toLowerCase())) keys.add(vmKey(vmRef(x.name, cluster)));
  return [...keys].sort();
}

/** The snapshot's entities in emission order. */
export function mapPve(snapshot: PveSnapshot, ctx: MapContext<PveConfig>): AnyEntity[] {
  return orderEntities([...mapPveEach(snapshot, ctx)]);
}

/**
 * One run's mapping state: what every guest of the run shares, and what earlier objects
 * claimed (names, addresses). Fed the head, then guests in snapshot order; each step's
 * entities collect in `out` until the caller takes them.
 */
class PveMapping {
  readonly out: AnyEntity[] = [];
  private readonly em = emitter(this.out);
  private readonly config: PveConfig;
  /** Set once the head is mapped, unless it is a bootstrap snapshot (no guests then). */
  private run: GuestRun | undefined;
  headDone = false;
  /** Guests of the snapshot fed so far (mapped, or skipped as a repeated name). */
  guests = 0;
  /** The last guest fed: `end` checks the snapshot's guests start with what was fed. */
  lastGuest: PveGuest | undefined;
  // The collector already drops same-name guests; this keeps a hand-made snapshot from
  // merging two guests' interfaces and disks into one VM.
  private readonly vmNames = new Set<string>();

  constructor(ctx: MapContext<PveConfig>) {
    this.config = ctx.config;
  }

  /** The static entities, the cluster, its nodes and their networks' prefixes. */
  head(snapshot: PveSnapshotHead): void {
    this.headDone = true;
    const em = this.em;
    for (const e of staticEntities()) em.push(e);
    for (const e of haReplicationFieldEntities(this.config)) em.push(e);
    if (snapshot.bootstrap) return;
    const config = this.config;
    const host = config.PROXMOX_HOST ?? snapshot.host;
    const hostTag = hostTagName(host);
    em.push(tagEntity(hostTag, HOST_TAG_COLOR));
    const tags: Tag[] = [tagRef(PVE_TAG.name), tagRef(DISCOVERED_TAG.name), tagRef(hostTag)];
    // The cluster this policy's guests are in, as every reference to it carries it.
    const cluster = pveClusterRef(clusterName(snapshot, config), config.SITE_NAME);
    em.push(entity('cluster', { ...cluster, status: 'active', tags }));
    // Nodes first, then guests by vmid: when two objects report one address, the first keeps it.
    const networks = new Map<string, Set<string>>();
    for (const node of snapshot.nodes) mapNode(node, config, tags, em, networks);
    // One Prefix per network, scoped to a site only when every node carrying it is there.
    for (const [network, sites] of networks) {
      const [only] = sites;
      em.push(prefixEntity(network, sites.size === 1 && only !== undefined ? em.site(only) : undefined, tags));
    }
    this.run = { cluster, config, tags, tagSlugs: new Set(tags.map((t) => t.slug ?? '')) };
  }

  guest(guest: PveGuest): void {
    this.guests++;
    this.lastGuest = guest;
    if (!this.run) return;
    const key = guest.name.toLowerCase();
    if (this.vmNames.has(key)) return;
    this.vmNames.add(key);
    mapGuest(guest, this.run, this.em);
  }

  summary(snapshot: PveSnapshot): MapSummary | undefined {
    if (!this.run) return undefined;
    const forget = excludedVmKeys(snapshot, this.config);
    return { measures: { addresses_dropped: this.em.conflicts }, ...(forget.length > 0 && { forgetVms: forget }) };
  }

  /** Hands what was mapped since the last call to `emit`. */
  drain(emit: (e: AnyEntity) => void): void {
    for (const e of this.out) emit(e);
    this.out.length = 0;
  }
}

/**
 * The same entities as mapPve, handed out in mapping order, not emission order: the run
 * encodes each as it comes, so the mapped objects of a whole estate are never alive at
 * once (the runtime sorts the encoded entities).
 */
export function* mapPveEach(snapshot: PveSnapshot, ctx: MapContext<PveConfig>): Generator<AnyEntity, MapSummary | undefined, undefined> {
  const m = new PveMapping(ctx);
  m.head(snapshot);
  yield* m.out;
  m.out.length = 0;
  for (const guest of snapshot.guests) {
    m.guest(guest);
    yield* m.out;
    m.out.length = 0;
  }
  return m.summary(snapshot);
}

/**
 * mapPveEach while collecting (CollectorDefinition.mapParts): the collector hands over the
 * head and then each guest in vmid order (PveSnapshotPart); `end` maps what was not handed
 * over. The same steps on the same objects in the same order, so the same entities.
 */
export function mapPveParts(ctx: MapContext<PveConfig>): PartMapper<PveSnapshot, PveSnapshotPart> {
  const m = new PveMapping(ctx);
  return {
    part(p, emit) {
      if ('head' in p) {
        if (m.headDone) throw new Error('mapPveParts: a second head');
        m.head(p.head);
      } else {
        if (!m.headDone) throw new Error('mapPveParts: a guest before the head');
        m.guest(p.guest);
      }
      m.drain(emit);
    },
    end(snapshot, emit) {
      if (!m.headDone) m.head(snapshot);
      else if (m.guests > 0 && snapshot.guests[m.guests - 1] !== m.lastGuest)
        throw new Error("mapPveParts: the snapshot's guests do not start with the guests handed over");
      m.drain(emit);
      for (let i = m.guests; i < snapshot.guests.length; i++) {
        m.guest(snapshot.guests[i] as PveGuest);
        m.drain(emit);
      }
      return m.summary(snapshot);
    },
  };
}

function mapNode(node: PveNode, config: PveConfig, tags: Tag[], em: Emitter, networks: Map<string, Set<string>>): void {
  const site = nodeSite(node.name, config);
  const stub = pveNodeRef(node.name, config);
  const net = mapNodeNetwork(stub, em.site(site), node.network ?? [], tags, { isClaimed: em.isClaimed });
  em.conflicts += net.conflicts;
  for (const e of [...net.interfaces, ...net.vlans]) em.push(e);
  for (const n of net.networks) {
    let sites = networks.get(n);
    if (sites === undefined) {
      sites = new Set();
      networks.set(n, sites);
    }
    sites.add(site);
  }
  for (const ip of net.ipAddresses) {
    if (ip.value.address !== undefined) em.claimIp(ip.value.address);
    em.push(ip);
  }

  const platform = nodePlatformName(node.version);
  if (platform) em.push(entity('platform', { ...platformRef(platform), tags }));

  const customFields: Record<string, ReturnType<typeof cf.integer>> = {};
  if (node.maxcpu !== undefined) customFields.proxmox_cpu_count = cf.integer(Math.round(node.maxcpu));
  if (node.maxmem !== undefined) customFields.proxmox_memory_mb = cf.integer(Math.round(node.maxmem / MB));

  // primary_ip4/6 ride on the primary IP's own entity (mapNodeNetwork), never here.
  em.push(
    entity('device', {
      ...stub,
      ...(platform && { platform: platformRef(platform) }),
      status: deviceStatus(node.status),
      ...(Object.keys(customFields).length > 0 && { custom_fields: customFields }),
      tags,
    }),
  );
}

interface GuestIp {
  iface: string;
  cidr: Cidr;
}

function guestIps(g: PveGuest, ifaceNames: Map<string, string>, lxcMode: PveConfig['LXC_ADDRESSES']): GuestIp[] {
  const out: GuestIp[] = [];
  const nets = g.config?.nets ?? [];
  // LXC: the static ip=/ip6= of each NIC (seed "LXC Container IP Address"), and with
  // LXC_ADDRESSES the running container's (issue #17).
  if (g.type === 'lxc') return lxcIps(g, ifaceNames, lxcMode);
  // QEMU: guest-agent addresses, matched to config NICs by MAC (seed "QEMU VM IP Address").
  const byMac = new Map<string, string>();
  for (const n of nets) {
    const iface = ifaceNames.get(n.key);
    if (n.mac && iface !== undefined && !byMac.has(n.mac)) byMac.set(n.mac, iface);
  }
  let nics = 0;
  for (const a of g.agent?.interfaces ?? []) {
    if (AGENT_SKIP_IFACES.has(a.name) || !a.mac) continue;
    const iface = byMac.get(a.mac.toUpperCase());
    if (iface === undefined) continue;
    nics++;
    for (const addr of a.addresses) {
      const family = addr.family === 'ipv4' ? 4 : addr.family === 'ipv6' ? 6 : undefined;
      const cidr = family ? withPrefix(addr.address, String(addr.prefix)) : undefined;
      if (cidr && cidr.family === family && isUsableAddress(cidr)) out.push({ iface, cidr });
    }
  }
  if (nics < 2) return out;
  // Config order (net0, net1, …), then the agent's order within a NIC (the sort is stable).
  const rank = new Map<string, number>();
  for (const name of ifaceNames.values()) rank.set(name, rank.size);
  return out.sort((x, y) => (rank.get(x.iface) ?? 0) - (rank.get(y.iface) ?? 0));
}

/** What every guest of a run shares. */
interface GuestRun {
  cluster: Cluster;
  config: PveConfig;
  tags: Tag[];
  /** Slugs of `tags`: a Proxmox tag with one of them is not added again. */
  tagSlugs: ReadonlySet<string>;
}

function mapGuest(g: PveGuest, run: GuestRun, em: Emitter): void {
  const { cluster, config, tags } = run;
  // TENANT_MAP set: the agent owns the tenant of this policy's VMs and their IPs.
  const rules = config.TENANT_MAP;
  const tenantName = rules ? tenantOf(g, rules) : undefined;
  const tenant = tenantName === undefined ? undefined : em.tenant(tenantName);
  if (tenant) em.push(entity('tenant', tenant));
  /*
   * No rule matches: an empty Tenant clears the one an earlier run set (the plugin reads an
   * empty message as "clear this reference": netboxlabs/diode-netbox-plugin
   * netbox_diode_plugin/api/transformer.py `_transform_proto_json_1`). Left as it was, the
   * VM would keep it, and every reference to the VM without it would create a second VM.
   */
  const ownTenant: Tenant | undefined = tenant ?? (rules ? {} : undefined);
  // vmRef carries the cluster's scope site: NetBox requires a VM's site to be it
  // (VirtualMachine.clean); and the VM's tenant, which NetBox's VM uniqueness includes.
  const vmStub = vmRef(g.name, cluster, tenant);
  const vmSite = config.SITE_NAME;
  const hostSite = nodeSite(g.node, config);

  const platformName = guestPlatformName(g);
  const platform = platformName === undefined ? undefined : em.platform(platformName);
  if (platform) em.push(entity('platform', { ...platform, tags }));

  // Interfaces, named by config key (QEMU) or name= (LXC); a repeated name keeps the first.
  const ifaceNames = new Map<string, string>();
  const used = new Set<string>();
  for (const n of g.config?.nets ?? []) {
    if (used.has(n.name)) continue;
    used.add(n.name);
    ifaceNames.set(n.key, n.name);
    const iface: VMInterface = vmInterfaceRef(vmStub, n.name);
    if (n.mac) iface.primary_mac_address = { mac_address: n.mac };
    if (n.vlan !== undefined) {
      // "VLAN {vid}" at the site of the node it was discovered on (seed "VLAN Discovery").
      const site = em.site(hostSite);
      em.push(entity('vlan', { ...vlanRef(n.vlan, site), status: 'active', tags }));
      // NetBox only accepts an untagged VLAN of the VM's own site (VMInterface.clean); when
      // NODE_SITE_MAP puts the node elsewhere the VLAN is still recorded, the link is not.
      if (hostSite === vmSite) {
        iface.mode = 'access';
        iface.untagged_vlan = vlanRef(n.vlan, site);
      }
    }
    iface.tags = tags;
    em.add(entity('vm_interface', iface));
  }

  const ips = guestIps(g, ifaceNames, config.LXC_ADDRESSES);
  let primary4: string | undefined;
  let primary6: string | undefined;
  for (const ip of ips) {
    const address = cidrText(ip.cidr);
    if (!em.claimIp(address)) {
      em.conflicts++;
      continue;
    }
    // As for nodes: only the primary IP's own entity sets the primary, on its VM reference.
    let owner = vmStub;
    if (primary4 === undefined && ip.cidr.family === 4) {
      primary4 = address;
      owner = { ...vmStub, primary_ip4: ipRef(address) };
    } else if (primary6 === undefined && ip.cidr.family === 6) {
      primary6 = address;
      owner = { ...vmStub, primary_ip6: ipRef(address) };
    }
    em.add(
      entity('ip_address', {
        address,
        assigned_object_vm_interface: vmInterfaceRef(owner, ip.iface),
        status: 'active',
        ...(ownTenant !== undefined && { tenant: ownTenant }),
        tags,
      }),
    );
  }

  for (const d of g.config?.disks ?? []) {
    // Seed "Virtual Disk Discovery": cloud-init drives, CD-ROMs and `none` are not disks.
    if (d.cdrom || d.cloudinit || d.none || d.sizeMb === undefined) continue;
    const disk: EntityOf<'virtual_disk'>['value'] = { virtual_machine: vmStub, name: d.key, size: d.sizeMb };
    if (d.storage !== undefined) disk.custom_fields = { proxmox_storage_pool: cf.text(d.storage) };
    disk.tags = tags;
    em.add(entity('virtual_disk', disk));
  }

  // Proxmox tags ride along as NetBox tags (seed "Proxmox VM Tags").
  let vmTags = tags;
  if (g.tags.length > 0) {
    const bySlug = new Map<string, Tag>();
    for (const t of g.tags) {
      const ref = em.tag(t);
      const slug = ref.slug ?? '';
      if (!run.tagSlugs.has(slug) && !bySlug.has(slug)) bySlug.set(slug, ref);
    }
    const guestTags = [...bySlug.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
    for (const t of guestTags) em.push(tagEntity(t.name ?? ''));
    if (guestTags.length > 0) vmTags = [...tags, ...guestTags];
  }

  const customFields: NonNullable<VirtualMachine['custom_fields']> = {
    proxmox_vmid: cf.text(String(g.vmid)),
    proxmox_node: cf.text(g.node),
    proxmox_vm_type: cf.text(g.type),
  };
  if (g.hastate !== undefined) customFields.proxmox_ha_state = cf.text(g.hastate);
  // Issue #17: a unique identity Diode matches on when (name, cluster) does not (a rename).
  customFields.proxmox_vm_uid = cf.text(vmUid(cluster.name ?? '', g.vmid));
  if (g.backup) {
    const last = g.backup.last;
    // No visible backup: the fields are left out, so NetBox keeps the last value it had.
    if (last) {
      customFields.proxmox_last_backup = cf.datetime(new Date(last.time * 1000));
      customFields.proxmox_backup_storage = cf.text(last.storage);
      customFields.proxmox_backup_verification = cf.text(last.verification ?? 'none');
    }
    if (g.backup.inJob !== undefined) customFields.proxmox_backup_job = cf.boolean(g.backup.inJob);
  }
  Object.assign(customFields, haReplicationValues(g));

  const vm: VirtualMachine = { ...vmStub, ...(ownTenant !== undefined && { tenant: ownTenant }), status: vmStatus(g.status) };
  if (platform) vm.platform = platform;
  if (g.maxcpu !== undefined) vm.vcpus = Math.round(g.maxcpu * 100) / 100;
  if (g.maxmem !== undefined) vm.memory = Math.round(g.maxmem / MB);
  const description = g.config?.description?.trim();
  if (description) vm.comments = description;
  if (g.config) vm.start_on_boot = g.config.onboot ? 'on' : 'off';
  vm.tags = vmTags;
  vm.custom_fields = customFields;
  em.add(entity('virtual_machine', vm));
}
