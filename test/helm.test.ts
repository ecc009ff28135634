import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig, loadPolicies } from '../agent/config/load.ts';
import { NODE_FLAGS } from '../agent/node-flags.ts';

/*
 * `helm` is not installable on this machine (no Debian or npm package ships it), so the
 * chart is checked by parsing: values must be a valid agent configuration and policies,
 * and the templates, with their template actions reduced to placeholders, must be the
 * Kubernetes objects an operator expects (non-root, read-only root, probes on the status
 * server, config and policies mounted where the image looks for them).
 */
const chart = new URL('../deploy/helm/proxmox-diode-agent/', import.meta.url).pathname;
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, any>;

/** Drops lines that are only template actions and turns inline actions into a placeholder. */
function skeleton(template: string): unknown[] {
  const lines = template.split('\n').filter((l) => !/^\s*\{\{-?.*-?\}\}\s*$/.test(l));
  const text = lines.map((l) => l.replace(/\{\{-?[^}]*-?\}\}/g, 'TEMPLATED')).join('\n');
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

describe('helm chart', () => {
  it('has a valid Chart.yaml', () => {
    const c = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
    expect(c).toMatchObject({ apiVersion: 'v2', name: 'proxmox-diode-agent', type: 'application' });
    expect(c.appVersion).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it('ships default values that the agent accepts: agent.yaml and every policy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-values-'));
    const env = Object.fromEntries(Object.keys(values.secretEnv).map((k) => [k, 'from-secret']));
    const cfgFile = join(dir, 'agent.yaml');
    writeFileSync(cfgFile, JSON.stringify({ ...values.agentConfig, policies: { dir: join(dir, 'policies') } }));
    const cfg = loadAgentConfig(cfgFile, env);
    expect(cfg.diode.target).toBe('grpcs://netbox.example.com/diode');
    expect(values.agentConfig.policies.dir).toBe('/etc/diode-agent/policies');
    const pdir = join(dir, 'policies');
    mkdirSync(pdir);
    for (const [name, content] of Object.entries(values.policies as Record<string, string>)) writeFileSync(join(pdir, name), content);
    const set = loadPolicies(cfg, COLLECTORS, env);
    expect(set.issues).toEqual([]);
    expect(set.policies.map((p) => p.name)).toEqual(['pve-lab']);
    // Every ${env:} the configuration uses is provided from a Secret.
    const used = [...JSON.stringify(values.agentConfig).matchAll(/\$\{env:([A-Z_]+)\}/g), ...Object.values(values.policies as Record<string, string>).join('\n').matchAll(/\$\{env:([A-Z_]+)\}/g)].map((m) => m[1]);
    expect(new Set(used)).toEqual(new Set(Object.keys(values.secretEnv)));
  });

  it('renders a hardened Deployment with probes on the status server', () => {
    const [dep] = skeleton(readFileSync(join(chart, 'templates/deployment.yaml'), 'utf8')) as any[];
    expect(dep.kind).toBe('Deployment');
    const pod = dep.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    const c = pod.containers[0];
    expect(c.args).toEqual(['run']);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'status' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'status' });
    expect(c.ports).toEqual([{ name: 'status', containerPort: 9464 }]);
    expect(c.env[0]).toEqual({ name: 'DIODE_AGENT_STATUS_LISTEN', value: '0.0.0.0:9464' });
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(['/etc/diode-agent/agent.yaml', '/etc/diode-agent/policies', '/var/lib/diode-agent', '/tmp']);
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(['config', 'policies', 'state', 'tmp']);
  });

  it('renders the ConfigMap, Service, optional ServiceMonitor and PVC', () => {
    const kinds = readdirSync(join(chart, 'templates')).filter((f) => f.endsWith('.yaml')).sort()
      .map((f) => [f, (skeleton(readFileSync(join(chart, 'templates', f), 'utf8'))[0] as { kind: string }).kind]);
    expect(kinds).toEqual([['configmap.yaml', 'ConfigMap'], ['deployment.yaml', 'Deployment'], ['pvc.yaml', 'PersistentVolumeClaim'], ['service.yaml', 'Service'], ['servicemonitor.yaml', 'ServiceMonitor']]);
    expect(readFileSync(join(chart, 'templates/servicemonitor.yaml'), 'utf8').split('\n')[0]).toBe('{{- if .Values.serviceMonitor.enabled }}');
    const [svc] = skeleton(readFileSync(join(chart, 'templates/service.yaml'), 'utf8')) as any[];
    expect(svc.spec.ports).toEqual([{ name: 'status', port: 9464, targetPort: 'status' }]);
    expect(values.serviceMonitor.enabled).toBe(false);
  });
});

describe('image entrypoint', () => {
  it('runs node with the heap flags the benchmark measures (agent/node-flags.ts)', () => {
    const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...NODE_FLAGS, '/app/bin/diode-agent.js']);
  });
});
