import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { CollectorDefinition } from '../collectors/types.ts';
import { ConfigError, sortIssues, type ConfigIssue, errorCode } from '../errors.ts';
import { logLevelFromEnv, registerSecret } from '../log.ts';
import { errorMap, didYouMean, toConfigIssues } from './issues.ts';
import { FileTooLargeError, readLimited } from './read-limited.ts';
import { redisPasswordForms } from './redis-url.ts';
import { agentConfigSchema, policyEnvelope, type DiodeConfig } from './schema.ts';
import { substitute, type SubstitutionProblem } from './substitute.ts';
import { dirWriteProblem } from './writable.ts';
import { YamlSource } from './yaml-source.ts';

export type Registry = ReadonlyMap<string, CollectorDefinition>;

type Envelope = z.output<z.ZodObject<typeof policyEnvelope>>;

export interface Policy extends Envelope {
  collector: string;
  /** Validated by `def.configSchema`; only the definition reads it, typed there (CollectorDefinition<C>). */
  config: unknown;
  def: CollectorDefinition;
  /** Where it came from, for messages. */
  source: string;
  /** Content hash of the validated policy; a change forces a full resync. */
  hash: string;
}

export interface AgentConfig {
  file: string;
  dir: string;
  /** agent.log_level is already overridden by $LOG_LEVEL. */
  agent: z.output<typeof agentConfigSchema>['agent'];
  /** Where agent.log_level came from: `once` on a terminal quietens only the default. */
  logLevelSource: 'env' | 'file' | 'default';
  /** dry_run_output_dir resolved: --dry-run-dir, the key, or <state_dir>/dry-run. */
  diode: DiodeConfig & { dry_run_output_dir: string };
  coordination: z.output<typeof agentConfigSchema>['coordination'];
  policiesDir?: string | undefined;
  inlinePolicies: unknown[];
  /**
   * agent.state_dir cannot be written (not checked for dry runs and with Redis): `validate`
   * reports it, `run` and `once` warn, and each run then ends partial with its state_error.
   */
  stateDirProblem?: ConfigIssue;
}

export interface PolicySet {
  policies: Policy[];
  /** Problems of policies that did not load; the others still run. */
  issues: ConfigIssue[];
  /** policies.dir, when it could not be listed at all. */
  unreadableDir?: string;
}

export { MAX_CONFIG_FILE_BYTES } from './read-limited.ts';

