import type { CustomFieldChoiceSet, CustomFieldValue, Device, InventoryItem, Service, Tag } from '../../../../proto/diode/v1/types.ts';
import type { CephClusterSnapshot, CephConfig, CephDaemon, CephOsd, CephSnapshot } from '../snapshot.ts';
import {
  cf,
  clusterRef,
  clusterTypeRef,
  customFieldEntities as cfEntities,
  deviceRef,
  inventoryItemRoleRef,
  siteFrom,
  tagEntity,
  tagRef,
  type CustomFieldDef,
} from '../../../../mappers/common/refs.ts';
import { CEPH_CLUSTER_TYPE, CEPH_HOST, DISCOVERED_TAG, PVE_NODE } from '../../../../mappers/common/vocabulary.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { entity, type AnyEntity, type MapContext } from '../../../../mappers/types.ts';

/*
 * Ceph snapshot → Diode entities (agent/collectors/ceph/README.md "What lands in NetBox"). A Cluster of type "Ceph" carries
 * the cluster-wide facts as custom fields; OSDs are InventoryItems on their host, MON/MGR
 * daemons Services on theirs. In `pve` mode a host is exactly the PVE collector's node
 * stub, deviceRef(node, NODE_SITE_MAP[node] ?? SITE_NAME), so hyperconverged nodes are one
 * Device; the ceph collector then sends nothing but that stub for it (the PVE collector
 * owns its role, type and platform). In `dashboard` mode the host gets role "Ceph Node".
 */

export const CEPH_TAG = { name: 'ceph', color: 'ef5c55' } as const;
export const CEPH_OSD_ROLE = 'Ceph OSD';
export const CEPH_CF_GROUP = 'Ceph';
export const FLAGS_CHOICE_SET = 'ceph_osd_flags';
/*
 * The value of ceph_flags when no flag is set. An empty multi-select cannot be sent: the
 * reconciler writes protoJSON without unpopulated fields, so { multiple_selection: [] }
 * reaches the plugin as {} and the whole Cluster entity fails ("must be a dictionary with a
 * single key": netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/transformer.py
 * `_pop_custom_field_type_and_value`); and an absent key keeps the old flags (custom fields
 * merge per key). So "none" is a choice of its own.
 */
export const NO_FLAGS = 'none';

/**
 * The operational OSD map flags Ceph prints (src/osd/OSDMap.cc get_flag_string) plus
 * `pause`, the fold of pauserd+pausewr (ceph src/pybind/mgr/dashboard/controllers/osd.py
 * OsdFlagsController._osd_flags); the
 * release-feature flags are left out by the collector (FEATURE_FLAGS). A fixed list keeps
 * the choice set from changing with the flags; a flag not listed is appended when seen,
 * so a newer Ceph never fails the multi-select.
 */
export const KNOWN_OSD_FLAGS = [
  'noout',
  'noin',
  'noup',
  'nodown',
  'nobackfill',
  'norebalance',
  'norecover',
  'noscrub',
  'nodeep-scrub',
  'notieragent',
  'nosnaptrim',
  'pause',
  'pauserd',
  'pausewr',
  'full',
  'nearfull',
] as const;

const CLUSTER = 'virtualization.cluster';
const INVENTORY_ITEM = 'dcim.inventoryitem';
const SERVICE = 'ipam.service';

