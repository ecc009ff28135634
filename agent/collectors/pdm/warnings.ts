import type { WarningDoc } from '../types.ts';

/** Every warning a pdm run can emit (collect.ts). Rendered into README.md "## Warnings" (test/vocabulary.test.ts). */
export const PDM_WARNINGS: readonly WarningDoc[] = [
  {
    code: 'pdm_resources_unreadable',
    subject: '`GET /resources/list`',
    meaning: '`/resources/list` failed (HTTP error, wrong shape, not JSON)',
    lost: "every remote's health (`unknown`)",
  },
  {
    code: 'pdm_remote_error',
    subject: '`remote <id>`',
    meaning: 'PDM reports the remote failing, or a per-remote call (version, cluster-status, status) failed',
    lost: "that remote's version or cluster name (no Cluster for it)",
  },
  {
    code: 'pdm_permission_denied',
    subject: '`remote <id>`',
    meaning: 'a per-remote call answered 403; the message names Resource.Audit on /resource/<id> (PDM names none)',
    lost: "the remote's version and cluster name; its health stays as `/resources/list` shows it",
  },
  {
    code: 'pdm_item_invalid',
    subject: '`GET <path> item <n>`',
    meaning: 'one item of a list answer does not match its schema',
    lost: 'that item; the rest of the list is used',
  },
];
