import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, parseBenchArgs, runBench } from './bench.ts';

/* `npm run bench`: runs the benchmark, prints the tables, writes the JSON. */

let options;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const report = await runBench(options);
const json = options.json ?? join(tmpdir(), 'diode-agent-bench.json');
writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${formatReport(report)}\n\nJSON: ${json}\n`);
