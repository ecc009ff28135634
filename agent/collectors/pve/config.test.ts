import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { pveConfigSchema } from './config.ts';

const required = { PROXMOX_HOST: 'pve1.lab.example', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'secret' };

function issues(input: unknown): Array<{ path: string; message: string }> {
  const r = pveConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('pveConfigSchema', () => {
  it('applies the seed defaults', () => {
    expect(pveConfigSchema.parse(required)).toEqual({
      ...required,
      BOOTSTRAP: false,
      PROXMOX_PORT: 8006,
      PROXMOX_USER: 'root@pam',
      PROXMOX_SSL_VERIFY: false,
      PROXMOX_API_TIMEOUT: 30,
      PROXMOX_API_MAX_RESPONSE_BYTES: 67_108_864,
      SITE_NAME: 'Proxmox',
      NODE_SITE_MAP: {},
      BACKUP_STATUS: false,
      BACKUP_MAX_AGE: 26,
      LXC_ADDRESSES: 'config',
      HA_STATUS: false,
      REPLICATION_STATUS: false,
      AGENT_RECHECK_RUNS: 4,
    });
  });

  it('takes AGENT_RECHECK_RUNS from 1 to 1000', () => {
    expect(pveConfigSchema.parse({ ...required, AGENT_RECHECK_RUNS: '1' }).AGENT_RECHECK_RUNS).toBe(1);
    expect(pveConfigSchema.safeParse({ ...required, AGENT_RECHECK_RUNS: 0 }).success).toBe(false);
    expect(pveConfigSchema.safeParse({ ...required, AGENT_RECHECK_RUNS: 1001 }).success).toBe(false);
  });

  it('accepts strings from ${env:} substitution for booleans and numbers', () => {
    expect(pveConfigSchema.parse({ ...required, PROXMOX_PORT: '8443', PROXMOX_SSL_VERIFY: 'true', PROXMOX_API_TIMEOUT: '5', BOOTSTRAP: 'no' })).toMatchObject({
      PROXMOX_PORT: 8443,
      PROXMOX_SSL_VERIFY: true,
      PROXMOX_API_TIMEOUT: 5,
      BOOTSTRAP: false,
    });
  });

  it('bounds PROXMOX_API_MAX_RESPONSE_BYTES between 1 KiB and 256 MiB', () => {
    expect(pveConfigSchema.parse({ ...required, PROXMOX_API_MAX_RESPONSE_BYTES: '1048576' })).toMatchObject({ PROXMOX_API_MAX_RESPONSE_BYTES: 1_048_576 });
    expect(issues({ ...required, PROXMOX_API_MAX_RESPONSE_BYTES: 64 })).toEqual([
      { path: 'PROXMOX_API_MAX_RESPONSE_BYTES', message: 'Too small: expected number to be >=1024' },
    ]);
    expect(issues({ ...required, PROXMOX_API_MAX_RESPONSE_BYTES: 2 ** 29 })).toEqual([
      { path: 'PROXMOX_API_MAX_RESPONSE_BYTES', message: 'Too big: expected number to be <=268435456' },
    ]);
  });

  it('requires host and token unless BOOTSTRAP, naming each key', () => {
    expect(issues({})).toEqual([
      { path: 'PROXMOX_HOST', message: 'PROXMOX_HOST is required unless BOOTSTRAP is true' },
      { path: 'PROXMOX_TOKEN_NAME', message: 'PROXMOX_TOKEN_NAME is required unless BOOTSTRAP is true' },
      { path: 'PROXMOX_TOKEN_VALUE', message: 'PROXMOX_TOKEN_VALUE is required unless BOOTSTRAP is true' },
    ]);
    expect(pveConfigSchema.parse({ BOOTSTRAP: true })).toMatchObject({ BOOTSTRAP: true });
  });

  it('parses NODE_SITE_MAP and reports a malformed pair', () => {
    expect(pveConfigSchema.parse({ ...required, NODE_SITE_MAP: 'pve1:London,pve2:Amsterdam' }).NODE_SITE_MAP).toEqual({ pve1: 'London', pve2: 'Amsterdam' });
    expect(pveConfigSchema.parse({ ...required, NODE_SITE_MAP: { pve3: 'Paris' } }).NODE_SITE_MAP).toEqual({ pve3: 'Paris' });
    expect(issues({ ...required, NODE_SITE_MAP: 'pve1:London,pve2' })).toEqual([
      { path: 'NODE_SITE_MAP', message: 'NODE_SITE_MAP entry "pve2": expected <node>:<site>, e.g. "pve1:London"' },
    ]);
  });

  it('rejects unknown keys, a token id whose user is not PROXMOX_USER, and a bad fingerprint', () => {
    expect(issues({ ...required, PROXMOX_HOSTNAME: 'x' })).toEqual([{ path: '', message: 'Unrecognized key: "PROXMOX_HOSTNAME"' }]);
    expect(issues({ ...required, PROXMOX_USER: 'netbox@pve', PROXMOX_TOKEN_NAME: 'root@pam!netbox' })).toEqual([
      { path: 'PROXMOX_TOKEN_NAME', message: 'names the user root@pam, but PROXMOX_USER is netbox@pve; give the user once' },
    ]);
    expect(issues({ ...required, PROXMOX_TOKEN_NAME: 'root@pam!' })).toEqual([
      { path: 'PROXMOX_TOKEN_NAME', message: 'expected the token name (netbox, with the user in PROXMOX_USER) or the whole token id (root@pam!netbox)' },
    ]);
    expect(issues({ ...required, PROXMOX_USER: 'root' })).toEqual([{ path: 'PROXMOX_USER', message: 'expected user@realm, e.g. root@pam' }]);
    expect(issues({ ...required, PROXMOX_FINGERPRINT: 'AB:CD' })).toEqual([
      { path: 'PROXMOX_FINGERPRINT', message: 'expected a SHA-256 fingerprint: 32 colon-separated hex bytes, as GET /nodes shows ssl_fingerprint' },
    ]);
    expect(
      pveConfigSchema.parse({
        ...required,
        PROXMOX_FINGERPRINT: '80:D4:F2:DF:64:95:CD:8D:A0:82:82:AC:48:BA:C0:7A:1B:6B:87:8B:FE:B9:83:1C:95:4E:79:58:77:99:69:F5',
      }).PROXMOX_FINGERPRINT,
    ).toBe('80:D4:F2:DF:64:95:CD:8D:A0:82:82:AC:48:BA:C0:7A:1B:6B:87:8B:FE:B9:83:1C:95:4E:79:58:77:99:69:F5');
  });

  it('parses the selection settings, as lists or as one comma-separated string', () => {
    expect(
      pveConfigSchema.parse({
        ...required,
        EXCLUDE_TAGS: ['No-NetBox', 'tmp.build', 'no-netbox'],
        EXCLUDE_VMIDS: ['100-199', 250, ' 300 - 300 '],
        EXCLUDE_POOLS: ['lab', 'dev/ci'],
      }),
    ).toMatchObject({
      EXCLUDE_TAGS: ['no-netbox', 'tmp.build'],
      EXCLUDE_VMIDS: [
        { from: 100, to: 199 },
        { from: 250, to: 250 },
        { from: 300, to: 300 },
      ],
      EXCLUDE_POOLS: ['lab', 'dev/ci'],
    });
    expect(pveConfigSchema.parse({ ...required, EXCLUDE_TAGS: 'no-netbox, tmp', EXCLUDE_VMIDS: '100-199,250', EXCLUDE_POOLS: 'lab' })).toMatchObject({
      EXCLUDE_TAGS: ['no-netbox', 'tmp'],
      EXCLUDE_VMIDS: [
        { from: 100, to: 199 },
        { from: 250, to: 250 },
      ],
      EXCLUDE_POOLS: ['lab'],
    });
    expect(pveConfigSchema.parse({ ...required, TENANT_MAP: { 'pool/finance': ' Finance ', 'tag/Team-A': 'Team A' } }).TENANT_MAP).toEqual([
      { kind: 'pool', value: 'finance', tenant: 'Finance' },
      { kind: 'tag', value: 'team-a', tenant: 'Team A' },
    ]);
    expect(pveConfigSchema.parse({ ...required, TENANT_MAP: 'pool/finance:Finance,tag/team-a:Team A' }).TENANT_MAP).toEqual([
      { kind: 'pool', value: 'finance', tenant: 'Finance' },
      { kind: 'tag', value: 'team-a', tenant: 'Team A' },
    ]);
    const defaults = pveConfigSchema.parse(required);
    expect(['EXCLUDE_TAGS', 'EXCLUDE_VMIDS', 'EXCLUDE_POOLS', 'TENANT_MAP'].filter((k) => k in defaults)).toEqual([]);
  });

  it('reports each bad selection entry with the field, the entry and the reason', () => {
    expect(issues({ ...required, EXCLUDE_VMIDS: ['100-199', 'web', 99, '300-200', 1_000_000_000] })).toEqual([
      { path: 'EXCLUDE_VMIDS.1', message: 'EXCLUDE_VMIDS entry "web": expected a VMID (100 to 999999999) or a range of them, e.g. "100-199"' },
      {
        path: 'EXCLUDE_VMIDS.2',
        message: 'EXCLUDE_VMIDS entry "99": expected a VMID (100 to 999999999) or a range of them, e.g. "100-199"; VMIDs are 100 to 999999999',
      },
      { path: 'EXCLUDE_VMIDS.3', message: 'EXCLUDE_VMIDS entry "300-200": a range goes from the lower VMID to the higher one' },
      {
        path: 'EXCLUDE_VMIDS.4',
        message: 'EXCLUDE_VMIDS entry "1000000000": expected a VMID (100 to 999999999) or a range of them, e.g. "100-199"; VMIDs are 100 to 999999999',
      },
    ]);
    expect(issues({ ...required, EXCLUDE_VMIDS: '100-199,1x' })).toEqual([
      { path: 'EXCLUDE_VMIDS', message: 'EXCLUDE_VMIDS entry "1x": expected a VMID (100 to 999999999) or a range of them, e.g. "100-199"' },
    ]);
    expect(issues({ ...required, EXCLUDE_TAGS: ['ok', 'no netbox', '-x'] })).toEqual([
      { path: 'EXCLUDE_TAGS.1', message: 'EXCLUDE_TAGS entry "no netbox": not a Proxmox tag (letters, digits and _ - + ., not starting with - + or .)' },
      { path: 'EXCLUDE_TAGS.2', message: 'EXCLUDE_TAGS entry "-x": not a Proxmox tag (letters, digits and _ - + ., not starting with - + or .)' },
    ]);
    expect(issues({ ...required, EXCLUDE_POOLS: ['fin ance'] })).toEqual([
      { path: 'EXCLUDE_POOLS.0', message: 'EXCLUDE_POOLS entry "fin ance": not a Proxmox pool name (letters, digits and . - _)' },
    ]);
    expect(issues({ ...required, EXCLUDE_POOLS: { lab: true } })).toEqual([
      { path: 'EXCLUDE_POOLS', message: 'expected a list (or a comma-separated string) of pool names' },
    ]);
    expect(issues({ ...required, TENANT_MAP: { finance: 'Finance', 'pool/a': ' ', 'tag/x y': 'X', 'pool/b': 'x'.repeat(101) } })).toEqual([
      { path: 'TENANT_MAP.finance', message: 'TENANT_MAP entry "finance": expected pool/<pool> or tag/<tag>, e.g. pool/finance' },
      { path: 'TENANT_MAP.pool/a', message: 'TENANT_MAP entry "pool/a": the tenant name is empty' },
      { path: 'TENANT_MAP.tag/x y', message: 'TENANT_MAP entry "tag/x y": not a Proxmox tag (letters, digits and _ - + ., not starting with - + or .)' },
      { path: 'TENANT_MAP.pool/b', message: 'TENANT_MAP entry "pool/b": the tenant name is longer than 100 characters (NetBox\'s limit)' },
    ]);
    expect(issues({ ...required, TENANT_MAP: { 'tag/Team-A': 'A', 'tag/team-a': 'B' } })).toEqual([
      { path: 'TENANT_MAP.tag/team-a', message: 'TENANT_MAP entry "tag/team-a": tag "team-a" has a rule already' },
    ]);
    expect(issues({ ...required, TENANT_MAP: 'pool/finance' })).toEqual([
      { path: 'TENANT_MAP', message: 'TENANT_MAP entry "pool/finance": expected <pool/name or tag/name>:<tenant>, e.g. "pool/finance:Finance"' },
    ]);
  });

  it('validates the example policy', () => {
    const policy = parseYaml(readFileSync(new URL('./example.yaml', import.meta.url), 'utf8')) as {
      name: string;
      collector: string;
      schedule: string;
      config: Record<string, unknown>;
      scope: { nodes: string[] };
    };
    expect(policy.collector).toBe('pve');
    expect(policy.scope).toEqual({ nodes: ['*'] });
    expect(policy.config.PROXMOX_TOKEN_VALUE).toBe('${env:PVE_TOKEN}');
    const config = pveConfigSchema.parse({ ...policy.config, PROXMOX_TOKEN_VALUE: 'from-env' });
    expect(config).toEqual({
      BOOTSTRAP: false,
      PROXMOX_HOST: 'pve1.lab.example',
      PROXMOX_PORT: 8006,
      PROXMOX_USER: 'root@pam',
      PROXMOX_TOKEN_NAME: 'netbox',
      PROXMOX_TOKEN_VALUE: 'from-env',
      PROXMOX_SSL_VERIFY: false,
      PROXMOX_API_TIMEOUT: 30,
      PROXMOX_API_MAX_RESPONSE_BYTES: 67_108_864,
      SITE_NAME: 'Lab',
      NODE_SITE_MAP: { pve1: 'London', pve2: 'Amsterdam' },
      BACKUP_STATUS: false,
      BACKUP_MAX_AGE: 26,
      LXC_ADDRESSES: 'config',
      HA_STATUS: false,
      REPLICATION_STATUS: false,
      AGENT_RECHECK_RUNS: 4,
    });
  });
});
