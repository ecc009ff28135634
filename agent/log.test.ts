import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets, registerSecret } from './log.ts';

describe('logger', () => {
  it('redacts secret keys and every registered secret value, wherever it appears', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
    registerSecret('pve-token-0123456789');
    log.info({ config: { PROXMOX_TOKEN_VALUE: 'literal-value-x', PROXMOX_HOST: 'pve1' }, client_secret: 'abc-123-secret' }, 'loaded');
    log.warn({ reason: 'GET /x failed with header PVEAPIToken=root@pam!netbox=pve-token-0123456789' }, 'error text');
    const out = lines.join('');
    expect(out).not.toContain('literal-value-x');
    expect(out).not.toContain('abc-123-secret');
    expect(out).not.toContain('pve-token-0123456789');
    expect(out).toContain('"PROXMOX_HOST":"pve1"');
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(3);
    expect(redactSecrets('x pve-token-0123456789 y')).toBe('x [REDACTED] y');
  });
});
