import { execFileSync } from 'node:child_process';

/** Whether redis-server is installed; on CI (.ci/run installs it) its absence is an error, not a skip. */
export const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedis && process.env.CI) throw new Error('redis-server is required for the replica tests (apt-get install redis-server)');
