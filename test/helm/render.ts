/*
 * Renders a Helm chart directory the way `helm template` / `helm install` does, for tests
 * on machines where helm cannot be installed. It follows helm.sh/helm/v3:
 *
 *   pkg/cli/values/options.go   mergeMaps: several -f files merge, later ones winning,
 *                               maps key by key.
 *   pkg/chartutil/coalesce.go   the user's values coalesce with the chart's values.yaml:
 *                               maps merge recursively, scalars and lists are replaced, and a
 *                               null removes the chart's key. (This is why a default policy
 *                               or secretEnv entry in values.yaml would reach every user.)
 *   pkg/chartutil/jsonschema.go values.schema.json validates the coalesced values (Helm 3
 *                               uses gojsonschema, draft 4 to 7; here ajv, draft-07).
 *   pkg/chartutil/values.go     ToRenderValues: .Values, .Release (a map: Name, Namespace,
 *                               Revision, Service "Helm", IsInstall, IsUpgrade), .Chart (the
 *                               Chart.yaml metadata struct, fields capitalised),
 *                               .Capabilities (KubeVersion, APIVersions with Has).
 *   pkg/engine/engine.go        every file under templates/ is parsed into one template set
 *                               named <chart>/templates/<file>; files starting with "_" are
 *                               not rendered; missingkey=zero and "<no value>" replaced by "";
 *                               .Template.Name/.BasePath per file; include/tpl/required bound
 *                               here; LintMode makes `required` answer "".
 *   pkg/releaseutil/manifest.go SplitManifests: documents split on "---", empty ones dropped;
 *                               NOTES.txt is rendered apart and not a manifest.
 *
 * Not covered: subcharts and dependencies, .Files, library charts, values templates,
 * --set parsing, the cluster side of `lookup` (it answers an empty map, as without a
 * cluster), post-renderers, hooks' ordering. The default APIVersions below are a subset of
 * what a Kubernetes 1.30 API server serves, not helm's full built-in list.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { HELM_ERR, deepCopy, helmFuncs } from './funcs.ts';
import { GoStruct, TemplateError, TemplateSet, isMap } from './template.ts';

export type Values = Record<string, unknown>;

/** Core API groups a current cluster serves; CRD groups (monitoring.coreos.com) are absent. */
export const DEFAULT_API_VERSIONS = [
  'v1',
  'apps/v1',
  'batch/v1',
  'policy/v1',
  'autoscaling/v1',
  'autoscaling/v2',
  'networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1',
  'storage.k8s.io/v1',
  'apiextensions.k8s.io/v1',
  'coordination.k8s.io/v1',
  'discovery.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'admissionregistration.k8s.io/v1',
];

export interface RenderOptions {
  /** Values files in -f order (already parsed), merged as helm merges them. */
  values?: Values | Values[];
  release?: { name?: string; namespace?: string; revision?: number; isUpgrade?: boolean };
  /** .Capabilities.APIVersions: what the cluster serves (helm template --api-versions adds to the defaults). */
  apiVersions?: string[];
  kubeVersion?: string;
  /** helm lint: `required` answers "" instead of failing. */
  lint?: boolean;
}

export interface RenderedManifest {
  /** e.g. proxmox-diode-agent/templates/deployment.yaml */
  source: string;
  object: Record<string, unknown>;
}

export interface RenderResult {
  values: Values;
  manifests: RenderedManifest[];
  notes: string;
}

/** YAML as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) reads it: yes/no/on/off are booleans. */
export function parseHelmYaml(text: string): unknown {
  return parseYaml(text, { version: '1.1' });
}

/** pkg/cli/values/options.go mergeMaps. */
export function mergeMaps(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isMap(v) && isMap(cur) ? mergeMaps(cur, v) : v;
  }
  return out;
}

