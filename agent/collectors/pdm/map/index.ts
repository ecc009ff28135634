import type { Cluster, CustomFieldValue, Device, Tag } from '../../../../proto/diode/v1/types.ts';
import type { PdmConfig, PdmRemote, PdmSnapshot } from '../snapshot.ts';
import { cf, customFieldEntities, deviceRef, platformRef, siteFrom, tagEntity, tagRef, type CustomFieldDef } from '../../../../mappers/common/refs.ts';
import {
  DISCOVERED_TAG,
  formatPbsVersion,
  hostLabel,
  PDM_MANAGER,
  pbsDeviceRef,
  pbsPlatformName,
  pveClusterRef,
} from '../../../../mappers/common/vocabulary.ts';
import { naturalKey } from '../../../../mappers/keys.ts';
import { orderEntities } from '../../../../mappers/order.ts';
import { entity, type AnyEntity, type MapContext } from '../../../../mappers/types.ts';

/*
 * PdmSnapshot → Diode entities (agent/collectors/pdm/README.md "What lands in NetBox"): the manager is a Device with the
 * `pdm-api` Service. A PVE remote lands on the Cluster the pve collector makes for that
 * cluster, a PBS remote on the Device the pbs collector makes for that server: same
 * natural keys, so Diode merges them (test/convergence.test.ts). On those shared objects
 * this mapper sets only what it knows the same way as their own collector, plus its pdm_*
 * fields; status stays the other collector's.
 */

export const PDM_TAG = { name: 'proxmox-dcm', color: '7e57c2' } as const;
export const PDM_SERVICE_NAME = 'pdm-api';
export const PDM_CUSTOM_FIELD_GROUP = 'Proxmox Datacenter Manager';

const DEVICE = 'dcim.device';
const CLUSTER = 'virtualization.cluster';

export const PDM_CUSTOM_FIELDS = [
  {
    name: 'pdm_version',
    label: 'PDM Version',
    type: 'text',
    object_types: [DEVICE],
    description: 'Proxmox Datacenter Manager version reported by the API (version-release)',
  },
  {
    name: 'pdm_remotes',
    label: 'PDM Remotes',
    type: 'json',
    object_types: [DEVICE],
    description: 'Remotes this manager manages: id, type, host, health, cluster, version',
  },
  {
    name: 'pdm_remote_id',
    label: 'PDM Remote ID',
    type: 'text',
    object_types: [CLUSTER, DEVICE],
    description: 'Id of the remote in Proxmox Datacenter Manager',
  },
  {
    name: 'pdm_manager',
    label: 'PDM Manager',
    type: 'text',
    object_types: [CLUSTER, DEVICE],
    description: 'Proxmox Datacenter Manager that manages this remote',
  },
  {
    name: 'pdm_remote_version',
    label: 'PDM Remote Version',
    type: 'text',
    object_types: [CLUSTER, DEVICE],
    description: 'Version of the remote as Proxmox Datacenter Manager reports it',
  },
  {
    name: 'pdm_remote_health',
    label: 'PDM Remote Health',
    type: 'text',
    object_types: [CLUSTER, DEVICE],
    description: 'ok, degraded (a node is down), error (PDM cannot reach it) or unknown',
  },
] as const satisfies readonly CustomFieldDef[];

/** "Proxmox Datacenter Manager X.Y" from a version starting with MAJOR.MINOR. */
export function pdmPlatformName(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? `Proxmox Datacenter Manager ${m[1]}.${m[2]}` : undefined;
}

/** A PVE remote's version is PVE's "8.4.1"; a PBS remote's is shown the way the pbs collector shows it. */
export function remoteVersion(r: PdmRemote): string | undefined {
  if (r.version === undefined) return undefined;
  return r.type === 'pbs' ? formatPbsVersion(r.version, r.release) : r.version;
}

/**
 * The Cluster name the pve collector would pick for this remote: the `cluster` row's name,
 * or, on a standalone node, the host the API is read at (agent/collectors/pve/map clusterName's fallback
 * to PROXMOX_HOST). Undefined when cluster-status could not be read.
 */
