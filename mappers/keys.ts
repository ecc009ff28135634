import type { AnyEntity } from './types.ts';
import type { Cluster, Device, Interface, IPAddress, Prefix, Site, VirtualMachine, VLAN, VMInterface } from '../proto/diode/v1/types.ts';

/*
 * Natural keys: how Diode (and NetBox) identify an object without an id. Used for the
 * stable order within a kind, for delta state and for staleness. They mirror the identities
 * Diode matches on (netboxlabs/diode-netbox-plugin netbox_diode_plugin/api/matcher.py; listed
 * in README.md "What lands in NetBox"): a node is (name, site), a guest (name, cluster), a cluster
 * (name, scope), an interface (parent, name), an IP its address with prefix length, a
 * prefix its network.
 */
const siteKey = (s?: Site) => s?.name ?? '';
// A cluster is (name, scope), a prefix its network (and VRF): as Diode's matchers see them
// (netbox_diode_plugin/api/matcher.py), so two entities Diode folds into one row share a key.
const clusterKey = (c?: Cluster) => `${c?.scope_site?.name ?? ''}/${c?.name ?? ''}`;
export const deviceKey = (d?: Device) => `${siteKey(d?.site)}/${d?.name ?? ''}`;
export const vmKey = (v?: VirtualMachine) => `${clusterKey(v?.cluster)}/${v?.name ?? ''}`;
const ifaceKey = (i?: Interface) => `${deviceKey(i?.device)}/${i?.name ?? ''}`;
const vmIfaceKey = (i?: VMInterface) => `${vmKey(i?.virtual_machine)}/${i?.name ?? ''}`;
const vlanKey = (v?: VLAN) => `${siteKey(v?.site)}/${v?.vid ?? ''}`;
const prefixKey = (p?: Prefix) => `${p?.vrf?.name ?? ''}/${p?.prefix ?? ''}`;
const ipKey = (ip?: IPAddress) => `${ip?.vrf?.name ?? ''}/${ip?.address ?? ''}`;

export function naturalKey(e: AnyEntity): string {
  switch (e.kind) {
    case 'device':
      return deviceKey(e.value);
    case 'virtual_machine':
      return vmKey(e.value);
    case 'interface':
      return ifaceKey(e.value);
    case 'vm_interface':
      return vmIfaceKey(e.value);
    case 'ip_address':
      return ipKey(e.value);
    case 'prefix':
      return prefixKey(e.value);
    case 'vlan':
      return vlanKey(e.value);
    case 'cluster':
      return clusterKey(e.value);
    case 'virtual_disk':
      return `${vmKey(e.value.virtual_machine)}/${e.value.name ?? ''}`;
    case 'inventory_item':
      return `${deviceKey(e.value.device)}/${e.value.name ?? ''}`;
    case 'service': {
      const p = e.value.parent_object_device
        ? deviceKey(e.value.parent_object_device)
        : e.value.parent_object_virtual_machine
          ? vmKey(e.value.parent_object_virtual_machine)
          : '';
      return `${p}/${e.value.name ?? ''}/${e.value.protocol ?? ''}`;
    }
    case 'tag':
      return e.value.slug ?? e.value.name ?? '';
    case 'custom_field':
      return e.value.name ?? '';
    case 'custom_field_choice_set':
      return e.value.name ?? '';
    case 'cluster_type':
      return e.value.slug ?? e.value.name ?? '';
    case 'platform':
      return e.value.slug ?? e.value.name ?? '';
    case 'journal_entry':
      return JSON.stringify(e.value);
    default: {
      const v = e.value as { slug?: string; name?: string };
      return v.slug ?? v.name ?? JSON.stringify(e.value);
    }
  }
}
