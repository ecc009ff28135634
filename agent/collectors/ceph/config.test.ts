import { describe, expect, it } from 'vitest';
import { cephConfigSchema } from './config.ts';

const pve = { PROXMOX_HOST: 'pve1.lab.example', PROXMOX_TOKEN_NAME: 'netbox', PROXMOX_TOKEN_VALUE: 'secret' };

function issues(input: unknown): string[] {
  const r = cephConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('cephConfigSchema', () => {
  it('takes the PVE collector parameters with the seed defaults in pve mode', () => {
    expect(cephConfigSchema.parse(pve)).toEqual({
      CEPH_SOURCE: 'pve',
      SITE_NAME: 'Proxmox',
      NODE_SITE_MAP: {},
      PROXMOX_HOST: 'pve1.lab.example',
      PROXMOX_PORT: 8006,
      PROXMOX_USER: 'root@pam',
      PROXMOX_TOKEN_NAME: 'netbox',
      PROXMOX_TOKEN_VALUE: 'secret',
      PROXMOX_SSL_VERIFY: false,
      PROXMOX_API_TIMEOUT: 30,
      PROXMOX_API_MAX_RESPONSE_BYTES: 67_108_864,
      CEPH_SSL_VERIFY: false,
      CEPH_API_TIMEOUT: 30,
      CEPH_API_MAX_RESPONSE_BYTES: 67_108_864,
    });
  });

  it('parses NODE_SITE_MAP as the PVE collector does', () => {
    expect(cephConfigSchema.parse({ ...pve, NODE_SITE_MAP: 'pve1:London,pve2:Amsterdam' }).NODE_SITE_MAP).toEqual({ pve1: 'London', pve2: 'Amsterdam' });
    expect(issues({ ...pve, NODE_SITE_MAP: 'pve1' })).toEqual(['NODE_SITE_MAP: NODE_SITE_MAP entry "pve1": expected <node>:<site>, e.g. "pve1:London"']);
  });

  it('requires the PVE connection in pve mode and rejects dashboard keys there', () => {
    expect(issues({ CEPH_SOURCE: 'pve', CEPH_URL: 'https://mgr:8443' })).toEqual([
      'PROXMOX_HOST: PROXMOX_HOST is required when CEPH_SOURCE is pve',
      'PROXMOX_TOKEN_NAME: PROXMOX_TOKEN_NAME is required when CEPH_SOURCE is pve',
      'PROXMOX_TOKEN_VALUE: PROXMOX_TOKEN_VALUE is required when CEPH_SOURCE is pve',
      'CEPH_URL: is only used when CEPH_SOURCE is dashboard',
    ]);
  });

  it('requires a URL and credentials or a token file in dashboard mode', () => {
    expect(issues({ CEPH_SOURCE: 'dashboard' })).toEqual([
      'CEPH_URL: CEPH_URL is required when CEPH_SOURCE is dashboard',
      'CEPH_USER: CEPH_USER is required unless CEPH_TOKEN_FILE is given',
      'CEPH_PASSWORD: CEPH_PASSWORD is required unless CEPH_TOKEN_FILE is given',
    ]);
    expect(issues({ CEPH_SOURCE: 'dashboard', CEPH_URL: 'https://mgr:8443', CEPH_TOKEN_FILE: '/run/secrets/ceph-jwt' })).toEqual([]);
    expect(issues({ CEPH_SOURCE: 'dashboard', CEPH_URL: 'https://mgr:8443', CEPH_TOKEN_FILE: '/t', CEPH_USER: 'ro' })).toEqual([
      'CEPH_PASSWORD: CEPH_USER and CEPH_PASSWORD go together (they re-login when the token file stops working)',
    ]);
    expect(issues({ CEPH_SOURCE: 'dashboard', CEPH_URL: 'ftp://mgr', CEPH_USER: 'u', CEPH_PASSWORD: 'p' })).toEqual([
      'CEPH_URL: expected the dashboard URL, e.g. https://ceph-mgr.example:8443',
    ]);
  });

  it('rejects PVE keys in dashboard mode and unknown keys everywhere', () => {
    expect(issues({ CEPH_SOURCE: 'dashboard', CEPH_URL: 'https://mgr:8443', CEPH_USER: 'u', CEPH_PASSWORD: 'p', PROXMOX_HOST: 'pve1' })).toEqual([
      'PROXMOX_HOST: is only used when CEPH_SOURCE is pve',
    ]);
    expect(issues({ ...pve, CEPH_SORCE: 'pve' })).toEqual([': Unrecognized key: "CEPH_SORCE"']);
  });

  it('coerces string booleans and numbers from ${env:} substitution', () => {
    const c = cephConfigSchema.parse({ ...pve, PROXMOX_PORT: '8443', PROXMOX_SSL_VERIFY: 'true' });
    expect([c.PROXMOX_PORT, c.PROXMOX_SSL_VERIFY]).toEqual([8443, true]);
  });
});
