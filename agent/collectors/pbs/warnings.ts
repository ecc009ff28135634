import type { WarningDoc } from '../types.ts';

/** Every warning a pbs run can emit (collect.ts). Rendered into README.md "## Warnings" (test/vocabulary.test.ts). */
export const PBS_WARNINGS: readonly WarningDoc[] = [
  {
    code: 'pbs_node_status_unreadable',
    subject: '`node localhost`',
    meaning: '`/nodes/localhost/status` failed (HTTP error, wrong shape, not JSON)',
    lost: 'the certificate fingerprint',
  },
  { code: 'pbs_network_unreadable', subject: '`node localhost`', meaning: '`/nodes/localhost/network` failed', lost: 'the interfaces and IP addresses' },
  {
    code: 'pbs_datastores_unreadable',
    subject: '`datastores`',
    meaning: '`/status/datastore-usage` failed',
    lost: 'datastore sizes; stores are taken from `/config/datastore`',
  },
  { code: 'pbs_datastore_config_unreadable', subject: '`datastores`', meaning: '`/config/datastore` failed', lost: "the datastores' path and comment" },
  {
    code: 'pbs_datastore_error',
    subject: '`datastore store1`',
    meaning: 'datastore-usage reports the store with an `error`',
    lost: "the store's backup groups (not read)",
  },
  { code: 'pbs_namespaces_unreadable', subject: '`datastore store1`', meaning: "the store's namespace list failed", lost: 'every namespace but the root' },
  {
    code: 'pbs_namespace_unreadable',
    subject: '`datastore store1 namespace ns1`',
    meaning: 'the snapshot list of one namespace failed',
    lost: "that namespace's backup groups",
  },
  {
    code: 'pbs_jobs_unreadable',
    subject: '`gc jobs`, `verify jobs`, `prune jobs`, `sync jobs`',
    meaning: 'a job list failed (`/admin/gc` is absent before PBS 3.2)',
    lost: 'those jobs in `pbs_jobs` (GC: no GC status)',
  },
  { code: 'pbs_tape_unavailable', subject: '`tape backup jobs`', meaning: '`/tape/backup` failed: no tape subsystem', lost: 'tape jobs' },
  {
    code: 'pbs_permission_denied',
    subject: "as the call's own code",
    meaning: 'an optional call answered 403; PBS names no privilege, so the message names the one the endpoint checks',
    lost: 'what that call was for (the message says)',
  },
  {
    code: 'pbs_item_invalid',
    subject: '`GET <path> item <n>`',
    meaning: 'one item of a list answer does not match its schema',
    lost: 'that item; the rest of the list is used',
  },
];
