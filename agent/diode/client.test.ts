import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiodeIngester, GrpcCode } from '../../test/fakes/diode-ingester.ts';
import { TEST_CA_FILE } from '../../test/fakes/https-server.ts';
import { entity, type AnyEntity } from '../../mappers/types.ts';
import { DiodeClient, DiodeError } from './client.ts';
import { encodeEntity, EntityType, IngestRequestType } from './codec.ts';
import { DeliveryError, deliver } from '../pipeline/requests.ts';
import { DryRunSink, listDryRunFiles, readDryRunFile, requestToJson } from './dry-run.ts';
import { shouldRetryGrpc } from './retry.ts';
import { parseTarget } from './target.ts';

const log = pino({ level: 'silent' });
const header = {
  stream: 'latest',
  producer_app_name: 'diode-agent-test',
  producer_app_version: '0.1.0',
  sdk_name: 'proxmox-diode-agent',
  sdk_version: '0.1.0',
};
const at = new Date('2026-11-21T10:00:00.000Z');

function tags(n: number, pad = 0): AnyEntity[] {
  return Array.from({ length: n }, (_, i) => entity('tag', { name: `t${String(i).padStart(6, '0')}`, slug: `t${i}`, description: 'x'.repeat(pad) }));
}

let ingester: FakeDiodeIngester;
let client: DiodeClient | undefined;
beforeEach(async () => {
  ingester = await new FakeDiodeIngester().start();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await ingester.stop();
});

function newClient(over: Partial<ConstructorParameters<typeof DiodeClient>[0]> = {}): DiodeClient {
  client = new DiodeClient({
    target: ingester.target,
    clientId: ingester.opts.clientId,
    clientSecret: ingester.opts.clientSecret,
    timeoutMs: 5000,
    maxAttempts: 4,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    log,
    ...over,
  });
  return client;
}

describe('parseTarget', () => {
  it('derives address, default ports, method path and token URL', () => {
    expect(parseTarget('grpcs://netbox.example.com/diode')).toMatchObject({
      address: 'netbox.example.com:443',
      tls: true,
      ingestPath: '/diode/diode.v1.IngesterService/Ingest',
      tokenUrl: 'https://netbox.example.com:443/diode/auth/token',
    });
    expect(parseTarget('grpc://10.0.0.1:8080')).toMatchObject({
      address: '10.0.0.1:8080',
      tls: false,
      ingestPath: '/diode.v1.IngesterService/Ingest',
      tokenUrl: 'http://10.0.0.1:8080/auth/token',
    });
    expect(parseTarget('grpc://h/')).toMatchObject({ port: 80, pathPrefix: '' });
    expect(() => parseTarget('https://h/diode')).toThrow('scheme must be grpc:// or grpcs://');
  });
});

describe('shouldRetryGrpc', () => {
  it('retries transient codes only, within the attempt limit', () => {
    for (const c of [GrpcCode.UNAVAILABLE, GrpcCode.RESOURCE_EXHAUSTED, GrpcCode.DEADLINE_EXCEEDED, GrpcCode.ABORTED, GrpcCode.INTERNAL]) {
      expect(shouldRetryGrpc(c, 1, 5)).toBe(true);
      expect(shouldRetryGrpc(c, 5, 5)).toBe(false);
    }
    for (const c of [GrpcCode.UNKNOWN, GrpcCode.INVALID_ARGUMENT, GrpcCode.UNAUTHENTICATED, GrpcCode.UNIMPLEMENTED])
      expect(shouldRetryGrpc(c, 1, 5)).toBe(false);
  });
});

