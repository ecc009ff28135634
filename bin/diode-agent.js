#!/usr/bin/env node
// The sources are TypeScript written to be type-strippable. Node >= 22.18 and 24
// run them natively; older Node 22 releases go through tsx's loader.
if (!process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
// Before anything can throw: crash reports are scrubbed of secrets like the logs.
const { installCrashHandler } = await import('../agent/log.ts');
installCrashHandler();
const { main } = await import('../agent/cli.ts');
process.exitCode = await main(process.argv.slice(2));