/** pkg/chartutil/coalesce.go CoalesceTables: dst (the user's) wins; a null in dst deletes. */
function coalesceTables(dst: Values, src: Values): Values {
  for (const [key, val] of Object.entries(src)) {
    if (Object.hasOwn(dst, key) && dst[key] === null) delete dst[key];
    else if (!Object.hasOwn(dst, key)) dst[key] = deepCopy(val);
    else if (isMap(val) && isMap(dst[key])) coalesceTables(dst[key] as Values, val);
    // A table over a non-table (or the reverse) keeps the user's value, as helm does (with a warning).
  }
  return dst;
}

/** CoalesceValues for a chart without dependencies: the user's values over values.yaml. */
export function coalesceValues(chartValues: Values, user: Values): Values {
  const v = deepCopy(user);
  for (const [key, val] of Object.entries(chartValues)) {
    if (Object.hasOwn(v, key)) {
      if (v[key] === null) delete v[key];
      else if (isMap(v[key]) && isMap(val)) coalesceTables(v[key] as Values, val);
    } else {
      v[key] = deepCopy(val);
    }
  }
  return v;
}

const CHART_FIELDS: Record<string, string> = {
  name: 'Name',
  home: 'Home',
  sources: 'Sources',
  version: 'Version',
  description: 'Description',
  keywords: 'Keywords',
  maintainers: 'Maintainers',
  icon: 'Icon',
  apiVersion: 'APIVersion',
  condition: 'Condition',
  tags: 'Tags',
  appVersion: 'AppVersion',
  deprecated: 'Deprecated',
  annotations: 'Annotations',
  kubeVersion: 'KubeVersion',
  dependencies: 'Dependencies',
  type: 'Type',
};

