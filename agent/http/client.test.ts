import { afterEach, describe, expect, it } from 'vitest';
import { HttpBadJsonError, HttpConnectError, HttpStatusError, HttpTarget, HttpTooLargeError, TlsConfigError, errorReason, targetSettings } from './client.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from './client.ts';
import { backoffDelay } from '../backoff.ts';
import { parseRetryAfter, retryableConnectError, retryableStatus, shouldRetryHttp } from './retry.ts';
import { startFakeHttps, TEST_CA_FILE, TEST_CERT_FINGERPRINT, type FakeServer } from '../../test/fakes/https-server.ts';

const SERVER_PEM = new URL('../../test/tls/server.pem', import.meta.url).pathname;

let server: FakeServer | undefined;
const targets: HttpTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
  await server?.close();
  server = undefined;
});

function target(url: string, extra: Partial<ConstructorParameters<typeof HttpTarget>[0]> = {}): HttpTarget {
  const t = new HttpTarget({
    baseUrl: `${url}/api2/json`,
    tls: { verify: false },
    timeoutMs: 2000,
    concurrency: 4,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    ...extra,
  });
  targets.push(t);
  return t;
}

describe('shouldRetryHttp', () => {
  it('retries the seed statuses on GET up to the attempt limit', () => {
    for (const status of [429, 502, 503, 504]) {
      expect(shouldRetryHttp({ method: 'GET', attempt: 1, maxAttempts: 5, status })).toBe(true);
      expect(shouldRetryHttp({ method: 'GET', attempt: 5, maxAttempts: 5, status })).toBe(false);
    }
  });
  it('does not retry other statuses, writes, 595 or timeouts', () => {
    for (const status of [400, 401, 403, 404, 500, 501, 595]) expect(shouldRetryHttp({ method: 'GET', attempt: 1, maxAttempts: 5, status })).toBe(false);
    expect(shouldRetryHttp({ method: 'POST', attempt: 1, maxAttempts: 5, status: 503 })).toBe(false);
    expect(shouldRetryHttp({ method: 'GET', attempt: 1, maxAttempts: 5, errorCode: 'TIMEOUT' })).toBe(false);
    expect(shouldRetryHttp({ method: 'GET', attempt: 1, maxAttempts: 5, errorCode: 'ECONNRESET' })).toBe(true);
  });
  it('bounds backoff and Retry-After', () => {
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1)).toBe(1000);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0)).toBe(50);
    expect(parseRetryAfter('2', 30_000)).toBe(2000);
    expect(parseRetryAfter('3600', 30_000)).toBe(30_000);
    expect(parseRetryAfter('soon', 30_000)).toBeUndefined();
  });
});

describe('retryable across runs (AgentError.retryable)', () => {
  it('is a 408, 429 or 5xx (595 too: the node may be up by the next run), never another 4xx', () => {
    expect([408, 429, 500, 502, 503, 504, 595].map(retryableStatus)).toEqual([true, true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 409].map(retryableStatus)).toEqual([false, false, false, false, false]);
  });
  it('is a refused, reset or timed-out connection, never a TLS failure or an unknown host', () => {
    expect(['ECONNREFUSED', 'ECONNRESET', 'TIMEOUT', 'EHOSTUNREACH', 'EAI_AGAIN'].map(retryableConnectError)).toEqual([true, true, true, true, true]);
    expect(['TLS_PIN', 'TLS_VERIFY', 'ENOTFOUND', 'ERR_SSL_WRONG_VERSION_NUMBER'].map(retryableConnectError)).toEqual([false, false, false, false]);
  });
  it('is carried by the errors themselves, and by an unreachable API as its cause says', () => {
    expect(new HttpStatusError('GET', '/nodes', 503, 'busy').retryable).toBe(true);
    expect(new HttpStatusError('GET', '/nodes', 401, 'no ticket').retryable).toBe(false);
    expect(new HttpConnectError('GET', '/version', 'ECONNREFUSED', 'refused').retryable).toBe(true);
    expect(new HttpConnectError('GET', '/version', 'TLS_VERIFY', 'self-signed').retryable).toBe(false);
  });
});

