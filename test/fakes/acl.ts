/*
 * The privileges a fake's API token holds, for fakes that answer like the real server when
 * one is missing (PVE, PBS, PDM). ACLs with propagate=1, the way discovery tokens are set
 * up: a privilege granted on a path holds on every path below it.
 *
 * A privilege-separated PVE token (`privsep=1`) holds only what both its own ACL and its
 * user's grant (pve-access-control PVE/RPCEnvironment.pm compile_acl_path, "intersect user
 * and token permissions"); the same model serves for PBS and PDM tokens, which have ACLs of
 * their own.
 */

/** Privileges by ACL path ("/", "/nodes/pve1", "/datastore/store1"). */
export type AclGrants = Readonly<Record<string, readonly string[]>>;

export interface FakeTokenAcl {
  /** What the token's user is granted. */
  user: AclGrants;
  /** A privilege-separated token's own ACL; absent: the token has its user's privileges. */
  token?: AclGrants;
}

function granted(grants: AclGrants, path: string): Set<string> {
  const out = new Set<string>();
  for (const [at, privs] of Object.entries(grants)) {
    if (at === '/' || path === at || path.startsWith(`${at}/`)) for (const p of privs) out.add(p);
  }
  return out;
}

/** The token's privileges on `path`. */
export function privilegesOn(acl: FakeTokenAcl, path: string): Set<string> {
  const user = granted(acl.user, path);
  if (acl.token === undefined) return user;
  const token = granted(acl.token, path);
  return new Set([...user].filter((p) => token.has(p)));
}

/** Whether the token holds any of `privs` on `path`; no ACL at all means every privilege (root@pam). */
export function holdsAny(acl: FakeTokenAcl | undefined, path: string, privs: readonly string[]): boolean {
  if (acl === undefined) return true;
  const have = privilegesOn(acl, path);
  return privs.some((p) => have.has(p));
}

/** Whether the token holds any privilege at all on `path`. */
export function holdsSome(acl: FakeTokenAcl | undefined, path: string): boolean {
  return acl === undefined || privilegesOn(acl, path).size > 0;
}

/**
 * PVEAuditor's privileges (pve-access-control PVE/AccessControl.pm create_roles: each
 * $privgroups entry's `audit` list); no guest-agent one.
 */
export const PVE_AUDIT_PRIVILEGES = ['Sys.Audit', 'VM.Audit', 'Datastore.Audit', 'SDN.Audit', 'Pool.Audit', 'Mapping.Audit'] as const;

/** `privs` without `drop`, for a token lacking one privilege. */
export function without(privs: readonly string[], ...drop: string[]): string[] {
  return privs.filter((p) => !drop.includes(p));
}
