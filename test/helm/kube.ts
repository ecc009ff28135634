/*
 * Validates rendered objects against the Kubernetes object schemas that the
 * `kubernetes-models` packages compile from the API server's OpenAPI documents (types,
 * enums, required fields, patterns such as Prometheus durations). Like the API's own
 * schemas these do not forbid unknown fields, so the chart tests also pin the exact keys
 * of the objects they care about.
 */
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

type Model = { validate(): void };
const MODELS: Record<string, new (data: any) => Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** Throws with the object's kind and name when it does not validate, or has no model here. */
export function validateObject(obj: Record<string, unknown>): void {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const name = (obj.metadata as { name?: string } | undefined)?.name ?? '?';
  const M = MODELS[key];
  if (!M) throw new Error(`no kubernetes-models class for ${key} (${name}): add one to test/helm/kube.ts`);
  try {
    new M(obj).validate();
  } catch (e) {
    throw new Error(`${key} ${name}: ${(e as Error).message}`);
  }
  // DNS-1123 names (metadata.name of every kind the chart renders must be a DNS subdomain).
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new Error(`${key} ${name}: metadata.name is not a DNS-1123 subdomain`);
}
