import { existsSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pino } from 'pino';
import { Agent } from './agent.ts';
import { parseCli, type CliArgs } from './cli-args.ts';
import { COLLECTORS } from './collectors/registry.ts';
import { AgentConfigError, loadAgentConfig, loadPolicies, type AgentConfig, type LoadOptions, type PolicySource } from './config/load.ts';
import { agentJsonSchema, policyJsonSchema, SCHEMA_FILES } from './config/json-schema.ts';
import { DiodeClient } from './diode/client.ts';
import { replay } from './replay.ts';
import { validateLive } from './preflight/index.ts';
import { ConfigError, EXIT, formatIssue, runsExitCode, type ConfigIssue } from './errors.ts';
import { createLogger, redactSecrets, type LogLevel } from './log.ts';
import type { RunResult } from './pipeline/result.ts';
import { AGENT_VERSION } from './version.ts';
import { StatusServer } from './telemetry/status-server.ts';

export { parseCli } from './cli-args.ts';

/** Where the agent looks for agent.yaml without -c, in order. */
export const CONFIG_CANDIDATES = ['agent.yaml', '/etc/diode-agent/agent.yaml'] as const;

/** -c, else $DIODE_AGENT_CONFIG, else the first candidate that exists; when none does, an error naming each place. */
export function findConfig(explicit: string | undefined, env: NodeJS.ProcessEnv): { file: string } | { error: string } {
  if (explicit !== undefined) return { file: explicit };
  if (env.DIODE_AGENT_CONFIG) return { file: env.DIODE_AGENT_CONFIG };
  const found = CONFIG_CANDIDATES.find((f) => existsSync(f));
  if (found) return { file: found };
  const looked = CONFIG_CANDIDATES.map((f) => resolve(f));
  return {
    error: `no configuration found: no -c FILE, $DIODE_AGENT_CONFIG is not set, and neither ${looked.join(' nor ')} exists; give one with -c FILE or DIODE_AGENT_CONFIG`,
  };
}

export interface SummaryOptions {
  /** Problems of policy files that did not load; listed after the runs. */
  notLoaded?: readonly ConfigIssue[];
}

/**
 * The summary of one run as lines, section by section; a section with nothing to say
 * gives none. Further sections go into RUN_SUMMARY in the order they should print.
 */
export type SummarySection = (r: RunResult) => string[];

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export const RUN_SUMMARY: SummarySection[] = [
  (r) => [`${r.policy} (${r.collector}): ${r.status} in ${(r.durationMs / 1000).toFixed(2)}s, ${r.apiRequests} API requests, ${r.warnings.length} warnings`],
  (r) => {
    const kinds = Object.entries(r.collected)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return kinds ? [`  entities: ${kinds}`] : [];
  },
  (r) => {
    if (r.dryRunFiles === undefined) return [`  sent: ${total(r.sent)} entities in ${r.diode.requests} requests (${r.diode.bytes} bytes)`];
    // A dry run sends nothing: it says where the requests went, so the files can be found and told apart.
    const files = r.dryRunFiles;
    const where = files.length === 0 ? '' : files.length === 1 ? `: ${files[0]}` : `: ${files[0]} … ${basename(files[files.length - 1] ?? '')}`;
    return [`  written: ${total(r.sent)} entities in ${files.length} ${files.length === 1 ? 'file' : 'files'} (${r.diode.bytes} bytes)${where}`];
  },
  (r) => r.warnings.map((w) => `  warning: ${w.subject}: ${w.message} [${w.code}]`),
  (r) => r.diode.errors.slice(0, 10).map((e) => `  diode error: ${e}`),
  (r) => {
    const rb = r.diode.readBack;
    if (rb?.status === 'unavailable') return [`  diode read-back unavailable: ${rb.error ?? ''}`];
    return rb
      ? [
          `  diode read-back: ${rb.applied} applied, ${rb.noChanges} unchanged, ${rb.failed} failed, ${rb.ignored} ignored, ${rb.unconfirmed} unconfirmed${rb.error ? ` (${rb.error})` : ''}`,
        ]
      : [];
  },
  (r) => {
    const failed = r.diode.failed ?? [];
    const lines = failed.slice(0, 20).map((f) => `  failed in diode: ${f.kind} ${f.key}: ${f.error}`);
    if (failed.length > 20) lines.push(`  failed in diode: ${failed.length - 20} more (see /status)`);
    return lines;
  },
  (r) => (r.error ? [`  error: ${r.error}${r.retryable ? ' (retryable: a later run may succeed with nothing changed)' : ''}`] : []),
  (r) => (r.stateError ? [`  state not saved: ${r.stateError}`] : []),
];

export function formatSummary(results: readonly RunResult[], opts: SummaryOptions = {}): string {
  const lines = results.flatMap((r) => RUN_SUMMARY.flatMap((section) => section(r)));
  // A policy that did not load has no run: its reasons, each as validate prints it.
  for (const issue of opts.notLoaded ?? []) lines.push(`not loaded: ${formatIssue(issue)}`);
  // Warnings and errors quote upstream answers, which may echo the credential sent;
  // the same scrubber as the logs and /status.
  return lines.map(redactSecrets).join('\n');
}

