import { existsSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { Agent } from './agent.ts';
import { COLLECTORS } from './collectors/registry.ts';
import { loadAgentConfig, loadPolicies } from './config/load.ts';
import { agentJsonSchema, policyJsonSchema, SCHEMA_FILES } from './config/json-schema.ts';
import { DiodeClient } from './diode/client.ts';
import { replay } from './replay.ts';
import { ConfigError, formatIssue } from './errors.ts';
import { createLogger, redactSecrets, registerSecret } from './log.ts';
import type { RunResult } from './run.ts';
import { AGENT_VERSION } from './version.ts';
import { StatusServer } from './telemetry/status-server.ts';

const USAGE = `diode-agent ${AGENT_VERSION}: Proxmox discovery for NetBox through Diode

Usage:
  diode-agent run      [-c agent.yaml]                 run policies on their schedules
  diode-agent once     [-c agent.yaml] [--policy NAME]  run each policy once, then exit
  diode-agent validate [-c agent.yaml]                 check agent.yaml and every policy
  diode-agent replay DIR [-c agent.yaml]               send dry-run files to Diode, in order
  diode-agent schema [--write]                         JSON Schemas of agent.yaml and policy files
  diode-agent demo                                     run the built-in demo lab (dry run)
  diode-agent version

Options:
  -c, --config FILE   agent configuration (default: $DIODE_AGENT_CONFIG, ./agent.yaml, /etc/diode-agent/agent.yaml)
  --policy NAME       only this policy (repeatable)
  --dry-run           write Diode requests as files instead of sending them
`;

export interface CliArgs {
  command: string;
  config?: string;
  policies: string[];
  dryRun: boolean;
  rest: string[];
}

export function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { command: argv[0] ?? 'help', policies: [], dryRun: false, rest: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-c' || a === '--config') out.config = argv[++i];
    else if (a.startsWith('--config=')) out.config = a.slice(9);
    else if (a === '--policy') out.policies.push(argv[++i] ?? '');
    else if (a === '--dry-run') out.dryRun = true;
    else out.rest.push(a);
  }
  return out;
}

function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DIODE_AGENT_CONFIG) return env.DIODE_AGENT_CONFIG;
  return existsSync('agent.yaml') ? 'agent.yaml' : '/etc/diode-agent/agent.yaml';
}