/** pkg/chart/metadata.go Metadata: absent fields are Go zero values. */
function chartMetadata(raw: Record<string, unknown>): GoStruct {
  const fields: Record<string, unknown> = {};
  for (const [yamlKey, goName] of Object.entries(CHART_FIELDS)) {
    const zero = ['sources', 'keywords', 'maintainers', 'dependencies', 'annotations'].includes(yamlKey) ? null : yamlKey === 'deprecated' ? false : '';
    fields[goName] = raw[yamlKey] ?? zero;
  }
  return new GoStruct('*chart.Metadata', fields);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

export class SchemaError extends Error {
  override name = 'SchemaError';
  readonly errors: ErrorObject[];
  constructor(errors: ErrorObject[], chart: string) {
    super(
      `values don't meet the specifications of the schema(s) in the following chart(s):\n${chart}:\n${errors.map((e) => `- ${e.instancePath || '(root)'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('\n')}`,
    );
    this.errors = errors;
  }
}

/** Validates coalesced values against the chart's values.schema.json, as helm does before rendering. */
export function validateValues(chartDir: string, values: Values): void {
  const schemaFile = join(chartDir, 'values.schema.json');
  let schema: object;
  try {
    schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return;
    throw e;
  }
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  // Helm validates the JSON form of the values (yaml.Marshal then YAMLToJSON).
  const json = JSON.parse(JSON.stringify(values ?? {})) as unknown;
  if (!validate(json))
    throw new SchemaError(validate.errors ?? [], String((parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string }).name));
}

export function renderChart(chartDir: string, opts: RenderOptions = {}): RenderResult {
  const chartYaml = parseHelmYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const chartName = String(chartYaml.name);
  const defaults = (parseHelmYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Values;
  const userList = opts.values === undefined ? [] : Array.isArray(opts.values) ? opts.values : [opts.values];
  const user = userList.reduce<Values>((acc, v) => mergeMaps(acc, v), {});
  const values = coalesceValues(defaults, user);
  validateValues(chartDir, values);

  const apiVersions = opts.apiVersions ?? DEFAULT_API_VERSIONS;
  const kube = (opts.kubeVersion ?? 'v1.30.0').replace(/^v?/, 'v');
  const [, major = '1', minor = '30'] = /^v(\d+)\.(\d+)/.exec(kube) ?? [];
  const capabilities = new GoStruct('*chartutil.Capabilities', {
    KubeVersion: new GoStruct('chartutil.KubeVersion', { Version: kube, Major: major, Minor: minor }),
    APIVersions: new GoStruct('chartutil.VersionSet', { Has: (v: unknown) => apiVersions.includes(String(v)) }),
    HelmVersion: new GoStruct('version.BuildInfo', { Version: 'v3.16.0', GitCommit: '', GitTreeState: '', GoVersion: 'go1.22' }),
  });
  const top = (): Values => ({
    Values: values,
    Release: {
      Name: opts.release?.name ?? 'release-name',
      Namespace: opts.release?.namespace ?? 'default',
      Revision: BigInt(opts.release?.revision ?? 1),
      Service: 'Helm',
      IsInstall: !opts.release?.isUpgrade,
      IsUpgrade: Boolean(opts.release?.isUpgrade),
    },
    Chart: chartMetadata(chartYaml),
    Capabilities: capabilities,
    Files: new GoStruct('engine.files', { Get: () => '' }),
  });

  let tplCount = 0;
  const set: TemplateSet = new TemplateSet(
    helmFuncs({
      include: (name, data) => set.execute(name, data),
      tpl: (text, data) => {
        const name = `${chartName}/tpl#${++tplCount}`;
        set.add(name, text);
        return set.execute(name, data).replaceAll('<no value>', '');
      },
      lintMode: Boolean(opts.lint),
    }),
  );
  const templatesDir = join(chartDir, 'templates');
  const files = listFiles(templatesDir).map((p) => ({ path: p, name: `${chartName}/templates/${relative(templatesDir, p).split('\\').join('/')}` }));
  for (const file of files) set.add(file.name, readFileSync(file.path, 'utf8'));

  const rendered = new Map<string, string>();
  for (const file of files) {
    const base = file.name.split('/').pop()!;
    if (base.startsWith('_')) continue;
    const dot = { ...top(), Template: { Name: file.name, BasePath: `${chartName}/templates` } };
    try {
      rendered.set(file.name, set.execute(file.name, dot).replaceAll('<no value>', ''));
    } catch (e) {
      throw cleanupExecError(e);
    }
  }

  const manifests: RenderedManifest[] = [];
  let notes = '';
  for (const [name, text] of rendered) {
    if (name.endsWith('NOTES.txt')) {
      notes = text;
      continue;
    }
    if (!/\.ya?ml$/.test(name)) continue;
    for (const part of text.split(/(?:^|\s*\n)---\s*/)) {
      if (!part.trim()) continue;
      const docs = parseAllDocuments(part, { version: '1.1' });
      for (const d of docs) {
        if (d.errors.length) throw new Error(`YAML parse error on ${name}: ${d.errors[0]!.message}\n${part}`);
        const object = d.toJS() as unknown;
        if (object === null || object === undefined) continue;
        if (!isMap(object)) throw new Error(`${name}: a manifest must be a mapping, got ${typeof object}`);
        manifests.push({ source: name, object });
      }
    }
  }
  return { values, manifests, notes };
}

/**
 * engine.go cleanupExecError cuts a `required` message out of Go's error text (warnWrap's
 * markers) and reports "execution error at (file:line:col): message". A `fail` message is
 * shortened the same way here so that tests read it alone; helm prints it after Go's own
 * "error calling fail:" prefix.
 */
function cleanupExecError(e: unknown): Error {
  if (!(e instanceof TemplateError)) return e as Error;
  const loc = /^template: ([^:]+:\d+)/.exec(e.message)?.[1] ?? '?';
  const warn = new RegExp(`${HELM_ERR.start}([\\s\\S]*)${HELM_ERR.end}`).exec(e.message);
  if (warn) return new TemplateError(`execution error at (${loc}): ${warn[1]}`);
  const failed = /error calling fail: ([\s\S]*)$/.exec(e.message);
  if (failed) return new TemplateError(`execution error at (${loc}): ${failed[1]}`);
  return e;
}
