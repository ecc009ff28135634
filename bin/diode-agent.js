#!/usr/bin/env node
// The sources are TypeScript written to be type-strippable. Node >= 22.18 and 24
// run them natively; older Node 22 releases go through tsx's loader.
if (!process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import('../agent/cli.ts');
process.exitCode = await main(process.argv.slice(2));
