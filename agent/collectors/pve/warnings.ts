import type { WarningDoc } from '../types.ts';

/**
 * Every warning a pve run can emit (collect.ts); the codes before the `pve_` prefix rule keep
 * their names. Rendered into README.md "## Warnings" (test/vocabulary.test.ts).
 */
export const PVE_WARNINGS: readonly WarningDoc[] = [
  {
    code: 'node_unreachable',
    subject: '`node pve3`',
    meaning: '`/nodes` does not list the node online, or one of its calls fails (595, timeout, an HTTP error other than 403)',
    lost: "the node's platform and interfaces; its guests are emitted without details",
  },
  {
    code: 'pve_permission_denied',
    subject: '`node pve3`, `qemu 104 on pve1`',
    meaning:
      "a node's `/status` or `/network`, or a guest config, answers 403; the message names the missing privilege (PVE's own words, else Sys.Audit on /nodes/{node} for `/status`, VM.Audit on /vms/{vmid} for a config)",
    lost: "that call's data (version/platform, interfaces and IPs, or the guest's config data); the node is not called down",
  },
  {
    code: 'node_data_invalid',
    subject: '`node pve3`',
    meaning: '`/status` or `/network` has the wrong shape or is not JSON, or `pveversion` does not parse',
    lost: "that call's data: version/platform, or interfaces and IPs",
  },
  {
    code: 'guest_config_unavailable',
    subject: '`qemu 104 on pve1`',
    meaning: 'the config call fails with an HTTP error',
    lost: "the guest's config data (it is emitted without it)",
  },
  {
    code: 'guest_config_invalid',
    subject: '`qemu 104 on pve1`',
    meaning: 'the config body has the wrong shape or is not JSON, or one `netN`/disk/`agent` entry does not parse',
    lost: 'the whole config, or the one entry that does not parse',
  },
  {
    code: 'guest_agent_unavailable',
    subject: '`qemu 104 on pve1`',
    meaning:
      'a guest-agent call answers 500 (not configured, VM not running, agent not running, `Agent error`, a timeout: then also "not asked again for N runs (AGENT_RECHECK_RUNS)"), or a body that is not JSON or of the wrong shape, and nothing is remembered of the agent',
    lost: "the guest's IPs; its platform falls back to the ostype",
  },
  {
    code: 'guest_agent_forbidden',
    subject: '`qemu 104 on pve1`',
    meaning: 'a guest-agent call answers 403 (missing VM.GuestAgent.Audit on PVE 9, VM.Monitor on PVE 8), and nothing is remembered of the agent',
    lost: "the guest's IPs and OS details",
  },
  {
    code: 'pve_agent_data_reused',
    subject: '`qemu 104 on pve1`',
    meaning:
      'the agent did not answer this run (one of the two above, or not asked because it hung) and what it answered before is used; the message names the failure, what is kept and its age',
    lost: 'nothing new this run: the platform and IPs it reported before are kept',
  },
  {
    code: 'pve_agent_skipped',
    subject: '`qemu 104 on pve1`',
    meaning:
      'the agent timed out on an earlier run and is not asked on this one (`AGENT_RECHECK_RUNS`), and nothing is remembered of it; says when it timed out and in how many runs it is asked again',
    lost: "the guest's IPs; its platform falls back to the ostype",
  },
  {
    code: 'pve_backup_unavailable',
    subject: '`GET /cluster/backup`, `storage pbs on pve1`',
    meaning: 'BACKUP_STATUS: a backup call fails (HTTP error, 403 with the missing privilege, wrong shape)',
    lost: 'the backup fields that call feeds, this run (the message says which)',
  },
  {
    code: 'pve_backup_none_visible',
    subject: '`storage pbs`',
    meaning: 'BACKUP_STATUS: an enabled job writes to this storage but its listing has no backup volume: likely the token may not read them',
    lost: 'the last-backup time of the guests backed up there',
  },
  {
    code: 'pve_lxc_interfaces_unsupported',
    subject: '`node pve2`',
    meaning: 'LXC_ADDRESSES: the node answers 501/404 for `…/lxc/{vmid}/interfaces` (PVE before 8.1); said once per node, which is not asked again this run',
    lost: "runtime addresses of that node's containers: they keep their config addresses",
  },
  {
    code: 'pve_lxc_interfaces_unavailable',
    subject: '`lxc 105 on pve1`',
    meaning: 'LXC_ADDRESSES: the interfaces call fails otherwise (HTTP error, wrong shape)',
    lost: "the container's runtime addresses: it keeps its config addresses",
  },
  {
    code: 'pve_lxc_not_running',
    subject: '`lxc 105 on pve1`',
    meaning: 'LXC_ADDRESSES: the interfaces call answers no data: the container stopped meanwhile',
    lost: "the container's runtime addresses: it keeps its config addresses",
  },
  {
    code: 'pve_ha_unavailable',
    subject: '`GET /cluster/ha/rules`, `GET /cluster/ha/groups`, `GET /cluster/ha/resources`',
    meaning: 'HA_STATUS: an HA list fails (a 403 names Sys.Audit on /)',
    lost: '`proxmox_ha_rules` is not set this run',
  },
  {
    code: 'pve_replication_unavailable',
    subject: '`GET /cluster/replication`',
    meaning: 'REPLICATION_STATUS: the list fails (a 403 names the guest PVE refused)',
    lost: 'the replication fields are not set this run',
  },
  {
    code: 'guest_name_duplicate',
    subject: '`qemu 120 on pve1`',
    meaning: 'another guest with a lower vmid has the same name',
    lost: 'the guest: NetBox needs VM names unique per cluster, so it is skipped',
  },
  {
    code: 'scope_node_unknown',
    subject: '`node pve9`',
    meaning: '`scope.nodes` names a node `/nodes` does not list',
    lost: 'nothing: that scope entry matches no node',
  },
  {
    code: 'pve_item_invalid',
    subject: '`GET /nodes item 3`',
    meaning: 'one item of a list answer has the wrong shape',
    lost: 'that item; the rest of the list is used',
  },
];
