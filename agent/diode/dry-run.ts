import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import { currentRun } from '../run-context.ts';
import { IngestRequestType } from './codec.ts';
import { fromProto3Json, toProto3Json } from './proto-json.ts';
import type { IngestOutcome, IngestSink } from './client.ts';

/** The dry-run directory cannot be created (loadAgentConfig checks it first; this is the race). */
export class DryRunDirError extends AgentError {
  constructor(dir: string, options: { cause: unknown }) {
    super('dry_run_dir_unwritable', `cannot create diode.dry_run_output_dir ${dir} (${(options.cause as { code?: string }).code ?? 'error'})`, options);
  }
}

/**
 * Dry run: one proto3-JSON file per IngestRequest, named `<policy>_<ns>.json` (the Diode
 * SDKs' dry-run client writes `<producer_app_name>_<ns>.json`; every agent's requests carry
 * the same app name, so the policy tells an operator's files apart). Outside a run (no
 * policy known) the app name stands in. The nanosecond suffix is strictly increasing, so
 * the files sort in sending order whatever their prefix (listDryRunFiles).
 */
export class DryRunSink implements IngestSink {
  readonly dir: string;
  private readonly appName: string;
  private lastNs = 0n;
  readonly files: string[] = [];
  /** The files of each run, by run id, until the agent takes them for the run's result. */
  private readonly byRun = new Map<string, string[]>();

  constructor(dir: string, appName: string) {
    this.dir = dir;
    this.appName = appName;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new DryRunDirError(dir, { cause: err });
    }
  }

  private nextNs(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    this.lastNs = now > this.lastNs ? now : this.lastNs + 1n;
    return this.lastNs;
  }

  async ingest(request: Uint8Array): Promise<IngestOutcome> {
    const json = requestToJson(request);
    const run = currentRun();
    const file = join(this.dir, `${run?.policy ?? this.appName}_${this.nextNs()}.json`);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`);
    renameSync(tmp, file);
    this.files.push(file);
    if (run) this.byRun.set(run.runId, [...(this.byRun.get(run.runId) ?? []), file]);
    return { errors: [], attempts: 1 };
  }

  /** The files written for a run, in order; forgets them. */
  takeFiles(runId: string): string[] {
    const files = this.byRun.get(runId) ?? [];
    this.byRun.delete(runId);
    return files;
  }

  async close(): Promise<void> {}
}

export function requestToJson(request: Uint8Array): Record<string, unknown> {
  return toProto3Json(IngestRequestType, IngestRequestType.decode(request) as unknown as Record<string, unknown>);
}

export function requestFromJson(json: Record<string, unknown>): Uint8Array {
  return IngestRequestType.encode(fromProto3Json(IngestRequestType, json)).finish();
}

/** Dry-run files of a directory in sending order. */
export function listDryRunFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => {
      const na = BigInt(/_(\d+)\.json$/.exec(a)?.[1] ?? '0');
      const nb = BigInt(/_(\d+)\.json$/.exec(b)?.[1] ?? '0');
      return na < nb ? -1 : na > nb ? 1 : a.localeCompare(b);
    })
    .map((f) => join(dir, f));
}

export function readDryRunFile(file: string): Uint8Array {
  return requestFromJson(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
}
