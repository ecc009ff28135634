import type { CephConfig } from '../config.ts';
import { cephConfigSchema } from '../config.ts';
import { startFakePveRoutes, type PveRoutesScenario } from '../../pve/fake.ts';
import { startFakeCephDashboard, type CephDashboardScenario } from '../fake.ts';
import type { FakeRequest } from '../../../../test/fakes/https-server.ts';
import type { GoldenHarness } from '../../../../test/golden/harness.ts';

type Scenario = ({ kind: 'pve'; messageInBody?: boolean } & PveRoutesScenario) | ({ kind: 'dashboard' } & CephDashboardScenario);

/**
 * Ceph cases: scenario.json `{"kind": "pve" | "dashboard", …}` says which API the fake is:
 * the PVE fake with the Ceph endpoints' recorded answers, or the MGR dashboard. Host, port
 * or URL are pointed at it; the mapper gets that config.
 */
export const harness: GoldenHarness<CephConfig> = {
  now: new Date('2025-06-01T12:00:00Z'),
  warningOrder: 'emitted',
  async start(c) {
    const scenario = c.scenario as Scenario;
    const server =
      scenario.kind === 'pve' ? await startFakePveRoutes(scenario, { messageInBody: scenario.messageInBody ?? false }) : await startFakeCephDashboard(scenario);
    const raw = scenario.kind === 'pve' ? { ...c.raw, PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port } : { ...c.raw, CEPH_URL: `${server.url}/` };
    const config = cephConfigSchema.parse(raw);
    // The dashboard versions each endpoint by the Accept header, so it is part of the request.
    const requestLine = (r: FakeRequest): string => {
      const qs = r.query.toString();
      const accept = scenario.kind === 'dashboard' ? ` [${String(r.headers.accept)}]` : '';
      return `${r.method} ${r.path}${qs ? `?${decodeURIComponent(qs)}` : ''}${accept}`;
    };
    return { server, requestLine, collectConfig: config, mapConfig: config };
  },
};
