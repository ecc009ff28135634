import { defineCollector } from '../types.ts';
import { PDM_WARNINGS } from './warnings.ts';
import { count } from '../../preflight/run.ts';
import type { PreflightContext, PrivilegeCheck, ProbeSpec } from '../../preflight/types.ts';
import { mapPdm } from './map/index.ts';
import { getPbsStatus, getPveClusterStatus, getRemotes, getRemoteVersion, getResources, getVersion, pdmTargetRequest, remotesBase } from './client.ts';
import { collectPdm } from './collect.ts';
import { pdmConfigSchema, type PdmConfig } from './config.ts';
import type { ApiSession } from '../../http/proxmox.ts';

/*
 * Preflight probes: each endpoint collectPdm calls, once. PDM answers a missing privilege
 * with a 403 that names none (proxmox-rest-server), so each probe names what the method's
 * `access` asks for (proxmox-datacenter-manager server/src/api):
 * - remotes/mod.rs list_remotes: `Permission::Anybody`, a remote listed only with a privilege
 *   on /resource or /resource/{id}: an empty list is how a token without Resource.Audit shows;
 * - remotes/mod.rs version: `Permission::Privilege(&["resource", "{id}"], PRIV_RESOURCE_AUDIT, false)`;
 * - pve cluster-status and pbs status: Resource.Audit on /resource/{remote} (pdm/client.ts remotePrivilege);
 * - resources.rs list: the remotes the token may see.
 * The router checks the privilege before the handler runs, so a 5xx of a per-remote call
 * (PDM could not reach that remote) means the token passed.
 */

async function pdmProbes(ctx: PreflightContext<PdmConfig>): Promise<void> {
  const c = ctx.config;
  const api: ApiSession = { target: ctx.target(pdmTargetRequest(c)), onDrop: () => {} };
  const hint = `grant the token Resource.Audit on /resource (a PDM API token has ACLs of its own; ${c.PDM_TOKEN_ID})`;
  const spec = <T>(endpoint: string, privilege?: PrivilegeCheck, extra: Partial<ProbeSpec<T>> = {}): ProbeSpec<T> => ({
    endpoint,
    ...(privilege && { privilege, hint }),
    ...extra,
  });
  const reached = (err: { status: number; reason: string }): string | undefined =>
    err.status >= 500 ? `the token has Resource.Audit (checked first); PDM could not read the remote: HTTP ${err.status} ${err.reason}` : undefined;

  await ctx.probe(
    spec('GET /version', undefined, {
      check: (v: { version: string; release?: string }) => ({
        ok: true,
        message: `Proxmox Datacenter Manager ${v.version}${v.release !== undefined ? `-${v.release}` : ''}`,
      }),
    }),
    () => getVersion(api),
  );
  const listed = await ctx.probe(
    spec<Awaited<ReturnType<typeof getRemotes>>>(`GET ${remotesBase('new')}`, undefined, {
      check: ({ generation, remotes }) => {
        const paths = generation === 'new' ? '' : ' (a 0.x beta: the list is at /remotes)';
        if (remotes.length > 0) return { ok: true, message: `${count(remotes.length, 'remote')} visible${paths}` };
        return {
          ok: false,
          privilege: 'Resource.Audit on /resource',
          message: `no remote visible${paths}: PDM lists only the remotes the token has a privilege on (/resource/{remote}), so the token likely lacks Resource.Audit on /resource (expected only when PDM manages no remote); ${hint}`,
        };
      },
    }),
    () => getRemotes(api),
  );
  const resources = await ctx.probe(
    spec('GET /resources/list', undefined, { check: (rows: readonly unknown[]) => ({ ok: true, message: `resources of ${count(rows.length, 'remote')}` }) }),
    () => getResources(api),
  );

  // Remotes the collector asks further: of a type it maps, and not already failing in PDM's own view.
  const failing = new Set((resources ?? []).filter((r) => r.error !== undefined).map((r) => r.remote));
  const remotes = (listed?.remotes ?? [])
    .filter((r) => (r.type === 'pve' || r.type === 'pbs') && !failing.has(r.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const first = remotes[0];
  const why =
    listed === undefined
      ? 'not called: the remote list failed'
      : listed.remotes.length === 0
        ? 'not called: no remote visible'
        : 'no remote of type pve or pbs that PDM can reach';
  const audit = (id: string): PrivilegeCheck => ({ name: 'Resource.Audit', on: `/resource/${id}` });
  if (first && listed) {
    await ctx.probe(spec(`GET ${remotesBase(listed.generation)}/${first.id}/version`, audit(first.id), { accept: reached }), () =>
      getRemoteVersion(api, listed.generation, first.id),
    );
  } else {
    ctx.skip(`GET ${remotesBase('new')}/{remote}/version`, why);
  }
  const pve = remotes.find((r) => r.type === 'pve');
  if (pve) await ctx.probe(spec(`GET /pve/remotes/${pve.id}/cluster-status`, audit(pve.id), { accept: reached }), () => getPveClusterStatus(api, pve.id));
  else ctx.skip('GET /pve/remotes/{remote}/cluster-status', first === undefined ? why : 'no PVE remote that PDM can reach');
  const pbs = remotes.find((r) => r.type === 'pbs');
  if (pbs) await ctx.probe(spec(`GET /pbs/remotes/${pbs.id}/status`, audit(pbs.id), { accept: reached }), () => getPbsStatus(api, pbs.id));
  else ctx.skip('GET /pbs/remotes/{remote}/status', first === undefined ? why : 'no PBS remote that PDM can reach');
}

export const pdmCollector = defineCollector({
  id: 'pdm',
  secretKeys: ['PDM_TOKEN_SECRET'],
  warnings: PDM_WARNINGS,
  configSchema: pdmConfigSchema,
  collect: collectPdm,
  map: mapPdm,
  preflight: { credentials: () => 'PDM_TOKEN_ID and PDM_TOKEN_SECRET', probes: pdmProbes },
});
