import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startFakeHttps, TEST_CERT_FINGERPRINT, type FakeHandler, type FakeResponse, type FakeServer } from '../../test/fakes/https-server.ts';
import { HttpBadJsonError, HttpConnectError, HttpStatusError, HttpTarget } from './client.ts';
import {
  ApiResponseError,
  ApiUnreachableError,
  apiTargetRequest,
  apiTokenHeader,
  bearerHeader,
  hostPort,
  namedPrivilege,
  ProxmoxApi,
  type ApiService,
  type ApiSession,
  type TokenScheme,
} from './proxmox.ts';

const SERVICE: ApiService = {
  id: 'pve',
  product: 'Proxmox VE',
  hint: (err) => (err instanceof HttpStatusError && err.status === 401 ? ' (check the token)' : ''),
};
const API = new ProxmoxApi(SERVICE);

/** A secret with the characters a header or a message could mangle or leak through quoting. */
const SECRET = `s3"cr'et\\with\\\\back"slashes`;

let server: FakeServer | undefined;
const targets: HttpTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
  await server?.close();
  server = undefined;
});

function target(port: number, authorization = apiTokenHeader('PVEAPIToken', 'root@pam!netbox', SECRET), maxResponseBytes = 64 * 1024): HttpTarget {
  const t = new HttpTarget({
    ...apiTargetRequest({
      host: '127.0.0.1',
      port,
      authorization,
      tls: { verify: false, fingerprint: TEST_CERT_FINGERPRINT },
      timeoutS: 2,
      maxResponseBytes,
      settingsPrefix: 'PROXMOX',
    }),
    concurrency: 2,
    maxAttempts: 2,
    backoffBaseMs: 1,
    backoffMaxMs: 2,
  });
  targets.push(t);
  return t;
}

async function session(handler: FakeHandler, authorization?: string): Promise<ApiSession & { dropped: Array<[string, number, string]> }> {
  server = await startFakeHttps(handler);
  const dropped: Array<[string, number, string]> = [];
  return { target: target(server.port, authorization), onDrop: (path, index, why) => dropped.push([path, index, why]), dropped };
}

const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const versionSchema = z.object({ version: z.string() });
const nodeSchema = z.object({ node: z.string() });

describe('ProxmoxApi: the envelope', () => {
  it('returns data of {"data": …} from /api2/json/PATH with the query, ignoring result attributes such as total and digest', async () => {
    const s = await session(() => ({ status: 200, body: { data: { version: '8.4.1', extra: 1 }, total: 1, digest: 'abc' } }));
    expect(await API.get(s, '/version', versionSchema, { full: '1' })).toEqual({ version: '8.4.1' });
    expect(server?.requests.map((r) => `${r.method} ${r.path}?${r.query.toString()}`)).toEqual(['GET /api2/json/version?full=1']);
  });

  it('data() hands over data unchecked, null included', async () => {
    const s = await session(() => ({ status: 200, body: { data: null } }));
    expect(await API.data(s, '/nodes/pve1/status')).toBeNull();
  });

  it('rejects a body that is not an envelope, and one without data, naming the path without its query', async () => {
    const bodies = [[1, 2], {}, 'text'];
    const s = await session(() => ({ status: 200, body: JSON.stringify(bodies.shift()) }));
    const errs = [
      await failure(API.get(s, '/cluster/resources', versionSchema, { type: 'vm' })),
      await failure(API.get(s, '/cluster/resources', versionSchema, { type: 'vm' })),
      await failure(API.data(s, '/version')),
    ];
    expect(errs.map((e) => (e as Error).message)).toEqual([
      'GET /cluster/resources: unexpected response: Invalid input: expected object, received array',
      'GET /cluster/resources: unexpected response: no "data" member',
      'GET /version: unexpected response: Invalid input: expected object, received string',
    ]);
    for (const e of errs) {
      expect(e).toBeInstanceOf(ApiResponseError);
      expect((e as ApiResponseError).code).toBe('pve_bad_response');
    }
    expect((errs[0] as ApiResponseError).path).toBe('/cluster/resources');
  });
});