function readSource(file: string): YamlSource {
  let text: string;
  try {
    text = readLimited(file);
  } catch (err) {
    if (err instanceof FileTooLargeError)
      throw new ConfigError([{ file, path: '', message: `file is too large (${err.size} bytes; configuration files are limited to 1 MiB)` }], { cause: err });
    const code = errorCode(err);
    throw new ConfigError([{ file, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? 'error'})` }], { cause: err });
  }
  return new YamlSource(file, text);
}

function substitutionIssues(src: YamlSource, problems: SubstitutionProblem[], base: Array<string | number> = []): ConfigIssue[] {
  return problems.map((p) => src.issue([...base, ...p.path], p.message));
}

/** Drops zod issues on paths whose substitution already failed (one cause, one line). */
function withoutShadowed(issues: ConfigIssue[], problems: SubstitutionProblem[], base: Array<string | number>): ConfigIssue[] {
  const failed = new Set(problems.map((p) => [...base, ...p.path].join('.')));
  return issues.filter((i) => !failed.has(i.path));
}

export interface LoadOptions {
  /** The CLI's --dry-run: the dry-run directory must be writable even if diode.dry_run is false. */
  dryRun?: boolean;
  /** The CLI's --dry-run-dir: replaces diode.dry_run_output_dir (relative to the working directory). */
  dryRunDir?: string;
}

/** Where the agent.yaml's policies are, for loading them when the rest of agent.yaml is invalid. */
export type PolicySource = Pick<AgentConfig, 'file' | 'policiesDir' | 'inlinePolicies'>;

/**
 * agent.yaml is invalid. `policies` is set when its policies section is valid, so that
 * `validate` reports the policies' problems with agent.yaml's rather than after they are fixed.
 */
export class AgentConfigError extends ConfigError {
  readonly policies?: PolicySource;
  constructor(issues: ConfigIssue[], policies?: PolicySource, options?: { cause?: unknown }) {
    super(issues, options);
    if (policies) this.policies = policies;
  }
}

function policySource(file: string, dir: string, pol: z.output<typeof agentConfigSchema>['policies']): PolicySource {
  const policiesDir = Array.isArray(pol) ? undefined : pol.dir;
  return { file, policiesDir: policiesDir ? resolve(dir, policiesDir) : undefined, inlinePolicies: Array.isArray(pol) ? pol : pol.inline };
}

/** Loads and validates agent.yaml. Throws ConfigError listing every problem. */
export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): AgentConfig {
  const abs = resolve(file);
  const dir = dirname(abs);
  const src = readSource(abs);
  if (src.parseIssues.length) throw new ConfigError(src.parseIssues);
  const raw = src.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([src.issue([], 'expected a mapping with agent, diode and policies')]);
  // Policies are substituted and validated one by one later, so one bad policy cannot
  // fail the agent configuration.
  const { policies, ...rest } = raw as Record<string, unknown>;
  const problems: SubstitutionProblem[] = [];
  const substituted = substitute(rest, dir, env, problems) as Record<string, unknown>;
  // The Redis password sits inside a URL whose key is not secret-looking; it is masked in
  // every output, valid URL or not, as written and percent-decoded.
  const redisUrl = (substituted.coordination as { redis_url?: unknown } | undefined)?.redis_url;
  if (typeof redisUrl === 'string') for (const pw of redisPasswordForms(redisUrl)) registerSecret(pw);
  const parsed = agentConfigSchema.safeParse({ ...substituted, ...(policies !== undefined ? { policies } : {}) }, { error: errorMap });
  const issues = substitutionIssues(src, problems);
  if (!parsed.success) issues.push(...withoutShadowed(toConfigIssues(src, parsed.error), problems, []));
  const envLevel = logLevelFromEnv(env);
  if (envLevel.issue) issues.push(envLevel.issue);
  const stateDir = parsed.success ? resolve(dir, parsed.data.agent.state_dir) : undefined;
  // The default is under the state directory, which the agent writes anyway: next to
  // agent.yaml it would be on the read-only configuration mount of the container image.
  const dryRunDir =
    opts.dryRunDir !== undefined
      ? resolve(opts.dryRunDir)
      : parsed.success && stateDir !== undefined
        ? parsed.data.diode.dry_run_output_dir !== undefined
          ? resolve(dir, parsed.data.diode.dry_run_output_dir)
          : join(stateDir, 'dry-run')
        : undefined;
  const dryRun = opts.dryRun === true || opts.dryRunDir !== undefined || (parsed.success && parsed.data.diode.dry_run);
  // Checked here, for `validate` and before a run starts, rather than found by mkdir in the
  // middle of the first delivery.
  if (parsed.success && dryRun && dryRunDir !== undefined) {
    const problem = dirWriteProblem(dryRunDir);
    const key = ['diode', 'dry_run_output_dir'];
    const from =
      opts.dryRunDir !== undefined
        ? ' (--dry-run-dir)'
        : parsed.data.diode.dry_run_output_dir === undefined
          ? ' (the default, under agent.state_dir; set diode.dry_run_output_dir or --dry-run-dir)'
          : '';
    const message = `cannot write dry-run files to ${dryRunDir}${from}: ${problem}`;
    if (problem) issues.push(src.doc.hasIn(key) && opts.dryRunDir === undefined ? src.issue(key, message) : { file: abs, path: key.join('.'), message });
  }
  const policiesOk = agentConfigSchema.shape.policies.safeParse(policies, { error: errorMap });
  if (issues.length || !parsed.success) throw new AgentConfigError(issues, policiesOk.success ? policySource(abs, dir, policiesOk.data) : undefined);
  const c = parsed.data;
  // A dry run reads the state and never writes it; with Redis the state is not on disk.
  let stateDirProblem: ConfigIssue | undefined;
  if (!dryRun && !c.coordination?.redis_url && stateDir !== undefined) {
    const problem = dirWriteProblem(stateDir);
    const key = ['agent', 'state_dir'];
    const message = `cannot save the delta state in ${stateDir}${src.doc.hasIn(key) ? '' : ' (the default)'}: ${problem}; every run would resend everything and be partial`;
    if (problem) stateDirProblem = src.doc.hasIn(key) ? src.issue(key, message) : { file: abs, path: key.join('.'), message };
  }
  const logKey = ['agent', 'log_level'];
  return {
    ...policySource(abs, dir, c.policies),
    dir,
    agent: { ...c.agent, state_dir: stateDir ?? resolve(dir, c.agent.state_dir), log_level: envLevel.level ?? c.agent.log_level },
    logLevelSource: envLevel.level ? 'env' : src.doc.hasIn(logKey) ? 'file' : 'default',
    diode: {
      ...c.diode,
      dry_run_output_dir: dryRunDir ?? join(resolve(dir, c.agent.state_dir), 'dry-run'),
      ...(c.diode.ca_file ? { ca_file: resolve(dir, c.diode.ca_file) } : {}),
    },
    coordination: c.coordination,
    ...(stateDirProblem ? { stateDirProblem } : {}),
  };
}

const schemaCache = new WeakMap<CollectorDefinition, z.ZodType>();

export function policySchemaFor(def: CollectorDefinition): z.ZodType {
  let s = schemaCache.get(def);
  if (!s) {
    s = z.object({ ...policyEnvelope, collector: z.literal(def.id), config: def.configSchema }).strict();
    schemaCache.set(def, s);
  }
  return s;
}

/** The discriminated union of every collector's policy schema (for JSON Schema export). */
export function policyUnionSchema(registry: Registry): z.ZodType {
  const options = [...registry.values()].map((d) => policySchemaFor(d)) as [z.ZodObject, ...z.ZodObject[]];
  return z.discriminatedUnion('collector', options);
}

/** Validates one policy value found at `base` in `src`. */
export function parsePolicy(
  src: YamlSource,
  value: unknown,
  base: Array<string | number>,
  registry: Registry,
  env: NodeJS.ProcessEnv,
): { policy?: Policy; issues: ConfigIssue[] } {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { issues: [src.issue(base, 'a policy must be a mapping with name, collector and config')] };
  const problems: SubstitutionProblem[] = [];
  const v = substitute(value, dirname(src.file), env, problems) as Record<string, unknown>;
  const issues = substitutionIssues(src, problems, base);
  const collector = v.collector;
  const def = typeof collector === 'string' ? registry.get(collector) : undefined;
  if (!def) {
    const known = [...registry.keys()];
    const hint = typeof collector === 'string' ? didYouMean(collector, known) : undefined;
    const msg =
      collector === undefined
        ? 'is required'
        : `unknown collector "${String(collector)}" (known: ${known.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`;
    issues.push(src.issue([...base, 'collector'], msg));
    return { issues };
  }
  const parsed = policySchemaFor(def).safeParse(v, { error: errorMap });
  if (!parsed.success) issues.push(...withoutShadowed(toConfigIssues(src, parsed.error, base), problems, base));
  if (issues.length || !parsed.success) return { issues };
  const data = parsed.data as Envelope & { collector: string; config: unknown };
  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
  const where = src.position(base);
  return { policy: { ...data, def, source: `${src.file}${where.line ? `:${where.line}` : ''}`, hash }, issues };
}

/** Why a directory entry that looked like a policy file cannot be opened. */
function entryProblem(file: string, err: unknown): string | undefined {
  const code = errorCode(err) ?? 'error';
  if (code === 'ELOOP') return 'cannot read file: symlink loop';
  if (code === 'ENOENT') {
    let target: string | undefined;
    try {
      if (lstatSync(file).isSymbolicLink()) target = readlinkSync(file);
    } catch {
      return undefined; // gone since readdir: nothing to report
    }
    return target === undefined ? undefined : `cannot read file: dangling symlink to ${target}`;
  }
  return `cannot read file (${code})`;
}

/**
 * The policy files of `dir`: every *.yaml / *.yml that is (or links to) a regular file, not
 * recursing. Hidden entries are skipped: Kubernetes reserves names starting with `..` for its
 * ConfigMap/Secret volume bookkeeping (`..data`, `..2026_12_03_…` timestamped directories,
 * `..data_tmp`; kubernetes/kubernetes pkg/volume/util/atomic_writer.go), editors write
 * `.x.yaml.swp`. An entry that cannot be opened (a dangling link, which that writer leaves
 * for a moment on every update, or a loop) is an issue of that file alone.
 */
export function policyFiles(dir: string): { files: string[]; issues: ConfigIssue[] } {
  const out: { files: string[]; issues: ConfigIssue[] } = { files: [], issues: [] };
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || !/\.ya?ml$/.test(name)) continue;
    const file = join(dir, name);
    try {
      if (statSync(file).isFile()) out.files.push(file);
    } catch (err) {
      const message = entryProblem(file, err);
      if (message) out.issues.push({ file, path: '', message });
    }
  }
  return out;
}

/** Loads every policy (directory files, then inline ones); bad ones become issues. */
export function loadPolicies(cfg: PolicySource, registry: Registry, env: NodeJS.ProcessEnv = process.env): PolicySet {
  const out: PolicySet = { policies: [], issues: [] };
  const seen = new Map<string, string>();
  const accept = (r: { policy?: Policy; issues: ConfigIssue[] }, src: YamlSource, base: Array<string | number>): void => {
    out.issues.push(...r.issues);
    if (!r.policy) return;
    const prior = seen.get(r.policy.name);
    if (prior) {
      out.issues.push(src.issue([...base, 'name'], `duplicate policy name "${r.policy.name}" (already defined at ${prior})`));
      return;
    }
    seen.set(r.policy.name, r.policy.source);
    out.policies.push(r.policy);
  };
  if (cfg.policiesDir) {
    let files: string[] = [];
    try {
      const found = policyFiles(cfg.policiesDir);
      files = found.files;
      out.issues.push(...found.issues);
    } catch (err) {
      out.unreadableDir = cfg.policiesDir;
      out.issues.push({ file: cfg.file, path: 'policies.dir', message: `cannot read directory ${cfg.policiesDir} (${errorCode(err) ?? 'error'})` });
    }
    for (const f of files) {
      let src: YamlSource;
      try {
        src = readSource(f);
      } catch (err) {
        out.issues.push(...(err as ConfigError).issues);
        continue;
      }
      if (src.parseIssues.length) {
        out.issues.push(...src.parseIssues);
        continue;
      }
      let value: unknown;
      try {
        value = src.toJS();
      } catch (err) {
        out.issues.push(...(err as ConfigError).issues);
        continue;
      }
      accept(parsePolicy(src, value, [], registry, env), src, []);
    }
  }
  if (cfg.inlinePolicies.length) {
    const src = readSource(cfg.file);
    const inlineBase: Array<string | number> = Array.isArray((src.toJS() as { policies?: unknown }).policies) ? ['policies'] : ['policies', 'inline'];
    for (const [i, p] of cfg.inlinePolicies.entries()) accept(parsePolicy(src, p, [...inlineBase, i], registry, env), src, [...inlineBase, i]);
  }
  out.issues = sortIssues(out.issues);
  return out;
}