function printIssues(issues: readonly ConfigIssue[]): void {
  process.stderr.write(redactSecrets(`${issues.map(formatIssue).join('\n')}\n`));
}

function loadOptions(args: CliArgs): LoadOptions {
  return { dryRun: args.dryRun, ...(args.dryRunDir !== undefined ? { dryRunDir: args.dryRunDir } : {}) };
}

/** agent.yaml for a command, or the exit code when there is none to run with. */
function configFor(args: CliArgs, env: NodeJS.ProcessEnv): AgentConfig | number {
  const found = findConfig(args.config, env);
  if ('error' in found) {
    process.stderr.write(`diode-agent ${args.command}: ${found.error}\n`);
    return EXIT.usage;
  }
  try {
    return loadAgentConfig(found.file, env, loadOptions(args));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    printIssues(err.issues);
    return EXIT.usage;
  }
}

/**
 * `validate`: agent.yaml, $LOG_LEVEL, the policies and the directory the agent writes to,
 * all at once. The policies are checked even when the rest of agent.yaml is not valid, as
 * long as its policies section says where they are.
 */
function validate(args: CliArgs, env: NodeJS.ProcessEnv): number {
  const found = findConfig(args.config, env);
  if ('error' in found) {
    process.stderr.write(`diode-agent validate: ${found.error}\n`);
    return EXIT.usage;
  }
  const issues: ConfigIssue[] = [];
  let cfg: AgentConfig | undefined;
  let source: PolicySource | undefined;
  try {
    cfg = loadAgentConfig(found.file, env, loadOptions(args));
    source = cfg;
    if (cfg.stateDirProblem) issues.push(cfg.stateDirProblem);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
    if (err instanceof AgentConfigError) source = err.policies;
  }
  const set = source ? loadPolicies(source, COLLECTORS, env) : undefined;
  issues.push(...(set?.issues ?? []));
  if (issues.length) {
    printIssues(issues);
    return EXIT.failed;
  }
  const names = set?.policies.map((p) => p.name) ?? [];
  process.stdout.write(`${found.file}: OK (${names.length} ${names.length === 1 ? 'policy' : 'policies'}: ${names.join(', ')})\n`);
  return EXIT.ok;
}

/**
 * The log level of a command. `once` on a terminal shows its summary on the same screen as
 * the logs: unless LOG_LEVEL or agent.log_level asks for more, only warnings and errors
 * (the summary has the rest); --quiet turns the logs off.
 */