describe('ProxmoxApi: the shape of data', () => {
  it('names each issue below data, root issues as "data:", with the zod error as cause', async () => {
    const bodies = [{ data: ['not', 'an', 'object'] }, { data: { version: 8 } }, { data: null }];
    const s = await session(() => ({ status: 200, body: bodies.shift() }));
    const errs = [
      await failure(API.get(s, '/nodes/pve1/status', versionSchema)),
      await failure(API.get(s, '/version', versionSchema)),
      await failure(API.list(s, '/nodes', nodeSchema)),
    ];
    expect(errs.map((e) => (e as Error).message)).toEqual([
      'GET /nodes/pve1/status: unexpected response: data: Invalid input: expected object, received array',
      'GET /version: unexpected response: data.version: Invalid input: expected string, received number',
      'GET /nodes: unexpected response: data: Invalid input: expected array, received null',
    ]);
    expect((errs[1] as Error).cause).toBeInstanceOf(z.ZodError);
  });

  it("check() without `under` names issues from the root, as for the dashboard's bare answers", () => {
    const err = (() => {
      try {
        return API.check('/api/auth', z.object({ token: z.string() }), { token: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect((err as Error).message).toBe('GET /api/auth: unexpected response: token: Invalid input: expected string, received number');
  });
});

describe('ProxmoxApi: lists', () => {
  it('drops each bad item with onDrop (path, index, why) and keeps the rest in order', async () => {
    const s = await session(() => ({ status: 200, body: { data: [{ node: 'pve2' }, { status: 'online' }, 'pve3', { node: 'pve1' }] } }));
    expect(await API.list(s, '/nodes', nodeSchema)).toEqual([{ node: 'pve2' }, { node: 'pve1' }]);
    expect(s.dropped).toEqual([
      ['/nodes', 1, 'node: Invalid input: expected string, received undefined'],
      ['/nodes', 2, 'Invalid input: expected object, received string'],
    ]);
  });

  it('items() reads a list already unwrapped with the same drop rule', () => {
    const dropped: unknown[] = [];
    expect(API.items({ onDrop: (...a) => dropped.push(a) }, '/api/osd', nodeSchema, [{ node: 'a' }, {}])).toEqual([{ node: 'a' }]);
    expect(dropped).toEqual([['/api/osd', 1, 'node: Invalid input: expected string, received undefined']]);
  });
});

describe('ProxmoxApi: a 2xx body that cannot be used costs its item, never the run', () => {
  it('turns a body that is not JSON into ApiResponseError naming the path, and the next call goes on', async () => {
    const s = await session((req) =>
      req.path.endsWith('/network')
        ? { status: 200, body: '<html><body>502 Bad Gateway</body></html>', headers: { 'content-type': 'text/html' } }
        : { status: 200, body: { data: [{ node: 'pve1' }] } },
    );
    const err = await failure(API.list(s, '/nodes/pve2/network', nodeSchema));
    expect(err).toBeInstanceOf(ApiResponseError);
    expect((err as Error).message).toBe('GET /nodes/pve2/network: unexpected response: not JSON (Unexpected token \'<\', "<html><bod"... is not valid JSON)');
    expect((err as Error).cause).toBeInstanceOf(HttpBadJsonError);
    expect(await API.list(s, '/nodes', nodeSchema)).toEqual([{ node: 'pve1' }]);
  });

  it('turns an answer past the size cap into ApiResponseError naming the setting', async () => {
    const s = await session(() => ({ status: 200, body: { data: 'x'.repeat(70 * 1024) } }));
    expect(((await failure(API.data(s, '/cluster/resources', { type: 'vm' }))) as Error).message).toBe(
      'GET /cluster/resources: unexpected response: larger than 65536 bytes (PROXMOX_API_MAX_RESPONSE_BYTES); not read',
    );
  });

  it('parseText() names the path of a text that is not JSON', () => {
    expect(() => API.parseText('/api/osd', '')).toThrow(new ApiResponseError(SERVICE, '/api/osd', 'not JSON (Unexpected end of JSON input)'));
  });

  it('leaves HTTP failures as they are: HttpStatusError with the reason', async () => {
    const s = await session(() => ({ status: 403, statusText: 'Permission check failed (/nodes/pve1, Sys.Audit)' }));
    const err = await failure(API.get(s, '/nodes/pve1/status', versionSchema));
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as Error).message).toBe('GET /nodes/pve1/status: HTTP 403 Permission check failed (/nodes/pve1, Sys.Audit)');
    expect(namedPrivilege((err as HttpStatusError).reason)).toBe('Sys.Audit on /nodes/pve1');
  });
});

describe('ApiUnreachableError', () => {
  it('names the product, the endpoint, the cause and the service hint, with its code', () => {
    const cause = new HttpStatusError('GET', '/version', 401, 'authentication failure');
    const err = API.unreachable(hostPort('fd00::10', 8006), cause);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect(err.code).toBe('pve_unreachable');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('Proxmox VE at [fd00::10]:8006 could not be read: GET /version: HTTP 401 authentication failure (check the token)');
  });
});

describe('token headers', () => {
  const cases: Array<[TokenScheme, string]> = [
    ['PVEAPIToken', `PVEAPIToken=root@pam!netbox=${SECRET}`],
    ['PBSAPIToken', `PBSAPIToken=root@pam!netbox:${SECRET}`],
    ['PDMAPIToken', `PDMAPIToken=root@pam!netbox:${SECRET}`],
  ];
  for (const [scheme, header] of cases) {
    it(`${scheme}: sends ${scheme}=ID${scheme === 'PVEAPIToken' ? '=' : ':'}SECRET byte for byte`, async () => {
      const s = await session(() => ({ status: 200, body: { data: { version: '1' } } }), apiTokenHeader(scheme, 'root@pam!netbox', SECRET));
      await API.get(s, '/version', versionSchema);
      expect(server?.requests[0]?.headers.authorization).toBe(header);
    });
  }

  it("the dashboard's bearer header carries the JWT as it is", () => {
    expect(bearerHeader('eyJ0eXAi.eyJpc3Mi.sig')).toBe('Bearer eyJ0eXAi.eyJpc3Mi.sig');
  });

  it('apiTargetRequest brackets IPv6 hosts and names the policy settings', () => {
    expect(
      apiTargetRequest({
        host: 'fd00::10',
        port: 8007,
        authorization: 'PBSAPIToken=a!b:c',
        tls: { verify: true },
        timeoutS: 3,
        maxResponseBytes: 10,
        settingsPrefix: 'PBS',
      }),
    ).toEqual({
      baseUrl: 'https://[fd00::10]:8007/api2/json',
      headers: { authorization: 'PBSAPIToken=a!b:c' },
      tls: { verify: true },
      timeoutMs: 3000,
      maxResponseBytes: 10,
      settings: {
        timeout: 'PBS_API_TIMEOUT',
        maxResponseBytes: 'PBS_API_MAX_RESPONSE_BYTES',
        verify: 'PBS_SSL_VERIFY',
        caFile: 'PBS_CA_FILE',
        fingerprint: 'PBS_FINGERPRINT',
      },
    });
  });
});

describe('secrets never appear in error messages', () => {
  it('not in a 401, a 500, a shape error, a body that is not JSON, a refused connection, nor the unreachable error around them', async () => {
    const answers: FakeResponse[] = [
      { status: 401, statusText: 'authentication failure' },
      { status: 500, statusText: 'internal error', body: { data: null, message: 'internal error' } },
      { status: 200, body: { data: { version: 8 } } },
      { status: 200, body: '<html>' },
    ];
    const s = await session(() => answers.shift() ?? { status: 200, body: { data: {} } });
    const errs: unknown[] = [];
    for (let i = 0; i < 4; i++) errs.push(await failure(API.get(s, '/version', versionSchema)));
    // A port nothing listens on: the server above, closed.
    const port = server?.port ?? 0;
    await server?.close();
    server = undefined;
    errs.push(await failure(API.get({ target: target(port), onDrop: () => {} }, '/version', versionSchema)));
    expect(errs.map((e) => e?.constructor)).toEqual([HttpStatusError, HttpStatusError, ApiResponseError, ApiResponseError, HttpConnectError]);
    const messages = errs.flatMap((e) => {
      const wrapped = API.unreachable(hostPort('127.0.0.1', port), e);
      return [(e as Error).message, wrapped.message, JSON.stringify(e), String((e as Error).stack)];
    });
    for (const m of messages) {
      expect(m).not.toContain(SECRET);
      expect(m).not.toContain('s3"cr');
      expect(m).not.toContain('PVEAPIToken');
    }
  });
});