export function formatSummary(results: readonly RunResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.policy} (${r.collector}): ${r.status} in ${(r.durationMs / 1000).toFixed(2)}s, ${r.apiRequests} API requests, ${r.warnings.length} warnings`);
    const kinds = Object.entries(r.collected).map(([k, n]) => `${k} ${n}`).join(', ');
    if (kinds) lines.push(`  entities: ${kinds}`);
    const sent = Object.values(r.sent).reduce((a, b) => a + b, 0);
    lines.push(`  sent: ${sent} entities in ${r.diode.requests} requests (${r.diode.bytes} bytes)`);
    for (const w of r.warnings) lines.push(`  warning: ${w.subject}: ${w.message} [${w.code}]`);
    for (const e of r.diode.errors.slice(0, 10)) lines.push(`  diode error: ${e}`);
    const rb = r.diode.readBack;
    if (rb?.status === 'unavailable') lines.push(`  diode read-back unavailable: ${rb.error ?? ''}`);
    else if (rb) lines.push(`  diode read-back: ${rb.applied} applied, ${rb.noChanges} unchanged, ${rb.failed} failed, ${rb.ignored} ignored, ${rb.unconfirmed} unconfirmed${rb.error ? ` (${rb.error})` : ''}`);
    const failed = r.diode.failed ?? [];
    for (const f of failed.slice(0, 20)) lines.push(`  failed in diode: ${f.kind} ${f.key}: ${f.error}`);
    if (failed.length > 20) lines.push(`  failed in diode: ${failed.length - 20} more (see /status)`);
    if (r.error) lines.push(`  error: ${r.error}`);
    if (r.stateError) lines.push(`  state not saved: ${r.stateError}`);
  }
  // Warnings and errors quote upstream answers, which may echo the credential sent;
  // the same scrubber as the logs and /status.
  return lines.map(redactSecrets).join('\n');
}

function printIssues(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(redactSecrets(`${err.issues.map(formatIssue).join('\n')}\n`));
    return 2;
  }
  throw err;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseArgs(argv);
  switch (args.command) {
    case 'version':
    case '--version':
      process.stdout.write(`${AGENT_VERSION}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case 'validate': {
      const file = args.config ?? defaultConfigPath(env);
      try {
        const cfg = loadAgentConfig(file, env, { dryRun: args.dryRun });
        const set = loadPolicies(cfg, COLLECTORS, env);
        if (set.issues.length) {
          process.stderr.write(redactSecrets(`${set.issues.map(formatIssue).join('\n')}\n`));
          return 1;
        }
        process.stdout.write(`${file}: OK (${set.policies.length} ${set.policies.length === 1 ? 'policy' : 'policies'}: ${set.policies.map((p) => p.name).join(', ')})\n`);
        return 0;
      } catch (err) {
        printIssues(err);
        return 1;
      }
    }
    case 'schema': {
      const schemas = { agent: agentJsonSchema(), policy: policyJsonSchema(COLLECTORS) };
      if (args.rest.includes('--write')) {
        const root = new URL('..', import.meta.url);
        for (const [k, file] of Object.entries(SCHEMA_FILES)) writeFileSync(new URL(file, root), `${JSON.stringify(schemas[k as keyof typeof schemas], null, 2)}\n`);
        process.stdout.write(`wrote ${Object.values(SCHEMA_FILES).join(', ')}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(args.rest.includes('--agent') ? schemas.agent : schemas.policy, null, 2)}\n`);
      }
      return 0;
    }
    case 'replay': {
      const dir = args.rest[0];
      if (!dir) {
        process.stderr.write('usage: diode-agent replay DIR [-c agent.yaml]\n');
        return 2;
      }
      let cfg;
      try {
        cfg = loadAgentConfig(args.config ?? defaultConfigPath(env), env);
      } catch (err) {
        return printIssues(err);
      }
      if (!cfg.diode.target || !cfg.diode.client_id || !cfg.diode.client_secret) {
        process.stderr.write(`${cfg.file}: diode: replay needs target, client_id and client_secret\n`);
        return 2;
      }
      const log = createLogger({ level: cfg.agent.log_level, destination: pino.destination(2) });
      const client = new DiodeClient({
        target: cfg.diode.target, clientId: cfg.diode.client_id, clientSecret: cfg.diode.client_secret, caFile: cfg.diode.ca_file,
        skipTlsVerify: cfg.diode.skip_tls_verify, timeoutMs: cfg.diode.timeout, maxAttempts: cfg.diode.max_attempts, backoffMaxMs: cfg.diode.backoff_max, log,
      });
      try {
        const r = await replay(dir, client, log);
        process.stdout.write(redactSecrets(`replayed ${r.requests} of ${r.files} files${r.errors.length ? `, ${r.errors.length} ingestion errors` : ''}\n${r.errors.slice(0, 20).join('\n')}`));
        return r.errors.length ? 1 : 0;
      } catch (err) {
        process.stderr.write(redactSecrets(`replay stopped: ${(err as Error).message}\n`));
        return 1;
      } finally {
        await client.close();
      }
    }
    case 'demo': {
      // The lab is built from the test fakes, which the container image does not ship.
      const lab = new URL('../test/demo/lab.ts', import.meta.url);
      if (!existsSync(lab)) {
        process.stderr.write('the demo lab is not part of this installation (run it from a clone of the repository)\n');
        return 2;
      }
      const { runDemo } = (await import(lab.href)) as typeof import('../test/demo/lab.ts');
      const { results } = await runDemo();
      return results.some((r) => r.status === 'failed') ? 1 : 0;
    }
    case 'once':
    case 'run': {
      const file = args.config ?? defaultConfigPath(env);
      let cfg;
      try {
        cfg = loadAgentConfig(file, env, { dryRun: args.dryRun });
      } catch (err) {
        return printIssues(err);
      }
      const log = createLogger({ level: cfg.agent.log_level, destination: pino.destination(2) });
      // Validated, its password registered as a secret, by loadAgentConfig.
      const redisUrl = cfg.coordination?.redis_url;
      // ioredis is loaded only when coordination is configured: ~9 MB of RSS otherwise unused.
      const coordination = redisUrl ? await import('./coordination/redis.ts') : undefined;
      const redis = redisUrl && coordination ? coordination.connectRedis(redisUrl, log) : undefined;
      const prefix = cfg.coordination?.key_prefix ?? 'diode-agent';
      const agent = new Agent(cfg, COLLECTORS, log, {
        env,
        background: args.command === 'run',
        ...(args.command === 'once' && process.stderr.isTTY ? { progressTty: process.stderr } : {}),
        ...(args.dryRun ? { dryRun: true } : {}),
        ...(redis && coordination ? {
          store: new coordination.RedisStateStore(redis, prefix),
          coordinator: new coordination.RedisRunCoordinator(redis, prefix),
          onStopped: async () => {
            await redis.quit().catch(() => redis.disconnect());
          },
        } : {}),
      });
      agent.loadPolicies();
      if (args.command === 'once') {
        const unknown = args.policies.filter((n) => !agent.policies.some((p) => p.name === n));
        if (unknown.length) {
          process.stderr.write(`no such policy: ${unknown.join(', ')}\n`);
          await agent.stop(0);
          return 1;
        }
        const results = await agent.once(args.policies);
        await agent.stop(0);
        process.stdout.write(`${formatSummary(results)}\n`);
        // A state that was not saved fails `once` too: cron and Jobs see only the exit code.
        return results.some((r) => r.status === 'failed' || r.stateError !== undefined) || agent.policyIssues.length ? 1 : 0;
      }
      if (agent.policies.length === 0) {
        log.fatal('no valid policy to run');
        await agent.stop(0);
        return 1;
      }
      let status: StatusServer | undefined;
      if (cfg.agent.status.enabled) {
        const listen = cfg.agent.status.listen ?? env.DIODE_AGENT_STATUS_LISTEN ?? '127.0.0.1:9464';
        status = new StatusServer(agent, agent.metrics);
        try {
          await status.listen(listen);
          log.info({ listen, port: status.port }, 'status server listening');
        } catch (err) {
          log.fatal({ listen, err: (err as Error).message }, 'cannot start the status server');
          await agent.stop(0);
          return 1;
        }
      }
      agent.start();
      agent.watchPolicies();
      const code = await waitForSignals(agent, cfg.agent.shutdown_grace_period, log);
      await status?.close();
      return code;
    }
    default:
      process.stderr.write(`unknown command "${args.command}"\n\n${USAGE}`);
      return 2;
  }
}

/** SIGTERM/SIGINT: graceful stop within the grace period, exit 0; a second signal exits at once. */
function waitForSignals(agent: Agent, graceMs: number, log: ReturnType<typeof createLogger>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal: sig }, 'second signal, exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal: sig, grace_ms: graceMs }, 'stopping');
      void agent.stop(graceMs).then(() => {
        log.info('stopped');
        resolve(0);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
