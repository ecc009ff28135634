import { inspect } from 'node:util';
import { pino, stdSerializers, type Logger, type DestinationStream } from 'pino';
import { AgentError, ConfigError, type ConfigIssue } from './errors.ts';

/** Key paths of the agent's own settings whose values are secrets wherever they appear in a log object. */
const AGENT_REDACT_PATHS = [
  'client_secret',
  '*.client_secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * Key paths whose values are secrets wherever they appear in a log object: the agent's own
 * and each collector's declared `secretKeys` (a policy's `config.X`, or `X` at any depth).
 * Values are also scrubbed by content (see `redactSecrets`) because a secret can hide inside
 * a message string or an error.
 */
export function redactPaths(): string[] {
  return [...AGENT_REDACT_PATHS, ...[...collectorKeys].flatMap((k) => [k, `*.${k}`, `config.${k}`])];
}

const collectorKeys = new Set<string>();

/**
 * The collectors' secret `config:` keys (CollectorDefinition.secretKeys). The registry
 * declares them as it loads (agent/collectors/registry.ts): this module cannot import it, as
 * collectors import this module. Read when a logger is made and on each substitution.
 */
export function declareSecretKeys(keys: Iterable<string>): void {
  for (const k of keys) collectorKeys.add(k);
}

export function declaredSecretKeys(): ReadonlySet<string> {
  return collectorKeys;
}

/** What a secret is replaced with, in logs, summaries, /status, /metrics and errors. */
export const CENSOR = '[REDACTED]';

const secretValues = new Set<string>();
/** Every registered secret in every form it can take in an output, longest first. */
let secretForms: string[] = [];

const jsonEscaped = (s: string): string => JSON.stringify(s).slice(1, -1);
/** prom-client's escapeLabelValue (siimon/prom-client lib/registry.js): \ newline " only. */
const promEscaped = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * Registers a secret value so that it is masked in every log line and error message.
 * Outputs are scrubbed after encoding too (/status is JSON, /metrics Prometheus text), and an
 * encoder escapes `"`, `\` and control characters, so the secret is also matched as JSON
 * escapes it (once, and twice for a JSON text quoted in a JSON string), as Prometheus label
 * values escape it, and percent-encoded (form bodies, URLs).
 */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || secretValues.has(value)) return;
  secretValues.add(value);
  const once = jsonEscaped(value);
  const forms = new Set([...secretForms, value, once, jsonEscaped(once), promEscaped(value), encodeURIComponent(value)]);
  // Longest first: a secret that contains another is masked whole, not around the shorter.
  secretForms = [...forms].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of secretForms) if (out.includes(s)) out = out.split(s).join(CENSOR);
  return out;
}

const MAX_DEPTH = 12;

/** An Error in pino's shape (type, message and stack with the causes, own properties), scrubbed. */
function serializeError(err: unknown, seen: WeakSet<object>, depth: number): unknown {
  return scrub(stdSerializers.err(err as Error), seen, depth, false);
}

function scrub(value: unknown, seen: WeakSet<object>, depth: number, errors = true): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (errors && value instanceof Error) return serializeError(value, seen, depth + 1);
    if (Array.isArray(value)) return value.map((v) => scrub(v, seen, depth + 1));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    // URL, Date, Buffer…: what JSON.stringify would write, scrubbed (a URL's href can hold a password).
    if (typeof toJSON === 'function') return scrub(toJSON.call(value), seen, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrub(v, seen, depth + 1);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** A copy of `value` with every registered secret masked in its strings, errors serialized. */
export function scrubValue(value: unknown): unknown {
  return secretForms.length ? scrub(value, new WeakSet(), 0) : value;
}

/** pino's levels, and `silent`; agent.log_level and $LOG_LEVEL accept exactly these. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** $LOG_LEVEL overrides agent.log_level; unset or empty leaves it. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): { level?: LogLevel; issue?: ConfigIssue } {
  const v = env.LOG_LEVEL;
  if (v === undefined || v === '') return {};
  if (isLogLevel(v)) return { level: v };
  return { issue: { file: 'environment', path: 'LOG_LEVEL', message: `"${v}" is not a log level; expected one of ${LOG_LEVELS.join(', ')}` } };
}

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

/** A pino logger; an unknown level is a ConfigError naming LOG_LEVEL when it came from there (pino would throw a bare Error). */
export function createLogger(opts: LogOptions = {}): Logger {
  let level: string = opts.level ?? 'info';
  if (opts.level === undefined) {
    const fromEnv = logLevelFromEnv(process.env);
    if (fromEnv.issue) throw new ConfigError([fromEnv.issue]);
    level = fromEnv.level ?? level;
  }
  if (!isLogLevel(level)) throw new AgentError('log_level_invalid', `"${level}" is not a log level; expected one of ${LOG_LEVELS.join(', ')}`);
  return pino(
    {
      level,
      base: { app: 'diode-agent' },
      redact: { paths: redactPaths(), censor: CENSOR },
      /*
       * Secrets are scrubbed from the values, before pino encodes them: in the encoded line a
       * secret holding `"`, `\` or a control character is escaped and no longer matches. pino
       * calls formatters.log on the merged object, then the serializers key by key, then
       * encodes; the message goes through serializers[messageKey], child bindings through
       * formatters.bindings (pinojs/pino docs/api.md "formatters"; lib/tools.js asJson and
       * asChindings). `err` is left to its serializer so it keeps pino's shape (type,
       * message and stack with causes, pino-std-serializers lib/err.js).
       */
      formatters: {
        log: (obj) => {
          if (!secretForms.length) return obj;
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj)) out[k] = k === 'err' ? v : scrubValue(v);
          return out;
        },
        bindings: (b) => scrubValue(b) as typeof b,
      },
      serializers: { err: (e: unknown) => serializeError(e, new WeakSet(), 0), msg: (m: unknown) => (typeof m === 'string' ? redactSecrets(m) : m) },
      hooks: {
        // Second line of defence on the encoded line (redactSecrets matches escaped forms too).
        streamWrite: (line) => (secretForms.length ? redactSecrets(line) : line),
      },
    },
    opts.destination,
  );
}

/**
 * The text of an uncaught exception or unhandled rejection, scrubbed: the stack, the own
 * properties (a TypeError from `new URL()` carries the whole input), then each cause.
 */
export function crashReport(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 10 && e !== undefined; depth++) {
    if (!(e instanceof Error)) {
      parts.push(inspect(scrubValue(e), { depth: 4 }));
      break;
    }
    let text = redactSecrets(e.stack ?? `${e.name}: ${e.message}`);
    const props = Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'cause'));
    if (Object.keys(props).length) text += `\n  ${inspect(scrubValue(props), { depth: 4, breakLength: Infinity })}`;
    parts.push(text);
    e = e.cause;
  }
  return parts.join('\ncaused by: ');
}

/**
 * Replaces Node's default printing of an uncaught exception (which shows the error's
 * properties and causes unscrubbed) with a scrubbed report and exit code 1, as Node's.
 * An unhandled rejection arrives here too (the default --unhandled-rejections=throw).
 */
export function installCrashHandler(write: (text: string) => void = (t) => process.stderr.write(t)): void {
  process.on('uncaughtException', (err, origin) => {
    try {
      write(`diode-agent: ${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: ${crashReport(err)}\n`);
    } finally {
      process.exit(1);
    }
  });
}
