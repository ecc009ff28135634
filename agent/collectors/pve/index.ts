import { defineCollector } from '../types.ts';
import { PVE_WARNINGS } from './warnings.ts';
import { count } from '../../preflight/run.ts';
import type { PreflightContext, PrivilegeCheck, ProbeSpec } from '../../preflight/types.ts';
import { mapPve, mapPveEach, mapPveParts } from './map/index.ts';
import { backupGauges } from './measures.ts';
import {
  getAgentNetworkInterfaces,
  getAgentOsInfo,
  getClusterResources,
  getClusterStatus,
  getLxcConfig,
  getNodeNetwork,
  getNodes,
  getNodeStatus,
  getQemuConfig,
  getVersion,
} from './client.ts';
import { pveTargetRequest } from '../proxmox-config.ts';
import { collectPve, scopeFilter, selectGuests } from './collect.ts';
import { pveConfigSchema, type PveConfig } from './config.ts';
import type { ApiSession } from '../../http/proxmox.ts';

/*
 * Preflight probes: each endpoint collectPve calls, once, with what PVE checks for it.
 * - /version: any authenticated user (pve-manager PVE/API2.pm version, `permissions => { user => 'all' }`).
 * - /cluster/status: pve-manager PVE/API2/Cluster.pm get_status, `check => ['perm', '/', ['Sys.Audit']]`.
 * - /cluster/resources: Cluster.pm resources, `user => 'all'`; a guest is listed only with
 *   VM.Audit on /vms/{vmid} (`next if !$rpcenv->check($authuser, "/vms/$vmid", ['VM.Audit'], 1)`).
 * - /nodes: pve-manager PVE/API2/Nodes.pm (package PVE::API2::Nodes) index, `user => 'all'`.
 * - /nodes/{node}/status: Nodes.pm status, `check => ['perm', '/nodes/{node}', ['Sys.Audit']]`.
 * - /nodes/{node}/network: pve-manager PVE/API2/Network.pm index, `user => 'all'` (no privilege).
 * - …/qemu/{vmid}/config, …/lxc/{vmid}/config: qemu-server PVE/API2/Qemu.pm and pve-container
 *   PVE/API2/LXC/Config.pm vm_config, VM.Audit on /vms/{vmid}.
 * - …/agent/{cmd}: qemu-server PVE/API2/Qemu/Agent.pm register_command, `$perm //= 'VM.Monitor'`,
 *   `check => ['perm', '/vms/{vmid}', [$perm]]` up to PVE 8; PVE 9 checks VM.GuestAgent.Audit or
 *   VM.GuestAgent.Unrestricted instead (qemu-server b92a40ce, src/PVE/API2/Qemu/Agent.pm).
 * A privilege-separated token holds only what both it and its user hold (pve-access-control
 * PVE/RPCEnvironment.pm compile_acl_path, "intersect user and token permissions").
 */

/** The guest-agent privilege of a PVE major version; undefined when the version is unknown. */
export function agentPrivilege(major: number | undefined): string {
  if (major === undefined) return 'VM.Monitor (PVE 8) or VM.GuestAgent.Audit (PVE 9)';
  return major >= 9 ? 'VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted' : 'VM.Monitor';
}

