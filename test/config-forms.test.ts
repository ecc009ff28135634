import { describe, expect, it } from 'vitest';
import { cephConfigSchema } from '../agent/collectors/ceph/config.ts';
import { packerConfigSchema } from '../agent/collectors/packer/config.ts';
import { pbsConfigSchema } from '../agent/collectors/pbs/config.ts';
import { pdmConfigSchema } from '../agent/collectors/pdm/config.ts';
import { pveConfigSchema } from '../agent/collectors/pve/config.ts';
import { agentCli, tempAgent } from './helpers/cli.ts';

/*
 * One way to write a thing everywhere: every *_API_TIMEOUT takes seconds (30) and durations
 * (30s, 1m) like every other duration setting, and every collector takes a token in both
 * forms, user@realm!name whole or user and name apart.
 */
const issues = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

const pve = { PROXMOX_HOST: 'pve1', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 's' };
const pbs = { PBS_HOST: 'pbs1', PBS_TOKEN_ID: 'netbox@pbs!discovery', PBS_TOKEN_SECRET: 's' };
const pdm = { PDM_HOST: 'pdm1', PDM_TOKEN_ID: 'netbox@pdm!discovery', PDM_TOKEN_SECRET: 's' };
const ceph = { CEPH_SOURCE: 'dashboard', CEPH_URL: 'https://ceph:8443', CEPH_USER: 'u', CEPH_PASSWORD: 'p' };
const iso = { name: 'Ubuntu', builder_type: 'proxmox-iso', iso_url: 'https://example.com/u.iso' };

describe('*_API_TIMEOUT', () => {
  const settings: Array<
    [
      string,
      { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } } },
      Record<string, unknown>,
    ]
  > = [
    ['PROXMOX_API_TIMEOUT', pveConfigSchema, pve],
    ['PBS_API_TIMEOUT', pbsConfigSchema, pbs],
    ['PDM_API_TIMEOUT', pdmConfigSchema, pdm],
    ['CEPH_API_TIMEOUT', cephConfigSchema, ceph],
  ];
  it.each(settings)('%s takes seconds and durations, in seconds', (key, schema, base) => {
    const value = (v: unknown) => (schema.safeParse({ ...base, [key]: v }).data as Record<string, unknown> | undefined)?.[key];
    expect([30, '30', '30s', '1m', '1500ms', ' 45 s '].map(value)).toEqual([30, 30, 30, 60, 1.5, 45]);
    expect(value(undefined)).toBe(30);
    expect(issues(schema.safeParse({ ...base, [key]: 'soon' }))).toEqual([`${key}: "soon" is not a timeout (use seconds, e.g. 30, or a duration: 30s, 1m)`]);
    expect(issues(schema.safeParse({ ...base, [key]: '2h' }))).toEqual([`${key}: must be between 1s and 3600s (got 7200s)`]);
    expect(issues(schema.safeParse({ ...base, [key]: 0 }))).toEqual([`${key}: must be between 1s and 3600s (got 0s)`]);
  });
});

