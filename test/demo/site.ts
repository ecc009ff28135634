import type { FakeServer } from '../fakes/https-server.ts';

/* What every collector's part of the demo lab (agent/collectors/<id>/cases/lab.ts) shares. */

export const CLUSTER = 'lab-cluster';
export const SITE = 'Lab';
export const SITE_MAP = 'pve3:Lab-DR';

/** One fake upstream of the lab (if the collector reads one) and the policy that reads it. */
export interface LabService {
  server?: FakeServer;
  policy: Record<string, unknown>;
  env: Record<string, string>;
}

/** A collector's part of the demo lab, and what its one dry run gives (test/demo.test.ts). */
export interface CollectorLab {
  start(dir: string): Promise<LabService>;
  demo: {
    policy: string;
    status: 'success' | 'partial' | 'failed';
    /** IngestRequests: one per delivery phase the policy has entities in (mappers/order.ts DELIVERY_PHASES). */
    requests: number;
    measures?: Record<string, number>;
  };
}
