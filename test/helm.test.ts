import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COLLECTORS } from '../agent/collectors/registry.ts';
import { loadAgentConfig, loadPolicies } from '../agent/config/load.ts';
import { agentSectionSchema, diodeSchema } from '../agent/config/schema.ts';
import { NODE_FLAGS } from '../agent/node-flags.ts';
import { validateObject } from './helm/kube.ts';
import { DEFAULT_API_VERSIONS, type RenderOptions, type RenderResult, type Values, parseHelmYaml, renderChart } from './helm/render.ts';

/*
 * helm is not installable on these machines (no Debian or npm package ships it), so the
 * chart is rendered by test/helm/render.ts (Go text/template + Sprig + Helm's functions and
 * values handling; see test/helm/template.test.ts for how that is checked against Go), and
 * every object it produces is validated against the Kubernetes schemas of kubernetes-models.
 */
const chart = new URL('../deploy/helm/proxmox-diode-agent/', import.meta.url).pathname;
const defaults = parseHelmYaml(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Values;
const release = { name: 'proxmox-diode-agent', namespace: 'netbox' };
const WITH_PROMETHEUS = [...DEFAULT_API_VERSIONS, 'monitoring.coreos.com/v1'];
/** The least a working install needs: a Diode target and the credential's Secret. */
const MINIMAL: Values = { diode: { target: 'grpcs://netbox.example.com/diode' }, existingSecret: 'diode-agent-credentials' };

/** The `# my-values.yaml` block of the README's Kubernetes section. */
function readmeValues(): Values {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Kubernetes and NetBox Enterprise'));
  const block = /```yaml\n(# my-values\.yaml\n[\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README: no my-values.yaml block in the Kubernetes section');
  return parseHelmYaml(block) as Values;
}

function render(values: Values | Values[] = MINIMAL, opts: Omit<RenderOptions, 'values'> = {}): RenderResult {
  const r = renderChart(chart, { release, ...opts, values });
  for (const m of r.manifests) validateObject(m.object);
  return r;
}

type Obj = Record<string, any>;
const find = (r: RenderResult, kind: string, nameSuffix = ''): Obj | undefined =>
  r.manifests.map((m) => m.object as Obj).find((o) => o.kind === kind && String(o.metadata.name).endsWith(nameSuffix));
const get = (r: RenderResult, kind: string, nameSuffix = ''): Obj => {
  const o = find(r, kind, nameSuffix);
  if (!o) throw new Error(`no ${kind} rendered`);
  return o;
};
const kinds = (r: RenderResult) => r.manifests.map((m) => `${m.object.kind}/${(m.object.metadata as Obj).name}`).sort();
const deployment = (r: RenderResult) => get(r, 'Deployment');
const container = (r: RenderResult) => deployment(r).spec.template.spec.containers[0] as Obj;
const envNames = (r: RenderResult) => (container(r).env as Obj[]).map((e) => e.name);
const agentYaml = (r: RenderResult) => parse(get(r, 'ConfigMap', 'proxmox-diode-agent').data['agent.yaml']) as Obj;

/**
 * Loads the rendered agent.yaml and policies with the agent's own loader. The policies are
 * laid out as the kubelet projects a ConfigMap volume (pkg/volume/util/atomic_writer.go):
 * the files in a timestamped directory, a `..data` symlink to it, and one symlink per key.
 */
function agentAccepts(r: RenderResult, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'helm-render-'));
  const pdir = join(dir, 'policies');
  const stamp = '..2026_01_01_00_00_00.000000001';
  mkdirSync(join(pdir, stamp), { recursive: true });
  symlinkSync(stamp, join(pdir, '..data'));
  const cfg = agentYaml(r);
  expect(cfg.policies).toEqual({ dir: '/etc/diode-agent/policies' });
  writeFileSync(join(dir, 'agent.yaml'), JSON.stringify({ ...cfg, policies: { dir: pdir } }));
  for (const [file, text] of Object.entries((get(r, 'ConfigMap', '-policies').data ?? {}) as Record<string, string>)) {
    writeFileSync(join(pdir, stamp, file), text);
    symlinkSync(join('..data', file), join(pdir, file));
  }
  const loaded = loadAgentConfig(join(dir, 'agent.yaml'), env);
  return { cfg: loaded, policies: loadPolicies(loaded, COLLECTORS, env) };
}

describe('helm chart: Chart.yaml and values', () => {
  it('has a valid Chart.yaml whose appVersion is the package version', () => {
    const c = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
    expect(c).toMatchObject({ apiVersion: 'v2', name: 'proxmox-diode-agent', type: 'application' });
    expect(c.appVersion).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  });

  it("ships no policy and no secretEnv entry, so nothing of its own merges into a user's values", () => {
    expect(defaults.policies).toEqual({});
    expect(defaults.secretEnv).toEqual({});
    const r = render({
      ...MINIMAL,
      policies: { 'mine.yaml': 'name: mine\ncollector: packer\nconfig: { PACKER_MANIFESTS: /m.json }\n' },
      secretEnv: { MY_TOKEN: { secret: 's', key: 'k' } },
    });
    expect(Object.keys(get(r, 'ConfigMap', '-policies').data)).toEqual(['mine.yaml']);
    expect(envNames(r)).toEqual(['DIODE_AGENT_STATUS_LISTEN', 'DIODE_CLIENT_ID', 'DIODE_CLIENT_SECRET', 'MY_TOKEN']);
  });

  it('keeps agentConfig to settings the agent knows (its own zod schema) and the chart does not own', () => {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8'));
    const allowed = schema.properties.agentConfig.properties;
    for (const k of Object.keys(allowed.agent.properties)) expect(Object.keys(agentSectionSchema.shape)).toContain(k);
    for (const k of Object.keys(allowed.diode.properties)) expect(Object.keys(diodeSchema.shape)).toContain(k);
    for (const owned of ['state_dir', 'status']) expect(allowed.agent.properties).not.toHaveProperty(owned);
    for (const owned of ['target', 'client_id', 'client_secret', 'dry_run']) expect(allowed.diode.properties).not.toHaveProperty(owned);
  });
});

describe('helm chart: values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  const check = (v: Values) => (validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

  it("accepts the default values and the README's", () => {
    expect(check(defaults)).toEqual([]);
    expect(check(renderChart(chart, { values: readmeValues(), release, apiVersions: WITH_PROMETHEUS }).values)).toEqual([]);
  });

  it.each([
    ['a number as a string', { replicaCount: 'two' }, /replicaCount must be integer/],
    ['a misspelt top-level key', { replicas: 2 }, /must NOT have additional properties/],
    ['a policy file without .yaml (the agent would not read it)', { policies: { 'pve-lab': 'name: x' } }, /property name must be valid/],
    [
      'a secretEnv entry that would replace the Diode credential',
      { secretEnv: { DIODE_CLIENT_SECRET: { secret: 's', key: 'k' } } },
      /property name must be valid/,
    ],
    ['a chart-owned agent.yaml key in agentConfig', { agentConfig: { policies: { dir: '/x' } } }, /agentConfig must NOT have additional properties/],
    ['an image tag YAML read as a number (1.10 would become 1.1)', { image: { repository: 'x', tag: 1.1 } }, /tag must be string/],
    ['an unknown pull policy', { image: { repository: 'x', pullPolicy: 'Sometimes' } }, /pullPolicy must be equal to one of the allowed values/],
    ['a target that is not grpc(s)://', { diode: { target: 'https://netbox.example.com/diode' } }, /target must match pattern/],
    ['a ServiceMonitor interval Prometheus cannot parse', { serviceMonitor: { interval: 'thirty' } }, /interval must match pattern/],
  ])('rejects %s, and helm refuses to render it', (_name, bad, message) => {
    expect(check({ ...defaults, ...bad }).join('\n')).toMatch(message);
    expect(() => renderChart(chart, { values: [MINIMAL, bad], release })).toThrow(/values don't meet the specifications of the schema/);
  });
});

describe('helm chart: rendering', () => {
  it('renders the default values as helm lint does, and every object validates', () => {
    const r = render({}, { lint: true });
    expect(kinds(r)).toEqual([
      'ConfigMap/proxmox-diode-agent',
      'ConfigMap/proxmox-diode-agent-policies',
      'Deployment/proxmox-diode-agent',
      'Secret/proxmox-diode-agent',
      'Service/proxmox-diode-agent',
      'ServiceAccount/proxmox-diode-agent',
    ]);
  });

  it('refuses to install the defaults, naming what is required', () => {
    expect(() => render({})).toThrow(/diode\.target is required/);
    expect(() => render({ diode: { target: 'grpcs://netbox.example.com/diode' } })).toThrow(/the Diode client credential is required: set existingSecret/);
  });

  it("renders the README's values, and the agent accepts the agent.yaml and policy it gets", () => {
    const r = render(readmeValues(), { apiVersions: WITH_PROMETHEUS });
    expect(kinds(r)).toEqual([
      'ConfigMap/proxmox-diode-agent',
      'ConfigMap/proxmox-diode-agent-policies',
      'Deployment/proxmox-diode-agent',
      'Service/proxmox-diode-agent',
      'ServiceAccount/proxmox-diode-agent',
      'ServiceMonitor/proxmox-diode-agent',
    ]);
    expect(container(r).image).toBe('registry.example.com/proxmox-diode-agent:0.1.0');
    const { cfg, policies } = agentAccepts(r, { DIODE_CLIENT_ID: 'id', DIODE_CLIENT_SECRET: 'secret', PVE_TOKEN: 'tok' });
    expect(cfg.diode).toMatchObject({ target: 'grpcs://netbox.example.com/diode', client_id: 'id', client_secret: 'secret' });
    expect(cfg.agent).toMatchObject({ state_dir: '/var/lib/diode-agent', status: { enabled: true, listen: '0.0.0.0:9464' } });
    expect(policies.issues).toEqual([]);
    expect(policies.policies.map((p) => p.name)).toEqual(['pve-lab']);
    // Every ${env:} the policies use comes from a Secret.
    expect(envNames(r)).toEqual(['DIODE_AGENT_STATUS_LISTEN', 'DIODE_CLIENT_ID', 'DIODE_CLIENT_SECRET', 'PVE_TOKEN']);
    expect((container(r).env as Obj[]).find((e) => e.name === 'PVE_TOKEN')?.valueFrom).toEqual({ secretKeyRef: { name: 'proxmox-tokens', key: 'pve-lab' } });
  });

  it('takes a policy as YAML text or as a map, with the same result', () => {
    const asMap = {
      name: 'p',
      collector: 'pve',
      schedule: '0 * * * *',
      config: { PROXMOX_HOST: 'pve1', PROXMOX_TOKEN_NAME: 'n', PROXMOX_TOKEN_VALUE: '${env:T}' },
    };
    const a = render({ ...MINIMAL, policies: { 'p.yaml': asMap } });
    const b = render({
      ...MINIMAL,
      policies: {
        'p.yaml': 'name: p\ncollector: pve\nschedule: "0 * * * *"\nconfig:\n  PROXMOX_HOST: pve1\n  PROXMOX_TOKEN_NAME: n\n  PROXMOX_TOKEN_VALUE: ${env:T}\n',
      },
    });
    const env = { DIODE_CLIENT_ID: 'i', DIODE_CLIENT_SECRET: 's', T: 'tok' };
    const [pa, pb] = [agentAccepts(a, env).policies, agentAccepts(b, env).policies];
    expect(pa.issues).toEqual([]);
    expect(pb.issues).toEqual([]);
    const essence = (ps: typeof pa) => ps.policies.map((x) => ({ name: x.name, collector: x.collector, schedule: x.schedule, config: x.config }));
    expect(essence(pa)).toEqual(essence(pb));
    expect(essence(pa)[0]).toMatchObject({ name: 'p', collector: 'pve', config: { PROXMOX_HOST: 'pve1', PROXMOX_TOKEN_VALUE: 'tok' } });
    expect(parse(get(a, 'ConfigMap', '-policies').data['p.yaml'])).toEqual(asMap);
  });

  it('uses existingSecret for the credential when given, and renders no Secret', () => {
    const r = render(MINIMAL);
    expect(find(r, 'Secret')).toBeUndefined();
    const env = container(r).env as Obj[];
    expect(env.filter((e) => e.name.startsWith('DIODE_CLIENT_'))).toEqual([
      { name: 'DIODE_CLIENT_ID', valueFrom: { secretKeyRef: { name: 'diode-agent-credentials', key: 'client-id' } } },
      { name: 'DIODE_CLIENT_SECRET', valueFrom: { secretKeyRef: { name: 'diode-agent-credentials', key: 'client-secret' } } },
    ]);
    expect(deployment(r).spec.template.metadata.annotations).not.toHaveProperty('checksum/credentials');
  });

  it("passes agentConfig's run_at_start and diode.read_back through the schema into an agent.yaml the agent takes", () => {
    const r = render({
      ...MINIMAL,
      agentConfig: { agent: { run_at_start: false }, diode: { read_back: { enabled: true, timeout: '60s', poll_interval: '2s' } } },
    });
    const { cfg } = agentAccepts(r, { DIODE_CLIENT_ID: 'x', DIODE_CLIENT_SECRET: 'y' });
    expect(cfg.agent.run_at_start).toBe(false);
    expect(cfg.diode.read_back).toMatchObject({ enabled: true, timeout: 60_000, poll_interval: 2_000 });
    expect(() => render({ ...MINIMAL, agentConfig: { diode: { read_back: { enable: true } } } })).toThrow();
  });

  it('otherwise writes diode.clientId/clientSecret into a Secret of its own, and rolls the pod when they change', () => {
    const values = { diode: { target: 'grpc://diode.netbox.svc:80/diode', clientId: 'agent-1', clientSecret: 's3cret' } };
    const r = render(values);
    expect(get(r, 'Secret').data).toEqual({
      'client-id': Buffer.from('agent-1').toString('base64'),
      'client-secret': Buffer.from('s3cret').toString('base64'),
    });
    expect(container(r).env[1].valueFrom.secretKeyRef.name).toBe('proxmox-diode-agent');
    const other = render({ diode: { ...values.diode, clientSecret: 'rotated' } });
    expect(deployment(other).spec.template.metadata.annotations['checksum/credentials']).not.toBe(
      deployment(r).spec.template.metadata.annotations['checksum/credentials'],
    );
    expect(() => render({ diode: { target: values.diode.target, clientId: 'agent-1' } })).toThrow(/diode\.clientSecret is required/);
  });

  it('renders a hardened Deployment with probes on the status server', () => {
    const r = render();
    const pod = deployment(r).spec.template.spec;
    expect(Object.keys(pod).sort()).toEqual([
      'automountServiceAccountToken',
      'containers',
      'securityContext',
      'serviceAccountName',
      'terminationGracePeriodSeconds',
      'volumes',
    ]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = container(r);
    expect(Object.keys(c).sort()).toEqual([
      'args',
      'env',
      'image',
      'imagePullPolicy',
      'livenessProbe',
      'name',
      'ports',
      'readinessProbe',
      'resources',
      'securityContext',
      'volumeMounts',
    ]);
    expect(c.image).toBe('proxmox-diode-agent:0.1.0');
    expect(c.args).toEqual(['run']);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'status' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'status' });
    expect(c.ports).toEqual([{ name: 'status', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.env[0]).toEqual({ name: 'DIODE_AGENT_STATUS_LISTEN', value: '0.0.0.0:9464' });
    expect(c.volumeMounts.map((m: Obj) => m.mountPath)).toEqual(['/etc/diode-agent/agent.yaml', '/etc/diode-agent/policies', '/var/lib/diode-agent', '/tmp']);
    expect(pod.volumes.map((v: Obj) => v.name)).toEqual(['config', 'policies', 'state', 'tmp']);
    expect(pod.volumes[2]).toEqual({ name: 'state', emptyDir: {} });
    expect(deployment(r).spec).not.toHaveProperty('strategy');
    expect(get(r, 'Service').spec.ports).toEqual([{ name: 'status', port: 9464, targetPort: 'status', protocol: 'TCP' }]);
  });

  it('rolls the pod when agent.yaml changes but not when a policy does (the agent reloads those)', () => {
    const sum = (v: Values) => deployment(render(v)).spec.template.metadata.annotations['checksum/agent-config'];
    const base = sum(MINIMAL);
    expect(sum({ ...MINIMAL, policies: { 'p.yaml': 'name: p\ncollector: packer\n' } })).toBe(base);
    expect(sum({ ...MINIMAL, agentConfig: { agent: { log_level: 'debug' } } })).not.toBe(base);
  });

  it("follows NetBox Labs' chart conventions for image, pull secrets, service account and pod settings", () => {
    const r = render({
      ...MINIMAL,
      image: { registry: 'registry.example.com', repository: 'tools/pda', tag: '1.2.3', pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'regcred' }],
      serviceAccount: { create: false, name: 'shared' },
      podAnnotations: { 'example.com/a': 'b' },
      podLabels: { team: 'netops' },
      // Maps merge with the chart's (helm coalesces values); null removes a key.
      podSecurityContext: { runAsUser: 2000, fsGroup: 2000, runAsGroup: null },
      securityContext: { privileged: false },
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'netbox', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
        },
      },
      extraEnv: [{ name: 'TZ', value: 'Europe/Amsterdam' }],
      extraVolumes: [{ name: 'pve-ca', secret: { secretName: 'pve-ca' } }],
      extraVolumeMounts: [{ name: 'pve-ca', mountPath: '/etc/diode-agent/ca', readOnly: true }],
    });
    const tpl = deployment(r).spec.template;
    const c = container(r);
    expect(c.image).toBe('registry.example.com/tools/pda:1.2.3');
    expect(c.imagePullPolicy).toBe('Always');
    expect(tpl.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(tpl.spec.serviceAccountName).toBe('shared');
    expect(find(r, 'ServiceAccount')).toBeUndefined();
    expect(tpl.metadata.annotations['example.com/a']).toBe('b');
    expect(tpl.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'proxmox-diode-agent',
      'app.kubernetes.io/instance': 'proxmox-diode-agent',
      team: 'netops',
    });
    expect(deployment(r).spec.selector.matchLabels).not.toHaveProperty('team');
    expect(tpl.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 2000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({ privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    expect(tpl.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(tpl.spec.tolerations).toHaveLength(1);
    expect(tpl.spec.affinity.nodeAffinity).toBeDefined();
    expect(c.env.at(-1)).toEqual({ name: 'TZ', value: 'Europe/Amsterdam' });
    expect(tpl.spec.volumes.at(-1)).toEqual({ name: 'pve-ca', secret: { secretName: 'pve-ca' } });
    expect(c.volumeMounts.at(-1)).toEqual({ name: 'pve-ca', mountPath: '/etc/diode-agent/ca', readOnly: true });
    // A digest wins over the tag; without a tag the chart's appVersion is used.
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(container(render({ ...MINIMAL, image: { repository: 'pda', digest } })).image).toBe(`pda@${digest}`);
    expect(container(render({ ...MINIMAL, fullnameOverride: 'pda' })).image).toBe('proxmox-diode-agent:0.1.0');
    expect(deployment(render({ ...MINIMAL, fullnameOverride: 'pda' })).metadata.name).toBe('pda');
  });
});

describe('helm chart: replicas, state and monitoring', () => {
  it('refuses replicaCount > 1 without Redis, with a message that says what to set', () => {
    expect(() => render({ ...MINIMAL, replicaCount: 2 })).toThrow(/replicaCount is 2, but more than one replica needs Redis: set coordination\.redisUrl/);
  });

  it('runs several replicas with Redis: the URL from the values or from a Secret, coordination in agent.yaml', () => {
    const r = render({ ...MINIMAL, replicaCount: 3, coordination: { redisUrl: 'redis://redis.netbox.svc:6379/0' } });
    expect(deployment(r).spec.replicas).toBe(3);
    expect((container(r).env as Obj[]).find((e) => e.name === 'REDIS_URL')).toEqual({ name: 'REDIS_URL', value: 'redis://redis.netbox.svc:6379/0' });
    expect(agentYaml(r).coordination).toEqual({ redis_url: '${env:REDIS_URL}' });
    const s = render({ ...MINIMAL, replicaCount: 2, coordination: { existingSecret: 'redis', existingSecretKey: 'url' } });
    expect((container(s).env as Obj[]).find((e) => e.name === 'REDIS_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'redis', key: 'url' } });
    expect(agentAccepts(s, { DIODE_CLIENT_ID: 'i', DIODE_CLIENT_SECRET: 's', REDIS_URL: 'redis://:pw@redis:6379/0' }).cfg.coordination).toMatchObject({
      redis_url: 'redis://:pw@redis:6379/0',
    });
    expect(agentYaml(render(MINIMAL))).not.toHaveProperty('coordination');
  });

  it('refuses replicas with a state volume: with Redis the state lives there', () => {
    expect(() => render({ ...MINIMAL, replicaCount: 2, coordination: { redisUrl: 'redis://r:6379' }, persistence: { enabled: true } })).toThrow(
      /with replicaCount > 1 the delta state lives in Redis/,
    );
  });

  it('uses strategy Recreate when a ReadWriteOnce volume holds the state', () => {
    const r = render({ ...MINIMAL, persistence: { enabled: true, size: '2Gi', storageClass: 'fast' } });
    expect(deployment(r).spec.strategy).toEqual({ type: 'Recreate' });
    const pvc = get(r, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'fast' });
    expect(deployment(r).spec.template.spec.volumes[2]).toEqual({ name: 'state', persistentVolumeClaim: { claimName: 'proxmox-diode-agent-state' } });
    const existing = render({ ...MINIMAL, persistence: { enabled: true, existingClaim: 'agent-state', accessModes: ['ReadWriteOncePod'] } });
    expect(find(existing, 'PersistentVolumeClaim')).toBeUndefined();
    expect(deployment(existing).spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment(existing).spec.template.spec.volumes[2].persistentVolumeClaim.claimName).toBe('agent-state');
    // A volume many pods may mount keeps the rolling update.
    expect(deployment(render({ ...MINIMAL, persistence: { enabled: true, accessModes: ['ReadWriteMany'] } })).spec).not.toHaveProperty('strategy');
  });

  it('adds the ServiceMonitor only when the cluster serves monitoring.coreos.com/v1, and says so otherwise', () => {
    const values = { ...MINIMAL, serviceMonitor: { enabled: true, interval: '1m', scrapeTimeout: '10s', labels: { release: 'prometheus' } } };
    const served = render(values, { apiVersions: WITH_PROMETHEUS });
    const sm = get(served, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'proxmox-diode-agent', 'app.kubernetes.io/instance': 'proxmox-diode-agent' } },
      namespaceSelector: { matchNames: ['netbox'] },
      endpoints: [{ port: 'status', path: '/metrics', interval: '1m', scrapeTimeout: '10s' }],
    });
    expect(get(served, 'Service').metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(served.notes).not.toMatch(/WARNING/);
    const absent = render(values);
    expect(find(absent, 'ServiceMonitor')).toBeUndefined();
    expect(absent.notes).toMatch(/WARNING: serviceMonitor\.enabled is true, but this cluster does not serve\nmonitoring\.coreos\.com\/v1/);
    expect(find(render(MINIMAL, { apiVersions: WITH_PROMETHEUS }), 'ServiceMonitor')).toBeUndefined();
  });
});

describe('helm chart: NOTES.txt', () => {
  it('names the release, the target, the credential, the policies and how to check them', () => {
    const notes = render(readmeValues(), { apiVersions: WITH_PROMETHEUS }).notes;
    expect(notes).toContain('proxmox-diode-agent 0.1.0 is installed as proxmox-diode-agent in namespace netbox.');
    expect(notes).toContain('Diode:      grpcs://netbox.example.com/diode');
    expect(notes).toContain('Credential: Secret diode-agent-credentials (keys client-id, client-secret)');
    expect(notes).toContain('Policies:   pve-lab.yaml');
    expect(notes).toContain('kubectl -n netbox exec deploy/proxmox-diode-agent -- diode-agent validate');
    expect(render(MINIMAL).notes).toContain('Policies:   none yet.');
  });
});

describe('image entrypoint', () => {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');

  it('runs node with the heap flags the benchmark measures (agent/node-flags.ts)', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['node', ...NODE_FLAGS, '/app/bin/diode-agent.js']);
  });

  it('puts diode-agent on PATH with the same flags', () => {
    expect(dockerfile).toContain(`exec node ${NODE_FLAGS.join(' ')} /app/bin/diode-agent.js "$@"`);
  });
});
