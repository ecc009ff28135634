import type {
  Cluster, CustomFieldValue, Device, Site, Tag, VirtualMachine,
} from '../../proto/diode/v1/types.ts';

/*
 * One helper per kind of nested reference, so every entity that points at, say, a node
 * carries exactly the same stub and Diode resolves them all to one object (DESIGN.md §5).
 */

/** NetBox's slugify: lower-case, non-alphanumerics to '-', trimmed, at most 100 chars. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100) || 'none';
}

export function tagRef(name: string): Tag {
  return { name, slug: slugify(name) };
}

export function siteRef(name: string): Site {
  return { name, slug: slugify(name) };
}

export function clusterRef(name: string): Cluster {
  return { name };
}

export function deviceRef(name: string, site: string): Device {
  return { name, site: siteRef(site) };
}

export function vmRef(name: string, cluster: string): VirtualMachine {
  return { name, cluster: clusterRef(cluster) };
}

export const cf = {
  text: (text: string): CustomFieldValue => ({ text }),
  integer: (integer: number): CustomFieldValue => ({ integer }),
  json: (value: unknown): CustomFieldValue => ({ json: JSON.stringify(value) }),
  boolean: (boolean: boolean): CustomFieldValue => ({ boolean }),
  multiple: (multiple_selection: string[]): CustomFieldValue => ({ multiple_selection }),
  datetime: (d: Date): CustomFieldValue => ({ datetime: { seconds: Math.floor(d.getTime() / 1000), nanos: 0 } }),
};