export function remoteClusterName(r: PdmRemote): string | undefined {
  if (r.clusterName !== undefined) return r.clusterName;
  return r.clusterStatusRead ? r.hosts[0] : undefined;
}

/** The pbs collector's device name for a PBS remote: its host (pbs collector default without PBS_NAME). */
export function remoteDeviceName(r: PdmRemote): string | undefined {
  const host = r.hosts[0];
  return host === undefined ? undefined : hostLabel(host);
}

export function mapPdm(snapshot: PdmSnapshot, ctx: MapContext<PdmConfig>): AnyEntity[] {
  const c = ctx.config;
  const site = c.SITE_NAME;
  const manager = hostLabel(c.PDM_HOST);
  const stub = deviceRef(manager, site, PDM_MANAGER);
  const remoteSite = (id: string): string => siteFrom(c.REMOTE_SITE_MAP, id, site);
  const tags: Tag[] = [tagRef(PDM_TAG.name), tagRef(DISCOVERED_TAG.name)];
  const out: AnyEntity[] = [
    tagEntity(PDM_TAG.name, PDM_TAG.color),
    tagEntity(DISCOVERED_TAG.name, DISCOVERED_TAG.color),
    ...customFieldEntities(PDM_CUSTOM_FIELDS, PDM_CUSTOM_FIELD_GROUP, { hidden: true }),
  ];

  const remotesJson = snapshot.remotes.map((r) => ({
    id: r.id,
    type: r.type,
    host: r.hosts[0] ?? null,
    health: r.health,
    ...(r.type === 'pve' ? { cluster: remoteClusterName(r) ?? null } : { device: remoteDeviceName(r) ?? null }),
    version: remoteVersion(r) ?? null,
  }));

  const platform = pdmPlatformName(snapshot.version);
  if (platform !== undefined) out.push(entity('platform', { ...platformRef(platform), tags }));
  out.push(
    entity('device', {
      ...stub,
      ...(platform !== undefined && { platform: platformRef(platform) }),
      status: 'active',
      tags,
      custom_fields: { pdm_version: cf.text(formatPbsVersion(snapshot.version, snapshot.release)), pdm_remotes: cf.json(remotesJson) },
    }),
  );
  out.push(
    entity('service', {
      name: PDM_SERVICE_NAME,
      protocol: 'tcp',
      ports: [c.PDM_PORT],
      parent_object_device: stub,
      description: 'Proxmox Datacenter Manager REST API',
      tags,
    }),
  );

  // Two remotes naming the same cluster or server: the first (by id) speaks for it.
  const seen = new Set<string>();
  const push = (e: AnyEntity): void => {
    const key = `${e.kind}\u0000${naturalKey(e)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  for (const r of snapshot.remotes) {
    const fields: Record<string, CustomFieldValue> = { pdm_remote_id: cf.text(r.id), pdm_manager: cf.text(manager), pdm_remote_health: cf.text(r.health) };
    const version = remoteVersion(r);
    if (version !== undefined) fields.pdm_remote_version = cf.text(version);

    if (r.type === 'pve') {
      const name = remoteClusterName(r);
      // Without the real name a guess would create a second cluster; the remote is in pdm_remotes.
      if (name === undefined) continue;
      // The identity the pve collector gives it (mappers/common/vocabulary.ts pveClusterRef): name, type, scope site.
      const cluster: Cluster = { ...pveClusterRef(name, remoteSite(r.id)), tags, custom_fields: fields };
      push(entity('cluster', cluster));
    } else {
      const name = remoteDeviceName(r);
      if (name === undefined) continue;
      const pbsPlatform = pbsPlatformName(r.version);
      const device: Device = {
        ...pbsDeviceRef(name, remoteSite(r.id)),
        ...(pbsPlatform !== undefined && { platform: platformRef(pbsPlatform) }),
        tags,
        custom_fields: fields,
      };
      push(entity('device', device));
    }
  }
  return orderEntities(out);
}
