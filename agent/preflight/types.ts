import type { HttpStatusError, HttpTarget } from '../http/client.ts';
import type { Scope, TargetRequest } from '../collectors/types.ts';

/*
 * The preflight (`diode-agent validate --live`): per policy, the collector's probes call
 * each endpoint the collector uses once and say, per endpoint, OK or what is missing: the
 * privilege by name (for the target's version), the credential, the route to the target.
 */

/** One endpoint, probed once. */
export interface ProbeResult {
  /** "GET /nodes/pve1/status", "POST https://diode.example/diode/auth/token", "file /srv/packer-manifest.json". */
  endpoint: string;
  /** The call answered as the collector needs. False for a failure, and for a probe that was not made (`skipped`). */
  ok: boolean;
  /** Not called: nothing to call it on (no running QEMU guest), or an earlier failure made it pointless. Not a failure. */
  skipped?: boolean;
  /** The HTTP status of the answer; absent when there was none (refused, TLS, timeout) or no call. */
  status?: number;
  /** The missing privilege and where it is needed, "Sys.Audit on /nodes/pve1", when the probe found one missing. */
  privilege?: string;
  /** What happened, with what to change. */
  message: string;
}

export interface PolicyPreflight {
  policy: string;
  collector: string;
  /** The base URL of the (first) API target the probes opened; absent when none (BOOTSTRAP, packer without PVE). */
  target?: string;
  /** No probe failed (skipped probes do not count). */
  ok: boolean;
  results: ProbeResult[];
}

export interface PreflightReport {
  /** No probe of any policy failed and the Diode token request did not fail: exit 0. */
  ok: boolean;
  policies: PolicyPreflight[];
  /** The OAuth2 token request to `<diode.target>/auth/token`. */
  diode: ProbeResult;
}

/** A privilege an endpoint checks, as a 403 or an empty filtered list would mean it is missing. */
export interface PrivilegeCheck {
  /** "Sys.Audit", "VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted". */
  name: string;
  /** The ACL path: "/nodes/pve1", "/datastore/backup-ssd". */
  on: string;
}

export interface ProbeSpec<T> {
  /** "GET /nodes/pve1/status"; the method and the path below the API base, with the real names in it. */
  endpoint: string;
  /**
   * What the endpoint checks, named on a 403 when the answer does not (PBS and PDM never do,
   * PVE does in its status line, which then wins); absent: nothing beyond a valid credential.
   */
  privilege?: PrivilegeCheck;
  /** What to change after a 403, after "the token lacks …" (privilege separation, the role that has it). */
  hint?: string;
  /**
   * Judges a 2xx answer. Default: OK with `describe(value)` or "OK". A list that the server
   * filters by privilege and that comes back empty returns a failure naming the privilege.
   */
  check?: (value: T) => ProbeVerdict;
  /**
   * An error answer that is not a failure of this probe, with what it says: a 500 that
   * comes after the privilege check passed (a guest agent that is not running), the 404 of
   * a subsystem that is not installed. Undefined: a failure.
   */
  accept?: (err: HttpStatusError) => string | undefined;
}

export type ProbeVerdict = { ok: true; message: string } | { ok: false; message: string; privilege?: string };

/** What the preflight runner hands a collector's probes. */
export interface PreflightContext<C> {
  policyName: string;
  config: C;
  scope: Scope;
  signal: AbortSignal;
  /** An HTTP target as a run opens it, but one attempt per call (no retries) and one call at a time. */
  target(opts: TargetRequest): HttpTarget;
  /**
   * Calls `call` once and records the outcome under `spec.endpoint`; returns the value of
   * a 2xx answer (also one that `check` failed), else undefined. After a failure of the target as a whole (no answer, TLS,
   * 401) later probes are recorded as skipped without a call.
   */
  probe<T>(spec: ProbeSpec<T>, call: () => Promise<T>): Promise<T | undefined>;
  /** Records an endpoint that is not called, and why. */
  skip(endpoint: string, reason: string): void;
  /** Records a local check that is not an API call (a file the policy names). */
  record(result: ProbeResult): void;
}

/** A collector's part of the preflight, declared beside it in agent/collectors/<id>/index.ts. */
export interface CollectorPreflight<C> {
  /** The settings that make the credential, for the hint of a 401: "PROXMOX_USER, PROXMOX_TOKEN_NAME and PROXMOX_TOKEN_VALUE". */
  credentials(config: C): string;
  /** Calls each endpoint the collector uses once, through `ctx.probe`, in the order a run does. */
  probes(ctx: PreflightContext<C>): Promise<void>;
}