/** The custom fields the ceph collector writes; each is also emitted as a CustomField entity. */
export const CEPH_CUSTOM_FIELDS = [
  { name: 'ceph_fsid', label: 'Ceph FSID', type: 'text', object_types: [CLUSTER], description: 'Unique id of the Ceph cluster (ceph fsid)' },
  { name: 'ceph_health', label: 'Ceph Health', type: 'text', object_types: [CLUSTER], description: 'Overall health: HEALTH_OK, HEALTH_WARN or HEALTH_ERR' },
  {
    name: 'ceph_health_checks',
    label: 'Ceph Health Checks',
    type: 'json',
    object_types: [CLUSTER],
    description: 'Active health checks: name, severity, summary, count, muted',
  },
  {
    name: 'ceph_flags',
    label: 'Ceph OSD Flags',
    type: 'multiselect',
    object_types: [CLUSTER],
    description: 'OSD map flags that are set (noout, noscrub, …)',
    choice_set: FLAGS_CHOICE_SET,
  },
  {
    name: 'ceph_version',
    label: 'Ceph Version',
    type: 'text',
    object_types: [CLUSTER, SERVICE],
    description: 'Ceph release running (daemon versions; several during an upgrade)',
  },
  { name: 'ceph_quorum', label: 'Ceph Monitor Quorum', type: 'json', object_types: [CLUSTER], description: 'Names of the monitors in quorum' },
  {
    name: 'ceph_pools',
    label: 'Ceph Pools',
    type: 'json',
    object_types: [CLUSTER],
    description: 'Pools: id, name, type, size, min_size, pg_num, autoscale mode, CRUSH rule, applications',
  },
  {
    name: 'ceph_crush_rules',
    label: 'Ceph CRUSH Rules',
    type: 'json',
    object_types: [CLUSTER],
    description: 'CRUSH rules: id, name, type, root, device class, failure domain',
  },
  {
    name: 'ceph_filesystems',
    label: 'Ceph File Systems',
    type: 'json',
    object_types: [CLUSTER],
    description: 'CephFS file systems: name, metadata pool, data pools',
  },
  { name: 'ceph_osd_id', label: 'Ceph OSD ID', type: 'integer', object_types: [INVENTORY_ITEM], description: 'Numeric OSD id (osd.N)' },
  {
    name: 'ceph_device_class',
    label: 'Ceph Device Class',
    type: 'text',
    object_types: [INVENTORY_ITEM],
    description: 'CRUSH device class of the OSD (hdd, ssd, nvme, …)',
  },
  {
    name: 'ceph_crush_weight',
    label: 'Ceph CRUSH Weight',
    type: 'decimal',
    object_types: [INVENTORY_ITEM],
    description: 'CRUSH weight of the OSD (TiB of capacity by convention)',
  },
  {
    name: 'ceph_reweight',
    label: 'Ceph Reweight',
    type: 'decimal',
    object_types: [INVENTORY_ITEM],
    description: 'Override weight 0..1 set by ceph osd reweight',
  },
  {
    name: 'ceph_osd_size_bytes',
    label: 'Ceph OSD Size (bytes)',
    type: 'integer',
    object_types: [INVENTORY_ITEM],
    description: 'Raw capacity of the OSD in bytes',
  },
  {
    name: 'ceph_daemon_state',
    label: 'Ceph Daemon State',
    type: 'text',
    object_types: [SERVICE],
    description: 'mon: in-quorum or out-of-quorum; mgr: active or standby',
  },
] as const satisfies readonly CustomFieldDef[];

export type CephCustomFieldName = (typeof CEPH_CUSTOM_FIELDS)[number]['name'];
type CfValues = Partial<Record<CephCustomFieldName, CustomFieldValue>>;

/**
 * OSD status from up/in (a lossless map of the four combinations): up+in serves data
 * (active); down+in should serve and cannot (failed); up+out is being drained
 * (decommissioning); down+out is stopped and out of the data path (offline).
 */
export function osdStatus(o: Pick<CephOsd, 'up' | 'in'>): NonNullable<InventoryItem['status']> {
  if (o.up) return o.in ? 'active' : 'decommissioning';
  return o.in ? 'failed' : 'offline';
}

/** The site of a host: NODE_SITE_MAP, else SITE_NAME (the PVE mapper's rule, so a hyperconverged node is one Device). */
export function siteForHost(c: Pick<CephConfig, 'SITE_NAME' | 'NODE_SITE_MAP'>, host: string): string {
  return siteFrom(c.NODE_SITE_MAP, host, c.SITE_NAME);
}

/** CEPH_CLUSTER_NAME, else "ceph-" and the fsid's first 8 hex digits (stable and short). */
export function cephClusterName(c: Pick<CephConfig, 'CEPH_CLUSTER_NAME'>, fsid: string): string {
  return (
    c.CEPH_CLUSTER_NAME ??
    `ceph-${fsid
      .replace(/[^0-9a-f]/gi, '')
      .slice(0, 8)
      .toLowerCase()}`
  );
}

function tags(): Tag[] {
  return [tagRef(CEPH_TAG.name), tagRef(DISCOVERED_TAG.name)];
}

function customFieldEntities(flags: CustomFieldChoiceSet): AnyEntity[] {
  const defs = CEPH_CUSTOM_FIELDS.map((f) => ({ ...f, object_types: [...f.object_types].sort() }));
  return cfEntities(defs, CEPH_CF_GROUP, { hidden: true, choiceSets: [flags] });
}

function flagChoices(seen: readonly string[]): string[] {
  const known = new Set<string>(KNOWN_OSD_FLAGS);
  return [...KNOWN_OSD_FLAGS, NO_FLAGS, ...[...new Set(seen)].filter((f) => !known.has(f) && f !== NO_FLAGS).sort()];
}