describe('errorReason', () => {
  it('reads PVE status lines, PVE JSON messages, parameter errors and PBS plain text', () => {
    expect(errorReason('QEMU guest agent is not running', '{"data":null}')).toBe('QEMU guest agent is not running');
    expect(errorReason('x', '{"data":null,"message":"VM 100 is not running\\n"}')).toBe('VM 100 is not running');
    expect(errorReason('Parameter verification failed.', '{"data":null,"errors":{"vmid":"VM 100 already exists"}}')).toBe('vmid: VM 100 already exists');
    expect(errorReason('Bad Request', "datastore 'x' does not exist")).toBe("datastore 'x' does not exist");
    expect(
      errorReason('Unsupported Media Type', '{"status":415,"detail":"Incorrect version: endpoint is \'1.1\', client requested \'1.3\'","traceback":null}'),
    ).toBe("Incorrect version: endpoint is '1.1', client requested '1.3'");
  });
});

describe('HttpTarget', () => {
  it('retries 503 then succeeds, and reports each attempt', async () => {
    let n = 0;
    server = await startFakeHttps(() => (++n < 3 ? { status: 503, statusText: 'busy' } : { status: 200, body: { data: [1] } }));
    const events: unknown[] = [];
    const t = target(server.url, { onRequest: (e) => events.push(e.status) });
    expect(await t.getJson('/nodes')).toEqual({ data: [1] });
    expect(events).toEqual([503, 503, 200]);
    expect(server.requests.map((r) => r.path)).toEqual(['/api2/json/nodes', '/api2/json/nodes', '/api2/json/nodes']);
  });

  it('gives up after 5 attempts with the status and reason', async () => {
    server = await startFakeHttps(() => ({ status: 502, statusText: 'Bad Gateway' }));
    await expect(target(server.url).getJson('/version')).rejects.toMatchObject({ status: 502, reason: 'Bad Gateway' });
    expect(server.requests).toHaveLength(5);
  });

  it('does not retry a 500 and surfaces the status-line reason', async () => {
    server = await startFakeHttps(() => ({ status: 500, statusText: 'QEMU guest agent is not running', body: { data: null } }));
    const err = await target(server.url)
      .getJson('/nodes/pve1/qemu/100/agent/get-osinfo')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).message).toBe('GET /nodes/pve1/qemu/100/agent/get-osinfo: HTTP 500 QEMU guest agent is not running');
    expect(server.requests).toHaveLength(1);
  });

  it('throws HttpBadJsonError, not a bare error, for a 200 that is not JSON, and does not retry it', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: '<html><body>Bad Gateway</body></html>', headers: { 'content-type': 'text/html' } }));
    const err = await target(server.url)
      .getJson('/cluster/resources', { type: 'vm' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpBadJsonError);
    expect((err as HttpBadJsonError).message).toBe(
      'GET /cluster/resources?type=vm: response is not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON)',
    );
    expect((err as HttpBadJsonError).detail).toBe('not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON)');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a 2xx whose Content-Length is past maxResponseBytes, naming the setting, and does not retry it', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: JSON.stringify({ data: 'x'.repeat(5000) }) }));
    const events: unknown[] = [];
    const t = target(server.url, { maxResponseBytes: 4096, settings: targetSettings('PBS'), onRequest: (e) => events.push(e.status) });
    const err = await t.getJson('/admin/datastore/s/snapshots', { ns: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpTooLargeError);
    expect((err as Error).message).toBe('GET /admin/datastore/s/snapshots?ns=a: response is larger than 4096 bytes (PBS_API_MAX_RESPONSE_BYTES); not read');
    expect(events).toEqual([200]);
    expect(server.requests).toHaveLength(1);
  });

  it('stops reading an answer without Content-Length at the cap, so an endless body ends there', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: '{"data":[', trickle: { everyMs: 1, bytes: 64 * 1024, endless: true } }));
    const err = await target(server.url, { maxResponseBytes: 1024 * 1024, timeoutMs: 20_000 })
      .getJson('/cluster/resources')
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('GET /cluster/resources: response is larger than 1 MiB; not read');
  }, 20_000);

  it('caps at 64 MiB unless told otherwise', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(67_108_864);
    server = await startFakeHttps(() => ({ status: 200, body: '{"data":', headers: { 'content-length': String(DEFAULT_MAX_RESPONSE_BYTES + 1) } }));
    const err = await target(server.url)
      .getJson('/x')
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('GET /x: response is larger than 64 MiB; not read');
  });

  it('reads only the head of a large error answer, for its reason', async () => {
    server = await startFakeHttps(() => ({ status: 500, body: `datastore is broken: ${'x'.repeat(2 * 1024 * 1024)}` }));
    const err = await target(server.url, { maxResponseBytes: 1024 })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).reason).toBe(`datastore is broken: ${'x'.repeat(479)}`);
  });

  it("verifies against a CA file and rejects an unknown CA, naming the settings instead of Node's --use-system-ca", async () => {
    server = await startFakeHttps(() => ({ status: 200, body: { data: 'ok' } }));
    expect(await target(server.url, { tls: { verify: true, caFile: TEST_CA_FILE } }).getJson('/x')).toEqual({ data: 'ok' });
    const err = await target(server.url, { tls: { verify: true }, settings: targetSettings('PROXMOX') })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpConnectError);
    expect((err as HttpConnectError).errorCode).toBe('TLS_VERIFY');
    expect((err as Error).message).toBe(
      'GET /x: TLS: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set PROXMOX_CA_FILE to the CA that signed it, or pin the certificate with PROXMOX_FINGERPRINT and set PROXMOX_SSL_VERIFY: false',
    );
    expect(server.requests).toHaveLength(1);
  });

  it("says the CA file is the wrong one, or the name is not the certificate's, with the settings to change", async () => {
    server = await startFakeHttps(() => ({ status: 200, body: { data: 'ok' } }));
    const wrongCa = await target(server.url, { tls: { verify: true, caFile: SERVER_PEM }, settings: targetSettings('PBS') })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect((wrongCa as Error).message).toBe(
      `GET /x: TLS: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); the certificate is not signed by the CA in PBS_CA_FILE (${SERVER_PEM}): give the CA that signed it, or pin the certificate with PBS_FINGERPRINT and set PBS_SSL_VERIFY: false`,
    );
    await server.close();
    // The test certificate is for localhost, 127.0.0.1 and ::1; 127.0.0.2 is loopback too.
    server = await startFakeHttps(() => ({ status: 200, body: { data: 'ok' } }), { host: '127.0.0.2' });
    const wrongName = await target(`https://127.0.0.2:${server.port}`, { tls: { verify: true, caFile: TEST_CA_FILE }, settings: targetSettings('CEPH') })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect((wrongName as Error).message).toBe(
      "GET /x: TLS: Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1, ::1 (ERR_TLS_CERT_ALTNAME_INVALID); connect by a name the certificate lists, or pin the certificate with CEPH_FINGERPRINT and set CEPH_SSL_VERIFY: false",
    );
  });

  it('names the setting and the path of a CA file that is missing or holds no certificate', () => {
    const open = (caFile: string) => () => target('https://127.0.0.1:1', { tls: { verify: true, caFile }, settings: targetSettings('PDM') });
    expect(open('/nonexistent/pdm-ca.pem')).toThrow(TlsConfigError);
    expect(open('/nonexistent/pdm-ca.pem')).toThrow('PDM_CA_FILE "/nonexistent/pdm-ca.pem" cannot be read: no such file or directory (ENOENT)');
    expect(open(new URL('../../test/tls/server.key', import.meta.url).pathname)).toThrow(
      /^PDM_CA_FILE ".*\/test\/tls\/server\.key" holds no PEM certificate \(no "-----BEGIN CERTIFICATE-----" line\)$/,
    );
  });

  it('checks a fingerprint pin even with verification off, and fails closed on mismatch', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: { data: 'ok' } }));
    expect(await target(server.url, { tls: { verify: false, fingerprint: TEST_CERT_FINGERPRINT.toLowerCase() } }).getJson('/x')).toEqual({ data: 'ok' });
    // Many connections: a resumed TLS session must not slip past the pin check.
    const pinned = target(server.url, { tls: { verify: false, fingerprint: TEST_CERT_FINGERPRINT }, concurrency: 4 });
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => pinned.request('GET', `/x/${i}`, { headers: { connection: 'close' } })));
    }
    const bad = TEST_CERT_FINGERPRINT.replace(/^47/, '00');
    const err = await target(server.url, { tls: { verify: false, fingerprint: bad } })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpConnectError);
    expect((err as HttpConnectError).errorCode).toBe('TLS_PIN');
    expect(server.requests).toHaveLength(25);
    const named = await target(server.url, { tls: { verify: false, fingerprint: bad }, settings: targetSettings('PROXMOX') })
      .getJson('/x')
      .catch((e: unknown) => e);
    expect((named as Error).message).toBe(
      `GET /x: certificate of 127.0.0.1:${server.port} has SHA-256 fingerprint ${TEST_CERT_FINGERPRINT}, expected ${bad} (PROXMOX_FINGERPRINT)`,
    );
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    server = await startFakeHttps(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { status: 200, body: { data: null } };
    });
    const t = target(server.url, { concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => t.getJson(`/r/${i}`)));
    expect(peak).toBe(3);
  });

  // A deadline is the behaviour under test here, so these time the call, with wide margins.
  it('times out a body trickled one byte every 0.7 s after the timeout, not after the last byte (15.7 s before)', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: { data: 'x'.repeat(10) }, trickle: { everyMs: 700 } }));
    const t = target(server.url, { timeoutMs: 2000, settings: targetSettings('PROXMOX') });
    const from = performance.now();
    const err = await t.getJson('/nodes').catch((e: unknown) => e);
    const took = performance.now() - from;
    expect(err).toBeInstanceOf(HttpConnectError);
    expect((err as HttpConnectError).message).toBe('GET /nodes: timed out after 2 s (PROXMOX_API_TIMEOUT)');
    expect((err as HttpConnectError).errorCode).toBe('TIMEOUT');
    expect(took).toBeGreaterThan(1900);
    expect(took).toBeLessThan(6000);
    expect(server.requests).toHaveLength(1);
  }, 20_000);

  it('ends an endless trickle at the deadline, and gives each retried attempt a deadline of its own', async () => {
    let n = 0;
    server = await startFakeHttps(() =>
      ++n === 1 ? { status: 503, statusText: 'busy' } : { status: 200, body: '{"data":', trickle: { everyMs: 100, endless: true } },
    );
    const t = target(server.url, { timeoutMs: 1000 });
    const from = performance.now();
    const err = await t.getJson('/version').catch((e: unknown) => e);
    expect((err as Error).message).toBe('GET /version: timed out after 1 s');
    expect(performance.now() - from).toBeLessThan(5000);
    expect(server.requests).toHaveLength(2);
  }, 20_000);

  it('still ends on the run signal, with the abort reason rather than a timeout', async () => {
    server = await startFakeHttps(() => ({ status: 200, body: '', trickle: { everyMs: 100, endless: true } }));
    const ac = new AbortController();
    const t = target(server.url, { timeoutMs: 30_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('policy stopped')), 200);
    const err = await t.getJson('/version').catch((e: unknown) => e);
    expect(err).toBe(ac.signal.reason);
  }, 20_000);
});
