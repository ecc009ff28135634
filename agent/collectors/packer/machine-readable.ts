import { AgentError } from '../../errors.ts';

/*
 * `packer build -machine-readable` output: one line per message,
 * `timestamp,target,type,data...`, where data commas are written `%!(PACKER_COMMA)` and
 * newlines/carriage returns as literal `\n`/`\r` (hashicorp/packer packer/ui.go
 * MachineReadableUi.Machine; website docs "Machine-Readable Output"). Unlike the manifest,
 * it also shows builds that failed or were cancelled (command/build.go RunContext):
 *   ui,say,Build '<name>' finished after <duration>.
 *   ui,error,Build '<name>' errored after <duration>: <error>
 *   <name>,error,<error>                     (after "error-count", not when interrupted)
 *   <name>,artifact,<i>,id,<artifact id>     (the Proxmox builder's id is the VMID)
 *   ui,say,Cleanly cancelled builds after being interrupted.
 * Pure: returns a value or throws PackerLogError, nothing else (machine-readable.test.ts
 * checks that with fast-check).
 */

export class PackerLogError extends AgentError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('packer_log_invalid', `packer log ${file}: ${reason}`, options);
    this.file = file;
  }
}

export const LOG_BUILD_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type LogBuildStatus = (typeof LOG_BUILD_STATUSES)[number];

export interface LogBuild {
  /** Packer's build name: `proxmox-iso.ubuntu` (HCL2 `<type>.<source>`, maybe `<build>.` first), or a JSON template's builder name. */
  name: string;
  /** The source name, which is what the manifest's `name` holds for HCL2. */
  sourceName: string;
  /** proxmox-iso / proxmox-clone, from the name or the artifact's builder id (`proxmox.iso`). */
  builderType?: string;
  status: LogBuildStatus;
  /** Unix seconds of the build's first line. */
  startedAt?: number;
  /** Unix seconds of its "finished" / "errored" line (or of the cancellation). */
  completedAt?: number;
  artifactId?: string;
  /** `A template was created: 9000`. */
  artifactString?: string;
  builderId?: string;
  error?: string;
}

export interface PackerLog {
  file: string;
  builds: LogBuild[];
  /** Machine-readable lines read / other lines skipped (a log may interleave stderr). */
  lines: number;
  skipped: number;
}

const LINE = /^(\d{1,12}),([^,]*),([^,]+)(?:,(.*))?$/;
const FINISHED = /^Build '([^']+)' finished after [^.]*\.?\s*$/;
const ERRORED = /^Build '([^']+)' errored after [^:]*: ([\s\S]*)$/;
const MENTION = /^(?:==>|-->| {4}) ?([A-Za-z0-9_][A-Za-z0-9_.-]*): /;
/** Cancellation as the builders and core word it: "build was cancelled" (packer-plugin-proxmox builder.go), "context canceled", an interrupt. */
const CANCELLED = /\bcancell?ed\b|\binterrupt/i;
const BUILDER_IN_NAME = /(?:^|\.)(proxmox-(?:iso|clone))\.([A-Za-z0-9_-]+)$/;

export function unescapeField(s: string): string {
  return s.replaceAll('%!(PACKER_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

interface Draft extends LogBuild {
  ended: boolean;
}

export function parseMachineReadableLog(text: string, file: string): PackerLog {
  try {
    return parse(text, file);
  } catch (err) {
    if (err instanceof PackerLogError) throw err;
    throw new PackerLogError(file, `cannot be read (${(err as Error).message})`, { cause: err });
  }
}

function parse(text: string, file: string): PackerLog {
  const builds = new Map<string, Draft>();
  let lines = 0;
  let skipped = 0;
  let cancelledAt: number | undefined;
  let waitCompleted = false;
  let lastTs = 0;

  const build = (name: string, ts: number): Draft => {
    let b = builds.get(name);
    if (!b) {
      const m = BUILDER_IN_NAME.exec(name);
      b = { name, sourceName: m?.[2] ?? name, ...(m?.[1] !== undefined && { builderType: m[1] }), status: 'running', startedAt: ts, ended: false };
      builds.set(name, b);
    }
    return b;
  };
  const end = (b: Draft, ts: number, status: LogBuildStatus, error?: string) => {
    b.ended = true;
    b.status = status;
    b.completedAt = ts;
    if (error !== undefined) b.error = error;
  };

  for (const rawLine of text.split(/\r?\n/)) {
    if (rawLine.trim() === '') continue;
    const m = LINE.exec(rawLine);
    if (!m || m[1] === undefined || m[3] === undefined) {
      skipped++;
      continue;
    }
    lines++;
    const ts = Number(m[1]);
    lastTs = Math.max(lastTs, ts);
    const target = m[2] ?? '';
    const type = m[3];
    const data = m[4] === undefined ? [] : m[4].split(',').map(unescapeField);

    if (type === 'ui') {
      const message = data.slice(1).join(',').replace(/^\n+/, '');
      if (target) build(target, ts);
      const fin = FINISHED.exec(message);
      const err = ERRORED.exec(message);
      if (fin?.[1] !== undefined) {
        end(build(fin[1], ts), ts, 'completed');
      } else if (err?.[1] !== undefined) {
        const error = (err[2] ?? '').trim();
        end(build(err[1], ts), ts, CANCELLED.test(error) ? 'cancelled' : 'failed', error);
      } else if (/^Cleanly cancelled builds after being interrupted/.test(message) || /^Cancelling build after receiving/.test(message)) {
        cancelledAt ??= ts;
      } else if (/^==> Wait completed after/.test(message)) {
        waitCompleted = true;
      } else {
        const mention = MENTION.exec(message);
        if (mention?.[1] !== undefined) build(mention[1], ts);
      }
      continue;
    }
    if (!target) continue;
    const b = build(target, ts);
    if (type === 'artifact') {
      const [, key, value] = data;
      if (key === 'id' && value !== undefined) b.artifactId = value;
      else if (key === 'string' && value !== undefined) b.artifactString = value;
      else if (key === 'builder-id' && value !== undefined) {
        b.builderId = value;
        // BuilderId is `proxmox.iso` / `proxmox.clone` (packer-plugin-proxmox builder/proxmox/{iso,clone}/builder.go).
        const bt = /^proxmox\.(iso|clone)$/.exec(value)?.[1];
        if (bt !== undefined && b.builderType === undefined) b.builderType = `proxmox-${bt}`;
      }
    } else if (type === 'error') {
      const error = data.join(',').trim();
      if (!b.ended) end(b, ts, CANCELLED.test(error) ? 'cancelled' : 'failed', error);
      else if (b.error === undefined && b.status !== 'completed') b.error = error;
    }
  }

  if (lines === 0) {
    throw new PackerLogError(file, text.trim() === '' ? 'is empty' : 'has no machine-readable lines (run packer build with -machine-readable)');
  }
  const out: LogBuild[] = [];
  for (const b of builds.values()) {
    if (!b.ended && cancelledAt !== undefined) end(b, Math.max(cancelledAt, b.startedAt ?? 0), 'cancelled', 'build was cancelled');
    else if (!b.ended && waitCompleted) end(b, lastTs, 'failed', 'the run ended without a result for this build');
    const { ended: _ended, ...rest } = b;
    out.push(rest);
  }
  return { file, builds: out, lines, skipped };
}
