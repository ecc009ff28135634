import { readdirSync } from 'node:fs';

/*
 * Where each collector's parts are: everything of a collector is its folder,
 * agent/collectors/<id>/ (agent/collectors/registry.test.ts holds the folders equal to the registry).
 */

const COLLECTORS_DIR = new URL('../../agent/collectors/', import.meta.url);

/** The collector ids: the folders of agent/collectors/, sorted. */
export function collectorFolders(): string[] {
  return readdirSync(COLLECTORS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** A collector's golden cases: agent/collectors/<id>/cases/, one directory per case. */
export function casesDir(id: string): URL {
  return new URL(`${id}/cases/`, COLLECTORS_DIR);
}

/** A collector's example policy, agent/collectors/<id>/example.yaml. */
export function examplePolicy(id: string): URL {
  return new URL(`${id}/example.yaml`, COLLECTORS_DIR);
}
