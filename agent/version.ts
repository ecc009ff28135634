import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const AGENT_NAME: string = pkg.name;
/** x.y.z, also sent as the Diode sdk_version. */
export const AGENT_VERSION: string = pkg.version;
