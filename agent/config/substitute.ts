import { isAbsolute, resolve } from 'node:path';
import { declaredSecretKeys, registerSecret } from '../log.ts';
import { FileTooLargeError, readLimited } from './read-limited.ts';
import { errorCode } from '../errors.ts';

export interface SubstitutionProblem {
  path: Array<string | number>;
  message: string;
}

const PATTERN = /\$\{(env|file):([^}]*)\}/g;
/** Keys of the agent's own settings whose values are secrets however they were written. */
export const SECRET_KEY = /(secret|password|token_value|token|passwd|client_secret)$/i;

/** A collector's declared secret key (CollectorDefinition.secretKeys) or a secret-looking key of the agent's own. */
export function isSecretKey(key: string): boolean {
  return declaredSecretKeys().has(key) || SECRET_KEY.test(key);
}

/**
 * Replaces `${env:NAME}` and `${file:PATH}` in every string of a parsed YAML value.
 * File paths are relative to the config file's directory. Values that land in a
 * secret-looking key are registered for redaction.
 */
export function substitute(
  value: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  problems: SubstitutionProblem[],
  path: Array<string | number> = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const out = value.replace(PATTERN, (_m, kind: string, arg: string) => {
      const name = arg.trim();
      if (kind === 'env') {
        const v = env[name];
        if (v === undefined) {
          problems.push({ path, message: `environment variable ${name} is not set` });
          return '';
        }
        return v;
      }
      const file = isAbsolute(name) ? name : resolve(baseDir, name);
      try {
        return readLimited(file).replace(/\r?\n$/, '');
      } catch (err) {
        if (err instanceof FileTooLargeError) {
          problems.push({ path, message: `cannot read ${name} (${err.size} bytes; values read with \${file:} are limited to 1 MiB)` });
          return '';
        }
        const code = errorCode(err) ?? 'error';
        problems.push({ path, message: `cannot read ${name} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code})` });
        return '';
      }
    });
    const last = path[path.length - 1];
    if (typeof last === 'string' && isSecretKey(last)) registerSecret(out);
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, baseDir, env, problems, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && isSecretKey(k) && !v.includes('${')) registerSecret(v);
      out[k] = substitute(v, baseDir, env, problems, [...path, k]);
    }
    return out;
  }
  return value;
}