function clusterFields(s: CephClusterSnapshot): CfValues {
  return {
    ceph_fsid: cf.text(s.fsid),
    ceph_health: cf.text(s.health),
    ceph_health_checks: cf.json(
      s.healthChecks.map((h) => ({ name: h.name, severity: h.severity, summary: h.summary, ...(h.count !== undefined && { count: h.count }), muted: h.muted })),
    ),
    ceph_flags: cf.multiple(s.flags.length > 0 ? [...s.flags] : [NO_FLAGS]),
    ...(s.version !== undefined && { ceph_version: cf.text(s.version) }),
    ceph_quorum: cf.json(s.quorum),
    ceph_pools: cf.json(
      s.pools.map((p) => ({
        id: p.id,
        name: p.name,
        ...(p.type !== undefined && { type: p.type }),
        ...(p.size !== undefined && { size: p.size }),
        ...(p.minSize !== undefined && { min_size: p.minSize }),
        ...(p.pgNum !== undefined && { pg_num: p.pgNum }),
        ...(p.pgAutoscaleMode !== undefined && { pg_autoscale_mode: p.pgAutoscaleMode }),
        ...(p.crushRule !== undefined && { crush_rule: p.crushRule }),
        applications: p.applications,
      })),
    ),
    ceph_crush_rules: cf.json(
      s.crushRules.map((r) => ({
        ...(r.id !== undefined && { id: r.id }),
        name: r.name,
        ...(r.type !== undefined && { type: r.type }),
        ...(r.root !== undefined && { root: r.root }),
        ...(r.deviceClass !== undefined && { device_class: r.deviceClass }),
        ...(r.failureDomain !== undefined && { failure_domain: r.failureDomain }),
      })),
    ),
    ceph_filesystems: cf.json(
      s.filesystems.map((f) => ({ name: f.name, ...(f.metadataPool !== undefined && { metadata_pool: f.metadataPool }), data_pools: f.dataPools })),
    ),
  };
}

function osdFields(o: CephOsd): CfValues {
  return {
    ceph_osd_id: cf.integer(o.id),
    ...(o.deviceClass !== undefined && { ceph_device_class: cf.text(o.deviceClass) }),
    ...(o.crushWeight !== undefined && { ceph_crush_weight: { decimal: o.crushWeight } }),
    ...(o.reweight !== undefined && { ceph_reweight: { decimal: o.reweight } }),
    ...(o.sizeBytes !== undefined && { ceph_osd_size_bytes: cf.integer(o.sizeBytes) }),
  };
}

function daemonFields(d: CephDaemon): CfValues {
  return { ...(d.state !== undefined && { ceph_daemon_state: cf.text(d.state) }), ...(d.version !== undefined && { ceph_version: cf.text(d.version) }) };
}

export function mapCeph(snapshot: CephSnapshot, ctx: MapContext<CephConfig>): AnyEntity[] {
  // Ceph absent (not installed / not initialised) is a warning, not an inventory.
  if (!snapshot.present) return [];
  const c = ctx.config;
  const s = snapshot;
  const clusterName = cephClusterName(c, s.fsid);
  const flagSet: CustomFieldChoiceSet = { name: FLAGS_CHOICE_SET, description: 'Ceph OSD map flags', extra_choices: flagChoices(s.flags) };
  // No scope: the Ceph cluster spans whatever sites its hosts are at.
  const cluster = clusterRef({ name: clusterName, type: CEPH_CLUSTER_TYPE });
  // pve mode: exactly the PVE collector's node reference (agent/collectors/pve/map pveNodeRef), so a
  // hyperconverged node is one Device; dashboard mode: a full device of its own kind.
  const kind = s.source === 'pve' ? PVE_NODE : CEPH_HOST;
  const host = (name: string): Device => deviceRef(name, siteForHost(c, name), kind);
  const out: AnyEntity[] = [
    tagEntity(CEPH_TAG.name, CEPH_TAG.color),
    tagEntity(DISCOVERED_TAG.name, DISCOVERED_TAG.color),
    entity('custom_field_choice_set', flagSet),
    ...customFieldEntities(flagSet),
    entity('cluster_type', { ...clusterTypeRef(CEPH_CLUSTER_TYPE), tags: tags() }),
    entity('cluster', { ...cluster, status: 'active', tags: tags(), custom_fields: clusterFields(s) }),
  ];

  for (const name of s.hosts) {
    out.push(entity('device', s.source === 'pve' ? host(name) : { ...host(name), cluster, tags: tags() }));
  }

  for (const o of s.osds) {
    out.push(
      entity('inventory_item', {
        device: host(o.host),
        name: o.name,
        status: osdStatus(o),
        role: inventoryItemRoleRef(CEPH_OSD_ROLE),
        discovered: true,
        tags: tags(),
        custom_fields: osdFields(o),
      }),
    );
  }

  for (const d of s.daemons) {
    const svc: Service = {
      parent_object_device: host(d.host),
      name: `${d.type}.${d.id}`,
      protocol: 'tcp',
      ports: [...d.ports],
      description: d.type === 'mon' ? 'Ceph monitor' : 'Ceph manager',
      tags: tags(),
      custom_fields: daemonFields(d),
    };
    out.push(entity('service', svc));
  }
  return orderEntities(out);
}
