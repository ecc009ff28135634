/*
 * Snapshot types more than one collector fills: a PVE node and a PBS host both answer
 * GET /nodes/{node}/network with the same rows (pve-manager PVE/API2/Network.pm index;
 * proxmox-backup src/api2/node/network.rs list_network_devices), and mappers/common maps
 * them the same way. Part of the collector → mapper contract, like each <id>/snapshot.ts.
 */

/** One row of /nodes/{node}/network, already decoded (numbers are numbers). */
export interface NodeNetworkRow {
  iface: string;
  /** eth, bridge, bond, vlan, alias, OVSBridge, OVSBond, OVSPort, OVSIntPort, unknown… */
  type: string;
  method?: string;
  cidr?: string;
  address?: string;
  /** Prefix length ("24") or dotted mask ("255.255.255.0"). */
  netmask?: string;
  cidr6?: string;
  address6?: string;
  netmask6?: string;
  vlanId?: number;
  mtu?: number;
  speedMbps?: number;
  /** Position in /etc/network/interfaces; orders rows so "first IP" is stable. */
  priority?: number;
}