function logLevel(args: CliArgs, cfg: AgentConfig): LogLevel {
  if (args.command !== 'once') return cfg.agent.log_level;
  if (args.quiet) return 'silent';
  if (process.stderr.isTTY && cfg.logLevelSource === 'default') return 'warn';
  return cfg.agent.log_level;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCli(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return EXIT.ok;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(parsed.text);
    return EXIT.usage;
  }
  const args = parsed.args;
  switch (args.command) {
    case 'version':
      process.stdout.write(`${AGENT_VERSION}\n`);
      return EXIT.ok;
    case 'validate': {
      const code = validate(args, env);
      if (code !== 0 || !args.live) return code;
      const found = findConfig(args.config, env);
      if ('error' in found) return EXIT.usage;
      const live = await validateLive(found.file, env, { policies: args.policies, dryRun: args.dryRun });
      process.stdout.write(`${live.text}\n`);
      return live.code;
    }
    case 'schema': {
      const schemas = { agent: agentJsonSchema(), policy: policyJsonSchema(COLLECTORS) };
      if (args.write) {
        const root = new URL('..', import.meta.url);
        for (const [k, file] of Object.entries(SCHEMA_FILES))
          writeFileSync(new URL(file, root), `${JSON.stringify(schemas[k as keyof typeof schemas], null, 2)}\n`);
        process.stdout.write(`wrote ${Object.values(SCHEMA_FILES).join(', ')}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(args.agent ? schemas.agent : schemas.policy, null, 2)}\n`);
      }
      return EXIT.ok;
    }
    case 'replay': {
      const dir = args.positionals[0] ?? '';
      const cfg = configFor(args, env);
      if (typeof cfg === 'number') return cfg;
      if (!cfg.diode.target || !cfg.diode.client_id || !cfg.diode.client_secret) {
        process.stderr.write(`${cfg.file}: diode: replay needs target, client_id and client_secret\n`);
        return EXIT.usage;
      }
      const log = createLogger({ level: cfg.agent.log_level, destination: stderrLogs() });
      const client = new DiodeClient({
        target: cfg.diode.target,
        clientId: cfg.diode.client_id,
        clientSecret: cfg.diode.client_secret,
        caFile: cfg.diode.ca_file,
        skipTlsVerify: cfg.diode.skip_tls_verify,
        timeoutMs: cfg.diode.timeout,
        maxAttempts: cfg.diode.max_attempts,
        backoffMaxMs: cfg.diode.backoff_max,
        log,
      });
      try {
        const r = await replay(dir, client, log);
        process.stdout.write(
          redactSecrets(
            `replayed ${r.requests} of ${r.files} files${r.errors.length ? `, ${r.errors.length} ingestion errors` : ''}\n${r.errors.slice(0, 20).join('\n')}`,
          ),
        );
        return r.errors.length ? EXIT.failed : EXIT.ok;
      } catch (err) {
        process.stderr.write(redactSecrets(`replay stopped: ${(err as Error).message}\n`));
        return EXIT.failed;
      } finally {
        await client.close();
      }
    }
    case 'once':
    case 'run': {
      const cfg = configFor(args, env);
      if (typeof cfg === 'number') return cfg;
      const log = createLogger({ level: logLevel(args, cfg), destination: stderrLogs() });
      if (cfg.stateDirProblem) log.warn({ file: cfg.stateDirProblem.file, key: cfg.stateDirProblem.path }, formatIssue(cfg.stateDirProblem));
      // Validated, its password registered as a secret, by loadAgentConfig.
      const redisUrl = cfg.coordination?.redis_url;
      // ioredis is loaded only when coordination is configured: ~9 MB of RSS otherwise unused.
      const coordination = redisUrl ? await import('./coordination/redis.ts') : undefined;
      const redis = redisUrl && coordination ? coordination.connectRedis(redisUrl, log) : undefined;
      const prefix = cfg.coordination?.key_prefix ?? 'diode-agent';
      const agent = new Agent(cfg, COLLECTORS, log, {
        env,
        background: args.command === 'run',
        ...(args.command === 'once' && process.stderr.isTTY && !args.quiet ? { progressTty: process.stderr } : {}),
        ...(args.dryRun ? { dryRun: true } : {}),
        ...(redis && coordination
          ? {
              store: new coordination.RedisStateStore(redis, prefix),
              coordinator: new coordination.RedisRunCoordinator(redis, prefix),
              onStopped: async () => {
                await redis.quit().catch(() => redis.disconnect());
              },
            }
          : {}),
      });
      agent.loadPolicies();
      if (args.command === 'once') {
        const unknown = args.policies.filter((n) => !agent.policies.some((p) => p.name === n));
        if (unknown.length) {
          const known = agent.policies.map((p) => p.name);
          process.stderr.write(`no such policy: ${unknown.join(', ')} (loaded: ${known.length ? known.join(', ') : 'none'})\n`);
          for (const issue of agent.policyIssues) process.stderr.write(redactSecrets(`not loaded: ${formatIssue(issue)}\n`));
          await agent.stop(0);
          return EXIT.failed;
        }
        const results = await agent.once(args.policies);
        await agent.stop(0);
        process.stdout.write(`${formatSummary(results, { notLoaded: agent.policyIssues })}\n`);
        // A state that was not saved fails `once` too: cron and Jobs see only the exit code.
        return runsExitCode(results, agent.policyIssues.length);
      }
      if (agent.policies.length === 0) {
        if (!cfg.policiesDir) {
          log.fatal({ problems: agent.policyIssues.length }, 'no valid policy to run, and no policies.dir to wait for one in');
          await agent.stop(0);
          return EXIT.failed;
        }
        // In Kubernetes an exit here is a crash loop with nothing to show; up and not ready,
        // /status lists the problems, and the first valid file starts (hot reload).
        log.error({ dir: cfg.policiesDir, problems: agent.policyIssues.length }, 'no valid policy yet; waiting for one in policies.dir (not ready until then)');
      }
      let status: StatusServer | undefined;
      if (cfg.agent.status.enabled) {
        const listen = cfg.agent.status.listen ?? env.DIODE_AGENT_STATUS_LISTEN ?? '127.0.0.1:9464';
        status = new StatusServer(agent, agent.metrics);
        try {
          await status.listen(listen);
          log.info({ listen, port: status.port }, 'status server listening');
        } catch (err) {
          log.fatal({ listen, err }, 'cannot start the status server');
          await agent.stop(0);
          return EXIT.failed;
        }
      }
      agent.start();
      agent.watchPolicies();
      const code = await waitForSignals(agent, cfg.agent.shutdown_grace_period, log);
      await status?.close();
      return code;
    }
  }
}

/*
 * Log lines go to stderr synchronously, in the order they are logged. pino's default
 * SonicBoom writes asynchronously, and a fatal line is flushed synchronously at once
 * (pino lib/levels.js `fatal` calls flushSync), so it could land ahead of an error line
 * still being written; the summary on stdout could also overtake buffered lines. The agent
 * logs a few lines per run, so a write per line costs nothing worth the reordering.
 */
function stderrLogs(): ReturnType<typeof pino.destination> {
  return pino.destination({ dest: 2, sync: true });
}

/** SIGTERM/SIGINT: graceful stop within the grace period, exit 0; a second signal exits at once. */
function waitForSignals(agent: Agent, graceMs: number, log: ReturnType<typeof createLogger>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal: sig }, 'second signal, exiting now');
        process.exit(EXIT.interrupted);
      }
      stopping = true;
      log.info({ signal: sig, grace_ms: graceMs }, 'stopping');
      void agent.stop(graceMs).then(() => {
        log.info('stopped');
        resolve(EXIT.ok);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
