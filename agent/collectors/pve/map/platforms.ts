import type { PveGuest } from '../snapshot.ts';

/** Seed "VM Platform Mapping (from ostype)"; null means no platform. */
export const OSTYPE_PLATFORMS: Readonly<Record<string, string | null>> = {
  l24: 'Linux',
  l26: 'Linux',
  w2k: 'Windows 2000',
  w2k3: 'Windows Server 2003',
  w2k8: 'Windows Server 2008',
  wvista: 'Windows Vista',
  win7: 'Windows 7',
  win8: 'Windows 8/2012',
  win10: 'Windows 10/2016/2019',
  win11: 'Windows 11/2022',
  solaris: 'Solaris',
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  centos: 'CentOS',
  fedora: 'Fedora',
  opensuse: 'openSUSE',
  archlinux: 'Arch Linux',
  alpine: 'Alpine Linux',
  gentoo: 'Gentoo',
  nixos: 'NixOS',
  unmanaged: null,
  other: null,
};

/** Python's str.title(), which the seed's "(ostype title-cased)" row refers to: w2k19 → W2K19. */
export function titleCase(s: string): string {
  let out = '';
  let prevLetter = false;
  for (const ch of s) {
    const isLetter = ch.toLowerCase() !== ch.toUpperCase();
    out += isLetter ? (prevLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevLetter = isLetter;
  }
  return out;
}

export function ostypePlatform(ostype: string | undefined): string | undefined {
  const key = ostype?.trim();
  if (!key) return undefined;
  if (Object.hasOwn(OSTYPE_PLATFORMS, key)) return OSTYPE_PLATFORMS[key] ?? undefined;
  return titleCase(key);
}

/**
 * QEMU: the guest agent's `name` + `version-id` ("Ubuntu 24.04") when the agent
 * answered, else the ostype map. LXC: always the ostype map (seed "VM/LXC Platform").
 */
export function guestPlatformName(g: PveGuest): string | undefined {
  if (g.type === 'qemu') {
    const os = g.agent?.osinfo;
    if (os?.name) return [os.name, os.versionId].filter(Boolean).join(' ').slice(0, 100);
  }
  return ostypePlatform(g.config?.ostype);
}

/** "Proxmox VE X.Y" from the node's version (the collector parsed it from `pveversion`). */
export function nodePlatformName(version: string | undefined): string | undefined {
  return version === undefined ? undefined : `Proxmox VE ${version}`;
}