describe('token forms', () => {
  it('PVE (and ceph and packer, which take its connection): PROXMOX_TOKEN_NAME user@realm!name alone', () => {
    expect(pveConfigSchema.parse({ ...pve, PROXMOX_TOKEN_NAME: 'root@pam!netbox' })).toMatchObject({ PROXMOX_USER: 'root@pam', PROXMOX_TOKEN_NAME: 'netbox' });
    expect(pveConfigSchema.parse({ ...pve, PROXMOX_TOKEN_NAME: 'netbox@pve!discovery' })).toMatchObject({
      PROXMOX_USER: 'netbox@pve',
      PROXMOX_TOKEN_NAME: 'discovery',
    });
    expect(pveConfigSchema.parse({ ...pve, PROXMOX_USER: 'netbox@pve', PROXMOX_TOKEN_NAME: 'netbox@pve!discovery' })).toMatchObject({
      PROXMOX_USER: 'netbox@pve',
      PROXMOX_TOKEN_NAME: 'discovery',
    });
    expect(pveConfigSchema.parse({ ...pve, PROXMOX_USER: 'netbox@pve', PROXMOX_TOKEN_NAME: 'discovery' })).toMatchObject({
      PROXMOX_USER: 'netbox@pve',
      PROXMOX_TOKEN_NAME: 'discovery',
    });
    expect(cephConfigSchema.parse({ CEPH_SOURCE: 'pve', ...pve, PROXMOX_TOKEN_NAME: 'netbox@pve!ceph' })).toMatchObject({
      PROXMOX_USER: 'netbox@pve',
      PROXMOX_TOKEN_NAME: 'ceph',
    });
    expect(packerConfigSchema.parse({ PACKER_DEFINITIONS: [iso], ...pve, PROXMOX_TOKEN_NAME: 'netbox@pve!packer' })).toMatchObject({
      PROXMOX_USER: 'netbox@pve',
      PROXMOX_TOKEN_NAME: 'packer',
    });
  });

  it.each([
    ['PBS', pbsConfigSchema, pbs, 'netbox@pbs'],
    ['PDM', pdmConfigSchema, pdm, 'netbox@pdm'],
  ] as const)('%s: *_TOKEN_ID whole, or *_TOKEN_USER with *_TOKEN_NAME; one form', (p, schema, base, user) => {
    const { [`${p}_TOKEN_ID`]: id, ...rest } = base as Record<string, unknown>;
    expect(schema.parse(base)).toMatchObject({ [`${p}_TOKEN_ID`]: id });
    const split = schema.parse({ ...rest, [`${p}_TOKEN_USER`]: user, [`${p}_TOKEN_NAME`]: 'discovery' });
    expect(split).toMatchObject({ [`${p}_TOKEN_ID`]: `${user}!discovery` });
    expect(Object.keys(split)).not.toContain(`${p}_TOKEN_USER`);
    expect(issues(schema.safeParse({ ...base, [`${p}_TOKEN_NAME`]: 'discovery' }))).toEqual([
      `${p}_TOKEN_NAME: give either ${p}_TOKEN_ID or ${p}_TOKEN_USER with ${p}_TOKEN_NAME, not both`,
    ]);
    expect(issues(schema.safeParse({ ...rest, [`${p}_TOKEN_NAME`]: 'discovery' }))).toEqual([
      `${p}_TOKEN_USER: is required with ${p}_TOKEN_NAME (or give ${p}_TOKEN_ID: user@realm!tokenname)`,
    ]);
    expect(issues(schema.safeParse({ ...rest, [`${p}_TOKEN_USER`]: 'discovery' }))).toEqual([
      `${p}_TOKEN_USER: expected user@realm, e.g. netbox@pbs`,
      `${p}_TOKEN_NAME: is required with ${p}_TOKEN_USER (or give ${p}_TOKEN_ID: user@realm!tokenname)`,
    ]);
    // Reported with the other keys' problems, not after they are fixed.
    expect(issues(schema.safeParse({ ...rest, [`${p}_PORT`]: 'x' }))).toEqual([
      `${p}_PORT: expected an integer`,
      `${p}_TOKEN_ID: is required: user@realm!tokenname, or ${p}_TOKEN_USER with ${p}_TOKEN_NAME`,
    ]);
  });
});

describe('validate takes both forms in policy files', () => {
  it('accepts 30s timeouts and either token form, and places a conflict at its key', async () => {
    const { file, dir } = tempAgent('diode:\n  dry_run: true\npolicies:\n  dir: ./policies\n', {
      'pve.yaml':
        'name: pve\ncollector: pve\nconfig:\n  PROXMOX_HOST: pve1\n  PROXMOX_TOKEN_NAME: root@pam!netbox\n  PROXMOX_TOKEN_VALUE: s\n  PROXMOX_API_TIMEOUT: 30s\n',
      'pbs.yaml':
        'name: pbs\ncollector: pbs\nconfig:\n  PBS_HOST: pbs1\n  PBS_TOKEN_USER: netbox@pbs\n  PBS_TOKEN_NAME: discovery\n  PBS_TOKEN_SECRET: s\n  PBS_API_TIMEOUT: 1m\n',
      'pdm.yaml':
        'name: pdm\ncollector: pdm\nconfig:\n  PDM_HOST: pdm1\n  PDM_TOKEN_ID: "netbox@pdm!discovery"\n  PDM_TOKEN_SECRET: s\n  PDM_API_TIMEOUT: 30\n',
    });
    expect(await agentCli(['validate', '-c', file])).toEqual({ code: 0, stdout: `${file}: OK (3 policies: pbs, pdm, pve)\n`, stderr: '' });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `${dir}/policies/pve.yaml`,
      'name: pve\ncollector: pve\nconfig:\n  PROXMOX_HOST: pve1\n  PROXMOX_USER: netbox@pve\n  PROXMOX_TOKEN_NAME: root@pam!netbox\n  PROXMOX_TOKEN_VALUE: s\n',
    );
    expect(await agentCli(['validate', '-c', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: `${dir}/policies/pve.yaml:6:23: config.PROXMOX_TOKEN_NAME: names the user root@pam, but PROXMOX_USER is netbox@pve; give the user once\n`,
    });
  });
});
