#!/usr/bin/env node
// `npm run demo`: the demo lab. It is built from the collectors' fakes (agent/collectors/<id>/fake.ts) and
// their lab parts (agent/collectors/<id>/cases/lab.ts), so it is a development tool of the
// repository, not a command of the agent (agent code never imports test code:
// test/boundaries.test.ts). Loaded like bin/diode-agent.js: Node >= 22.18 strips the types
// itself, older Node 22 releases go through tsx's loader.
if (!process.features.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { installCrashHandler } = await import('../../agent/log.ts');
installCrashHandler();
const { runsExitCode } = await import('../../agent/errors.ts');
const { runDemo } = await import('./lab.ts');
const { results } = await runDemo();
process.exitCode = runsExitCode(results);
