import type { FakeRequest, FakeServer } from '../fakes/https-server.ts';
import type { Scope } from '../../agent/collectors/types.ts';

/*
 * How the one golden runner (test/golden.test.ts) runs the cases of one collector,
 * agent/collectors/<collector>/cases/<case>/ (the Telegraf testcases model: fixed file names, one loop):
 *   policy.yaml     the policy, through the real loader (a legacy policy.json {config, scope}
 *                   is read as written, for the PVE cases written before this format)
 *   case.json       optional: {description, …what the harness reads (server, generation…)}
 *   scenario.json   optional: what the collector's fake answers (or scenario.ts, default export);
 *                   {"$file": "<path under test/fixtures/<collector>/>", "$pick": "key"} stands
 *                   for that file's content (recorded third-party bodies are kept verbatim there)
 * and the contract, every file compared, none ever written by a plain run:
 *   expected.json   the ordered entities [{kind, value}] (`[]` when a failed run has one)
 *   warnings.json   the run's warnings
 *   requests.json   every request the fake received, sorted (calls run concurrently)
 *   error.txt       the collection's error, for a run that fails
 *   issues.txt      the loader's report, for a policy that does not load (nothing else runs)
 * `127.0.0.1:<port>` is written 127.0.0.1:PORT and the repository's path <repo>.
 * UPDATE_GOLDEN=1 rewrites the contract; read every diff before committing it.
 */

export interface GoldenCase {
  name: string;
  dir: URL;
  /** case.json, or {}. */
  meta: Record<string, unknown>;
  /** The policy's config as written (after ${…} substitution). */
  raw: Record<string, unknown>;
  /** The same, validated by the loader; the raw config for a legacy policy.json. */
  declared: unknown;
  scope: Scope;
  /** scenario.ts or scenario.json, includes resolved; undefined when the case has none. */
  scenario: unknown;
}

export interface GoldenRun<C> {
  /** The fake the collector reads, if any; its requests are the case's requests.json. */
  server?: FakeServer;
  /** The port the collector reads, when no fake listens on it (its messages name it). */
  port?: number;
  /** One line of requests.json; default plainRequestLine. */
  requestLine?(r: FakeRequest): string;
  /** What the collector reads with (pointed at the fake). */
  collectConfig: C;
  /** What the mapper gets: the policy as written, or the config the collector read with. */
  mapConfig: C;
}

export interface GoldenHarness<C = unknown, S = unknown> {
  /** The mapper's clock. */
  now: Date;
  /** `sorted`: the collector's calls run concurrently, so warnings arrive in any order. */
  warningOrder: 'sorted' | 'emitted';
  start(c: GoldenCase): Promise<GoldenRun<C>>;
  /** Cases that must be there (the ones an issue asked for); others may be added. */
  requiredCases?: readonly string[];
  /** Checks of the collector's own beyond the contract files. */
  check?(c: GoldenCase, snapshot: S, entities: unknown): void;
}

/** `GET /path?query` with the query as sent. */
export const plainRequestLine = (r: FakeRequest): string => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ''}`;
