import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../collectors/registry.ts';
import { createLogger, redactSecrets } from '../log.ts';
import { loadAgentConfig, loadPolicies } from './load.ts';

/*
 * Every collector's secret parameters, the Diode client secret and the Redis password are
 * registered when the configuration loads, whether written literally or substituted, and
 * are then masked in logs even with characters JSON escapes.
 */
const SECRETS = {
  DIODE: 'diode"client\\secret\n1',
  REDIS: 'redis-pw"\\\t2',
  PVE: 'pve-token\t"3',
  PBS: 'pbs-secret\\"4',
  PDM: 'pdm-secret\n"5',
  CEPH: 'ceph-pass\t\\6',
  CEPH_PVE: 'ceph-pve\ttoken"7',
};

describe('secret registration from agent.yaml and policies', () => {
  it('masks every collector secret, the Diode client secret and the Redis password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-secrets-'));
    writeFileSync(
      join(dir, 'agent.yaml'),
      `
diode:
  target: grpc://127.0.0.1:1/diode
  client_id: agent
  client_secret: \${env:S_DIODE}
coordination:
  redis_url: \${env:S_REDIS_URL}
policies:
  - { name: pve, collector: pve, config: { PROXMOX_HOST: h, PROXMOX_TOKEN_NAME: n, PROXMOX_TOKEN_VALUE: "\${env:S_PVE}" } }
  - { name: pbs, collector: pbs, config: { PBS_HOST: h, PBS_TOKEN_ID: "u@pbs!n", PBS_TOKEN_SECRET: "\${env:S_PBS}" } }
  - { name: pdm, collector: pdm, config: { PDM_HOST: h, PDM_TOKEN_ID: "u@pdm!n", PDM_TOKEN_SECRET: ${JSON.stringify(SECRETS.PDM)} } }
  - { name: ceph, collector: ceph, config: { CEPH_SOURCE: dashboard, CEPH_URL: "https://h:8443", CEPH_USER: u, CEPH_PASSWORD: "\${env:S_CEPH}" } }
  - { name: ceph-pve, collector: ceph, config: { CEPH_SOURCE: pve, PROXMOX_HOST: h, PROXMOX_TOKEN_NAME: n, PROXMOX_TOKEN_VALUE: "\${env:S_CEPH_PVE}" } }
`,
    );
    const env = {
      S_DIODE: SECRETS.DIODE,
      S_REDIS_URL: `redis://agent:${encodeURIComponent(SECRETS.REDIS)}@redis:6379/0`,
      S_PVE: SECRETS.PVE,
      S_PBS: SECRETS.PBS,
      S_CEPH: SECRETS.CEPH,
      S_CEPH_PVE: SECRETS.CEPH_PVE,
    };
    const cfg = loadAgentConfig(join(dir, 'agent.yaml'), env);
    const set = loadPolicies(cfg, COLLECTORS, env);
    expect(set.issues).toEqual([]);
    expect(set.policies.map((p) => p.name)).toEqual(['pve', 'pbs', 'pdm', 'ceph', 'ceph-pve']);
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
    for (const [name, s] of Object.entries(SECRETS)) {
      log.warn({ name, reason: `upstream echoed ${s}` }, 'echo');
      expect(redactSecrets(`x ${s} y`)).toBe('x [REDACTED] y');
    }
    log.warn({ url: env.S_REDIS_URL }, 'redis url');
    expect(lines.map((l) => (JSON.parse(l) as { reason?: string; url?: string }).reason ?? (JSON.parse(l) as { url: string }).url)).toEqual([
      ...Object.keys(SECRETS).map(() => 'upstream echoed [REDACTED]'),
      'redis://agent:[REDACTED]@redis:6379/0',
    ]);
  });
});
