import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Key paths whose values are secrets wherever they appear in a log object. Values are
 * also scrubbed by content (see `redactSecrets`) because a secret can hide inside a
 * message string or an error.
 */
export const REDACT_PATHS = [
  'client_secret', '*.client_secret', 'token', '*.token', 'access_token', '*.access_token',
  'password', '*.password', 'authorization', '*.authorization', 'headers.authorization',
  '*.headers.authorization', 'config.PROXMOX_TOKEN_VALUE', '*.PROXMOX_TOKEN_VALUE', 'PROXMOX_TOKEN_VALUE',
  '*.PBS_TOKEN_SECRET', '*.PDM_TOKEN_SECRET', '*.CEPH_PASSWORD', 'PBS_TOKEN_SECRET', 'PDM_TOKEN_SECRET',
  'CEPH_PASSWORD', 'config.PBS_TOKEN_SECRET', 'config.PDM_TOKEN_SECRET', 'config.CEPH_PASSWORD',
];

/** What a secret is replaced with, in logs, summaries, /status, /metrics and errors. */
export const CENSOR = '[REDACTED]';

const secretValues = new Set<string>();

/** Registers a secret value so that it is masked in every log line and error message. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secretValues.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const s of secretValues) if (out.includes(s)) out = out.split(s).join(CENSOR);
  return out;
}

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { app: 'diode-agent' },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      hooks: {
        // Content-based scrubbing as a second line of defence: a secret that slips into a
        // message or a nested error text is replaced before the line is written.
        streamWrite: (line) => (secretValues.size > 0 ? redactSecrets(line) : line),
      },
    },
    opts.destination,
  );
}
