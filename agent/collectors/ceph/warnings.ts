import type { WarningDoc } from '../types.ts';

/** Every warning a ceph run can emit (collect.ts, client.ts). Rendered into README.md "## Warnings" (test/vocabulary.test.ts). */
export const CEPH_WARNINGS: readonly WarningDoc[] = [
  {
    code: 'ceph_not_installed',
    subject: '`PVE <host>`',
    meaning: 'PVE says Ceph is not installed (HTTP 500 `binary not installed`)',
    lost: 'nothing: there is no Ceph; no entities, the run succeeds',
  },
  {
    code: 'ceph_not_initialized',
    subject: '`PVE <host>`',
    meaning: 'PVE says Ceph is not initialised (HTTP 500 `pveceph configuration not initialized`)',
    lost: 'nothing: there is no Ceph; no entities, the run succeeds',
  },
  {
    code: 'ceph_node_unavailable',
    subject: '`node pve1`',
    meaning: "that node's `/ceph/osd` failed (down, no Ceph, unreadable body); the next node is asked",
    lost: 'nothing while another node answers',
  },
  {
    code: 'ceph_section_unavailable',
    subject: '`GET <path>`',
    meaning: 'an optional call failed (HTTP error, body not JSON, of the wrong shape or past `*_API_MAX_RESPONSE_BYTES`), or no node answered `/ceph/osd`',
    lost: 'that section (it is empty)',
  },
  {
    code: 'ceph_permission_denied',
    subject: '`GET <path>`',
    meaning:
      "an optional call answered 403: the message names the missing permission (PVE: what PVE named, else Sys.Audit or Datastore.Audit on /; dashboard: `read` on the endpoint's scope)",
    lost: 'that section; on `/ceph/osd` OSDs, pools, file systems, rules and daemons',
  },
  {
    code: 'ceph_item_dropped',
    subject: 'the item',
    meaning: 'a list item, health check, OSD or daemon did not parse or lacks what NetBox needs',
    lost: 'that item',
  },
];