function majorOf(version: string | undefined): number | undefined {
  const m = version === undefined ? null : /^(\d+)\./.exec(version);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

async function pveProbes(ctx: PreflightContext<PveConfig>): Promise<void> {
  const c = ctx.config;
  if (c.BOOTSTRAP) {
    ctx.skip('API', 'BOOTSTRAP is true: the policy makes no API call');
    return;
  }
  const api: ApiSession = { target: ctx.target(pveTargetRequest(c)), onDrop: () => {} };
  const grant = (on: string, role: string): string =>
    `pveum acl modify ${on} --users ${c.PROXMOX_USER} --roles ${role}, and for a privilege-separated token (privsep=1) also --tokens '${c.PROXMOX_USER}!${c.PROXMOX_TOKEN_NAME ?? ''}' (it holds only what it and its user both hold)`;
  const spec = <T>(endpoint: string, privilege?: PrivilegeCheck, extra: Partial<ProbeSpec<T>> = {}): ProbeSpec<T> => ({
    endpoint,
    ...(privilege && { privilege, hint: `PVEAuditor has it: ${grant('/', 'PVEAuditor')}` }),
    ...extra,
  });

  const version = await ctx.probe(
    spec('GET /version', undefined, { check: (v: { version: string }) => ({ ok: true, message: `Proxmox VE ${v.version}` }) }),
    () => getVersion(api),
  );
  await ctx.probe(spec('GET /cluster/status', { name: 'Sys.Audit', on: '/' }), () => getClusterStatus(api));

  const inScope = scopeFilter(ctx.scope.nodes);
  const resources = await ctx.probe(
    spec<Awaited<ReturnType<typeof getClusterResources>>>('GET /cluster/resources?type=vm', undefined, {
      check: (rows) => {
        const guests = rows.filter((r) => r.type === 'qemu' || r.type === 'lxc').length;
        if (guests > 0) return { ok: true, message: `${count(guests, 'guest')} visible` };
        return {
          ok: false,
          privilege: 'VM.Audit on /vms',
          message:
            'no guest visible: PVE lists only the guests the token has VM.Audit on (/vms/{vmid}), so the token likely lacks VM.Audit on /vms (expected only when the cluster has no guest)',
        };
      },
    }),
    () => getClusterResources(api),
  );
  const nodes = await ctx.probe(
    spec<Awaited<ReturnType<typeof getNodes>>>('GET /nodes', undefined, { check: (rows) => ({ ok: true, message: count(rows.length, 'node') }) }),
    () => getNodes(api),
  );

  const online = (nodes ?? [])
    .filter((r) => inScope(r.node) && r.status === 'online')
    .map((r) => r.node)
    .sort();
  const node = online[0];
  if (node === undefined) {
    const why = nodes === undefined ? 'GET /nodes failed' : 'no node in scope is online';
    ctx.skip('GET /nodes/{node}/status', `not called: ${why}`);
    ctx.skip('GET /nodes/{node}/network', `not called: ${why}`);
  } else {
    await ctx.probe(spec(`GET /nodes/${node}/status`, { name: 'Sys.Audit', on: `/nodes/${node}` }), () => getNodeStatus(api, node));
    await ctx.probe(spec(`GET /nodes/${node}/network`), () => getNodeNetwork(api, node));
  }

  // One guest of each type on an online node, the lowest vmid; a running QEMU guest first.
  const up = new Set(online);
  const guests = selectGuests(resources ?? [], inScope, c).guests.filter((g) => up.has(g.node));
  const qemu = guests.find((g) => g.type === 'qemu' && g.row.status === 'running') ?? guests.find((g) => g.type === 'qemu');
  const lxc = guests.find((g) => g.type === 'lxc');
  const noGuest = (type: string): string =>
    resources === undefined ? 'not called: GET /cluster/resources?type=vm failed' : `no ${type} guest in scope on an online node`;
  if (qemu) {
    await ctx.probe(spec(`GET /nodes/${qemu.node}/qemu/${qemu.vmid}/config`, { name: 'VM.Audit', on: `/vms/${qemu.vmid}` }), () =>
      getQemuConfig(api, qemu.node, qemu.vmid),
    );
  } else {
    ctx.skip('GET /nodes/{node}/qemu/{vmid}/config', noGuest('QEMU'));
  }
  if (lxc) {
    await ctx.probe(spec(`GET /nodes/${lxc.node}/lxc/${lxc.vmid}/config`, { name: 'VM.Audit', on: `/vms/${lxc.vmid}` }), () =>
      getLxcConfig(api, lxc.node, lxc.vmid),
    );
  } else {
    ctx.skip('GET /nodes/{node}/lxc/{vmid}/config', noGuest('LXC'));
  }

  const major = majorOf(version?.version);
  const agentPriv = agentPrivilege(major);
  if (!qemu) {
    for (const cmd of ['network-get-interfaces', 'get-osinfo'])
      ctx.skip(`GET /nodes/{node}/qemu/{vmid}/agent/${cmd}`, `${noGuest('QEMU')}: ${agentPriv} is not checked`);
    return;
  }
  const agentCheck: PrivilegeCheck = { name: agentPriv, on: `/vms/${qemu.vmid}` };
  const agentRole = `pveum role add DiodeGuestAgent --privs ${major === undefined ? '<VM.Monitor on PVE 8, VM.GuestAgent.Audit on PVE 9>' : major >= 9 ? 'VM.GuestAgent.Audit' : 'VM.Monitor'}; `;
  const agentHint = `${
    major === undefined
      ? 'the privilege depends on the PVE version, which GET /version did not tell'
      : major >= 9
        ? 'PVE 9 checks VM.GuestAgent.Audit for guest-agent reads (VM.Monitor is gone)'
        : 'PVE 8 checks VM.Monitor for guest-agent reads (PVE 9 replaces it with VM.GuestAgent.Audit), which PVEAuditor does not have'
  }; ${agentRole}${grant('/vms', 'DiodeGuestAgent')}`;
  // PVE checks the privilege before the handler runs; the agent's own 500s ("No QEMU guest
  // agent configured", "VM 100 is not running", "QEMU guest agent is not running") come after it.
  const passed = (err: { status: number; reason: string }): string | undefined =>
    err.status === 500 ? `the token has ${agentPriv} (checked before the agent is asked); the agent answered: ${err.reason}` : undefined;
  for (const [cmd, call] of [
    ['network-get-interfaces', () => getAgentNetworkInterfaces(api, qemu.node, qemu.vmid)],
    ['get-osinfo', () => getAgentOsInfo(api, qemu.node, qemu.vmid)],
  ] as const) {
    await ctx.probe<unknown>(
      {
        endpoint: `GET /nodes/${qemu.node}/qemu/${qemu.vmid}/agent/${cmd}`,
        privilege: agentCheck,
        hint: agentHint,
        accept: passed,
        check: () => ({ ok: true, message: 'the agent answered' }),
      },
      call,
    );
  }
}

export const pveCollector = defineCollector({
  id: 'pve',
  secretKeys: ['PROXMOX_TOKEN_VALUE'],
  warnings: PVE_WARNINGS,
  configSchema: pveConfigSchema,
  collect: collectPve,
  map: mapPve,
  mapEach: mapPveEach,
  mapParts: mapPveParts,
  // Backup coverage as gauges (issue #17): guests without a backup in BACKUP_MAX_AGE, guests in no job.
  measures: (snapshot, ctx) => {
    const b = backupGauges(snapshot, ctx.config, ctx.now);
    return b && { guests_without_recent_backup: b.withoutRecentBackup, guests_in_no_backup_job: b.notInJob };
  },
  preflight: { credentials: () => 'PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE', probes: pveProbes },
});
