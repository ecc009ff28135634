import { z } from 'zod';
import cron from 'node-cron';
import { boolish, duration, intish } from './coerce.ts';
import { LOG_LEVELS } from '../log.ts';
import { redisUrlProblem } from './redis-url.ts';
import { BACKOFF } from '../backoff.ts';

const TARGET = /^grpcs?:\/\/[^/\s:]+(:\d{1,5})?(\/[^\s]*)?$/;

export const diodeSchema = z
  .object({
    target: z.string().regex(TARGET, 'must be grpc://host[:port][/path] or grpcs://host[:port][/path]').optional(),
    client_id: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
    ca_file: z.string().optional(),
    skip_tls_verify: boolish.default(false),
    stream: z.string().min(1).max(255).default('latest'),
    dry_run: boolish.default(false),
    /** Default <agent.state_dir>/dry-run (resolved by the loader, which knows state_dir). */
    dry_run_output_dir: z.string().min(1).optional(),
    timeout: duration.default(30_000),
    max_attempts: intish(1, 20).default(BACKOFF.grpc.attempts),
    backoff_max: duration.default(BACKOFF.grpc.maxMs),
    /** Follow each delivery's ingestion logs (needs diode:read): agent/diode/README.md. */
    read_back: z
      .object({ enabled: boolish.default(false), timeout: duration.default(120_000), poll_interval: duration.default(2_000) })
      .strict()
      .default({ enabled: false, timeout: 120_000, poll_interval: 2_000 }),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.dry_run) return;
    if (!d.target) ctx.addIssue({ code: 'custom', path: ['target'], message: 'is required unless dry_run is true' });
    if (!d.client_id) ctx.addIssue({ code: 'custom', path: ['client_id'], message: 'is required unless dry_run is true' });
    if (!d.client_secret) ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'is required unless dry_run is true' });
  });

export const agentSectionSchema = z
  .object({
    name: z.string().min(1).max(255).default('proxmox-discovery'),
    state_dir: z.string().default('/var/lib/diode-agent'),
    log_level: z.enum(LOG_LEVELS).default('info'),
    shutdown_grace_period: duration.default(20_000),
    /**
     * A scheduled policy also runs once as soon as it is scheduled (start-up, or added or
     * changed by a reload) instead of waiting up to a whole period for its first tick; a
     * policy's own run_at_start overrides it.
     */
    run_at_start: boolish.default(true),
    status: z
      .object({
        enabled: boolish.default(true),
        /** Default 127.0.0.1:9464, or $DIODE_AGENT_STATUS_LISTEN (the image sets 0.0.0.0:9464). */
        listen: z
          .string()
          .regex(/^[^\s]+:\d{1,5}$/, 'must be host:port')
          .optional(),
        /**
         * /readyz answers 503 while a scheduled policy's last success is older than this many
         * of its schedule intervals (agent/telemetry/readiness.ts); 0 turns that off.
         */
        ready_max_age_intervals: intish(0, 1000).default(2),
      })
      .strict()
      .default({ enabled: true, ready_max_age_intervals: 2 }),
  })
  .strict();

export const coordinationSchema = z
  .object({
    redis_url: z
      .string()
      .regex(/^rediss?:\/\//, 'must be redis://… or rediss://…')
      .superRefine((url, ctx) => {
        const problem = redisUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    key_prefix: z.string().default('diode-agent'),
  })
  .strict();

export const agentConfigSchema = z
  .object({
    agent: agentSectionSchema.default(agentSectionSchema.parse({})),
    diode: diodeSchema,
    policies: z
      .union([z.array(z.unknown()), z.object({ dir: z.string().optional(), inline: z.array(z.unknown()).default([]) }).strict()])
      .default({ inline: [] }),
    coordination: coordinationSchema.optional(),
  })
  .strict();

export type DiodeConfig = z.output<typeof diodeSchema>;

/** The policy envelope shared by every collector; `config` comes from the collector. */
export const policyEnvelope = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"'),
  schedule: z
    .string()
    .superRefine((s, ctx) => {
      const v = cron.validateDetailed(s);
      if (!v.valid)
        ctx.addIssue({
          code: 'custom',
          message: `"${s}" is not a cron expression (${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'unparsable'})`,
        });
    })
    .optional(),
  timezone: z
    .string()
    .superRefine((tz, ctx) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${tz}" is not an IANA time zone` });
      }
    })
    .optional(),
  jitter: duration.default(0),
  enabled: boolish.default(true),
  /** Overrides agent.run_at_start for this policy (no effect without a schedule: it runs once at start anyway). */
  run_at_start: boolish.optional(),
  concurrency: intish(1, 64).default(8),
  scope: z
    .object({ nodes: z.array(z.string().min(1)).min(1).default(['*']) })
    .strict()
    .default({ nodes: ['*'] }),
  delta: boolish.default(true),
  full_sync_interval: duration.default(24 * 3_600_000),
  stale_after_runs: intish(1, 1000).default(3),
  stale: z
    .object({ action: z.enum(['mark', 'ignore']).default('mark') })
    .strict()
    .default({ action: 'mark' }),
};
