// Runs the repository's TypeScript as the JavaScript in build/ (`npm run build:bench`), the
// code the container image runs, so that Node never loads its TypeScript stripper (amaro):
//
//   npm run build:bench && NODE_OPTIONS=--import=./scripts/compiled-hooks.mjs npm run bench -- …
//
// Every child process inherits NODE_OPTIONS, so the benchmark's agent process runs the
// compiled agent. A module keeps its .ts URL (only its source comes from build/), so
// import.meta.url, and every path built from it (the .proto files, package.json, the test
// certificates, the processes the benchmark forks), are what they are for the sources.
// tsc rewrote the relative imports to .js; those resolve back to the .ts sources. A source
// newer than its compiled file stops the process: a stale build would measure old code.
// module.registerHooks: nodejs/node doc/api/module.md "Synchronous customization hooks".
import { readFileSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url).href;
const build = new URL('../build/', import.meta.url).href;
const ours = (url) => url.startsWith(root) && !url.startsWith(build) && !url.includes('/node_modules/');

function compiledSource(url) {
  const js = fileURLToPath(`${build}${url.slice(root.length, -'.ts'.length)}.js`);
  let built;
  try {
    built = statSync(js);
  } catch {
    return undefined;
  }
  if (statSync(fileURLToPath(url)).mtimeMs > built.mtimeMs) throw new Error(`${js} is older than its source: run npm run build:bench`);
  return readFileSync(js, 'utf8');
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL && ours(context.parentURL)) {
      const ts = new URL(`${specifier.slice(0, -'.js'.length)}.ts`, context.parentURL).href;
      try {
        statSync(fileURLToPath(ts));
        return nextResolve(ts, context);
      } catch {
        // Not one of ours (a real .js file): resolved as written.
      }
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (url.endsWith('.ts') && ours(url)) {
      const source = compiledSource(url);
      if (source !== undefined) return { format: 'module', source, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