describe('DiodeClient over real sockets', () => {
  it('sends to the prefixed path with a bearer token from the client-credentials grant', async () => {
    const c = newClient();
    await deliver(tags(3).map(encodeEntity), { sink: c, header, at, log });
    expect(ingester.tokenRequests).toEqual([
      { grant_type: 'client_credentials', client_id: 'diode-agent-test', client_secret: 's3cr3t-client-value', scope: 'diode:ingest' },
    ]);
    expect(ingester.ingests).toHaveLength(1);
    const [r] = ingester.ingests;
    expect(r?.path).toBe('/diode/diode.v1.IngesterService/Ingest');
    expect(r?.authorization).toBe('Bearer tok-1');
    expect(r?.request).toMatchObject({ stream: 'latest', producer_app_name: 'diode-agent-test', sdk_version: '0.1.0' });
    expect(r?.request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r?.request.entities.map((e) => (e.tag as { name: string }).name)).toEqual(['t000000', 't000001', 't000002']);
    expect(r?.request.entities[0]?.timestamp).toEqual({ seconds: at.getTime() / 1000 });
  });

  it('refreshes the token once after UNAUTHENTICATED and succeeds', async () => {
    const c = newClient();
    await deliver(tags(1).map(encodeEntity), { sink: c, header, at, log });
    ingester.expireTokens();
    await deliver(tags(1).map(encodeEntity), { sink: c, header, at, log });
    expect(ingester.ingests.map((r) => [r.authorization, r.code])).toEqual([
      ['Bearer tok-1', 0],
      ['Bearer tok-1', GrpcCode.UNAUTHENTICATED],
      ['Bearer tok-2', 0],
    ]);
    expect(ingester.tokenRequests).toHaveLength(2);
  });

  it('retries UNAVAILABLE then succeeds, without duplicating the accepted request', async () => {
    ingester.faults.push({ code: GrpcCode.UNAVAILABLE }, { code: GrpcCode.UNAVAILABLE });
    const res = await deliver(tags(2).map(encodeEntity), { sink: newClient(), header, at, log });
    expect(ingester.ingests.map((r) => r.code)).toEqual([GrpcCode.UNAVAILABLE, GrpcCode.UNAVAILABLE, 0]);
    expect(new Set(ingester.ingests.map((r) => r.request.id)).size).toBe(1);
    expect(res).toMatchObject({ requests: 1, entities: 2, errors: [] });
  });

  it('does not retry UNKNOWN and reports it', async () => {
    ingester.faults.push({ code: GrpcCode.UNKNOWN, message: 'validation failed: bad entity' });
    const err = await deliver(tags(1).map(encodeEntity), { sink: newClient(), header, at, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).cause).toBeInstanceOf(DiodeError);
    expect((err as DeliveryError).message).toBe('Diode UNKNOWN: validation failed: bad entity');
    expect((err as DeliveryError).nextChunk).toBe(0);
    expect(ingester.ingests).toHaveLength(1);
  });

  it('surfaces IngestResponse.errors', async () => {
    ingester.faults.push({ code: 0, errors: ['tag t000000: slug conflict'] });
    const res = await deliver(tags(1).map(encodeEntity), { sink: newClient(), header, at, log });
    expect(res.errors).toEqual(['tag t000000: slug conflict']);
  });

  it('splits at 1000 entities and keeps order across requests', async () => {
    const all = tags(2500);
    const res = await deliver(all.map(encodeEntity), { sink: newClient(), header, at, log });
    expect(ingester.ingests.map((r) => r.request.entities.length)).toEqual([1000, 1000, 500]);
    expect(ingester.acceptedEntities().map((e) => (e.tag as { name: string }).name)).toEqual(all.map((e) => (e.value as { name: string }).name));
    expect(res.requests).toBe(3);
  });

  it('splits at 3 MiB and keeps each request under it', async () => {
    const all = tags(400, 20_000);
    await deliver(all.map(encodeEntity), { sink: newClient(), header, at, log });
    const sizes = ingester.ingests.map((r) => r.bytes.length);
    expect(sizes.length).toBe(3);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(ingester.ingests.map((r) => r.request.entities.length).reduce((a, b) => a + b)).toBe(400);
    expect(ingester.acceptedEntities().map((e) => (e.tag as { name: string }).name)).toEqual(all.map((e) => (e.value as { name: string }).name));
  });

  it('speaks grpcs:// with a CA file, token endpoint and gRPC on one TLS port', async () => {
    await ingester.stop();
    ingester = await new FakeDiodeIngester({ tls: true }).start();
    const c = newClient({ caFile: TEST_CA_FILE });
    await deliver(tags(1).map(encodeEntity), { sink: c, header, at, log });
    expect(ingester.ingests.map((r) => r.code)).toEqual([0]);
  });
});

describe('dry run', () => {
  it('writes one proto3-JSON file per request that decodes back to the same request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dry-'));
    const sent: Uint8Array[] = [];
    const sink = new DryRunSink(dir, 'diode-agent-test');
    const recording = {
      ingest: async (b: Uint8Array) => {
        sent.push(b);
        return sink.ingest(b);
      },
      close: async () => {},
    };
    const ents: AnyEntity[] = [
      ...tags(1500),
      entity('virtual_machine', {
        name: 'vm1',
        cluster: { name: 'c1' },
        memory: 4096,
        vcpus: 2,
        status: 'active',
        custom_fields: { proxmox_vmid: { text: '100' }, n: { integer: 7 } },
      }),
    ];
    await deliver(ents.map(encodeEntity), { sink: recording, header, at, log });
    const files = listDryRunFiles(dir);
    // Tags are the first delivery phase: requests of their own (1000 + 500), the VM in a third.
    expect(files).toHaveLength(3);
    expect(files.every((f) => /diode-agent-test_\d{19}\.json$/.test(f))).toBe(true);
    for (const [i, f] of files.entries()) expect(Buffer.from(readDryRunFile(f)).equals(Buffer.from(sent[i]!))).toBe(true);
    const json = JSON.parse(readFileSync(files[2]!, 'utf8'));
    expect(json.producer_app_name).toBe('diode-agent-test');
    expect(json.entities).toHaveLength(1);
    expect(json.entities.at(-1)).toEqual({
      timestamp: '2026-11-21T10:00:00Z',
      virtual_machine: {
        name: 'vm1',
        status: 'active',
        cluster: { name: 'c1' },
        vcpus: 2,
        memory: '4096',
        custom_fields: { proxmox_vmid: { text: '100' }, n: { integer: '7' } },
      },
    });
    expect(requestToJson(sent[0]!).entities).toHaveLength(1000);
    expect(requestToJson(sent[1]!).entities).toHaveLength(500);
  });

  it('encodes entity oneof members with the schema field numbers', () => {
    const bytes = EntityType.encode({ device: { name: 'pve1' } }).finish();
    expect(bytes[0]).toBe((22 << 3) | 2);
    const vm = EntityType.encode({ virtual_machine: { name: 'a' } }).finish();
    expect(vm[0]).toBe(0xb2); // field 86, wire type 2: varint 0xb2 0x05
    expect(vm[1]).toBe(0x05);
    expect(IngestRequestType.fields.entities?.id).toBe(2);
  });
});
