import { z } from 'zod';
import { looseNumber, text } from '../../http/loose.ts';

/*
 * zod schemas of the PDM answers the collector reads, naming only the fields it uses.
 * PDM is the same Rust REST server as PBS (proxmox-rs proxmox-rest-server); the envelope
 * and the list handling are the shared Proxmox API layer's (agent/http/proxmox.ts).
 */

/** An answer whose shape is not what the schema expects (alias of the shared class; code `pdm_bad_response`). */

// GET /version (server/src/api/mod.rs version()): pdm-buildcfg's MAJOR.MINOR and release,
// like PBS. GET /remotes/remote/{id}/version passes the remote's own /version through.
export const versionSchema = z.object({ version: z.string().trim().min(1), release: text.optional() });
export type PdmVersion = z.output<typeof versionSchema>;

/**
 * The host of one `nodes` entry. PDM serializes each NodeUrl as a property string,
 * `hostname=10.0.0.1,fingerprint=AA:…` (proxmox-datacenter-manager lib/pdm-api-types/src/remotes.rs
 * NodeUrl), whose hostname may carry a port (HOST_OPTIONAL_PORT_FORMAT) and brackets around an
 * IPv6 literal. A bare value is the hostname (the default key); an object form is accepted too.
 */
export function nodeHost(entry: string | { hostname: string }): string | undefined {
  let host: string | undefined;
  if (typeof entry === 'string') {
    for (const part of entry.split(',')) {
      const eq = part.indexOf('=');
      if (eq === -1) host ??= part.trim();
      else if (part.slice(0, eq).trim() === 'hostname') host = part.slice(eq + 1).trim();
    }
  } else {
    host = entry.hostname.trim();
  }
  if (!host) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1];
  // One colon is host:port; more is a bare IPv6 literal, which cannot carry a port.
  const colons = host.split(':').length - 1;
  return colons === 1 ? host.slice(0, host.indexOf(':')) : host;
}

/*
 * One remote of GET /remotes/remote (PDM ≥ 1.0) or /remotes (0.x betas). The secret is
 * never read: PDM ≥ 1.0 blanks `token`, the betas returned it in clear
 * (server/src/api/remotes.rs list_remotes before 7a2ec84), and a schema that names only
 * the fields used keeps it out of the snapshot either way.
 */
export const remoteSchema = z
  .object({ type: z.string().min(1), id: z.string().min(1), nodes: z.array(z.union([z.string(), z.object({ hostname: z.string() })])).default([]) })
  .transform((r) => ({ type: r.type, id: r.id, hosts: r.nodes.map(nodeHost).filter((h): h is string => h !== undefined) }));
export type RemoteItem = z.output<typeof remoteSchema>;

/**
 * What an older PDM answers for GET /remotes/remote: `remote` is taken as a remote id and
 * the item router lists its subdirectories, `[{"subdir":"version"}]` (proxmox-router
 * list_subdirs_api_method), instead of a 404.
 */
export function isSubdirListing(data: unknown): boolean {
  return Array.isArray(data) && data.length > 0 && data.every((d) => d !== null && typeof d === 'object' && 'subdir' in d && !('id' in d));
}

// GET /pve/remotes/{remote}/cluster-status: PVE's /cluster/status decoded through
// pve-api-types ClusterNodeStatus; the `cluster` row carries the real cluster name.
export const clusterStatusRowSchema = z.object({ type: z.string(), name: text.optional() });
export type ClusterStatusRow = z.output<typeof clusterStatusRowSchema>;

// GET /pbs/remotes/{remote}/status: the PBS's NodeStatus; only that it answers is used.
export const pbsRemoteStatusSchema = z.object({});

/*
 * GET /resources/list: one entry per remote, `error` when PDM could not query it
 * (pdm-api-types resource.rs RemoteResources). Resources are tagged by `type`; only the
 * node rows matter here: a pve-node's `status`, a pbs-node's `uptime` (PDM itself calls a
 * PBS node online when uptime > 0, resource.rs `Resource::status`).
 */
export const resourceSchema = z.object({ type: z.string(), status: z.string().optional(), uptime: looseNumber.optional() });

export const remoteResourcesSchema = z.object({ remote: z.string().min(1), error: text.optional(), resources: z.array(z.unknown()).default([]) });
export type RemoteResourcesItem = z.output<typeof remoteResourcesSchema>;
