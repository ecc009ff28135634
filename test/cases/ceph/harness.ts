import type { CephConfig } from '../../../agent/collectors/ceph/config.ts';
import { cephConfigSchema } from '../../../agent/collectors/ceph/config.ts';
import { startFakeCephDashboard, startFakeCephPve, type CephDashboardScenario, type CephPveScenario } from '../../fakes/ceph-server.ts';
import type { FakeRequest } from '../../fakes/https-server.ts';
import type { GoldenHarness } from '../../golden/harness.ts';

type Scenario = ({ kind: 'pve'; messageInBody?: boolean } & CephPveScenario) | ({ kind: 'dashboard' } & CephDashboardScenario);

/**
 * Ceph cases: scenario.json `{"kind": "pve" | "dashboard", …}` says which API the fake is:
 * the PVE fake with the Ceph endpoints' recorded answers, or the MGR dashboard. Host, port
 * or URL are pointed at it; the mapper gets that config.
 */
export const harness: GoldenHarness<CephConfig> = {
  now: new Date('2025-06-01T12:00:00Z'),
  warningOrder: 'emitted',
  unorderedMapper: true,
  async start(c) {
    const scenario = c.scenario as Scenario;
    const server = scenario.kind === 'pve'
      ? await startFakeCephPve(scenario, { messageInBody: scenario.messageInBody ?? false })
      : await startFakeCephDashboard(scenario);
    const raw = scenario.kind === 'pve'
      ? { ...c.raw, PROXMOX_HOST: '127.0.0.1', PROXMOX_PORT: server.port }
      : { ...c.raw, CEPH_URL: `${server.url}/` };
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
