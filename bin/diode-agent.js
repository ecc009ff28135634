#!/usr/bin/env node
import { existsSync } from 'node:fs';

// The container image holds the agent compiled to JavaScript beside this file's folder
// (tsconfig.build.json; the Dockerfile's build stage): Node then never loads its
// TypeScript stripper, about 20 MB of RSS. A checkout has the TypeScript sources, written to
// be type-strippable: Node >= 22.18 and 24 run them natively; older Node 22 releases go
// through tsx's loader.
const compiled = existsSync(new URL('../agent/cli.js', import.meta.url));
if (!compiled && !process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
const ext = compiled ? 'js' : 'ts';
// Before anything can throw: crash reports are scrubbed of secrets like the logs.
const { installCrashHandler } = await import(`../agent/log.${ext}`);
installCrashHandler();
const { main } = await import(`../agent/cli.${ext}`);
process.exitCode = await main(process.argv.slice(2));
