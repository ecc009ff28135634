import type { Logger } from 'pino';
import type { DiodeClient } from './diode/client.ts';
import { listDryRunFiles, readDryRunFile } from './diode/dry-run.ts';

export interface ReplayResult {
  files: number;
  requests: number;
  entities: number;
  errors: string[];
}

/**
 * Ships dry-run files to Diode in the order they were written (air-gapped sites collect
 * with dry run, carry the files, replay). Each file is sent as the exact IngestRequest it
 * holds, with the client's usual retries; the first request that fails stops the replay,
 * since later files may depend on it.
 */
export async function replay(dir: string, client: DiodeClient, log: Logger): Promise<ReplayResult> {
  const files = listDryRunFiles(dir);
  const result: ReplayResult = { files: files.length, requests: 0, entities: 0, errors: [] };
  for (const file of files) {
    const bytes = readDryRunFile(file);
    const outcome = await client.ingest(bytes);
    result.requests++;
    result.errors.push(...outcome.errors.map((e) => `${file}: ${e}`));
    log.info({ file, errors: outcome.errors.length }, 'replayed');
  }
  return result;
}
