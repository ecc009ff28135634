import { AgentError } from '../errors.ts';

export interface DiodeTarget {
  /** host:port for the gRPC channel. */
  address: string;
  host: string;
  port: number;
  tls: boolean;
  /** URL path prepended to gRPC method paths, e.g. "/diode"; "" for none. */
  pathPrefix: string;
  /** OAuth2 token endpoint on the same host, port and path. */
  tokenUrl: string;
  ingestPath: string;
  /**
   * ReconcilerService beside IngesterService on the same host and prefix: Diode's proxy
   * routes both by path (netboxlabs/diode diode-server/docker/nginx/nginx.conf).
   */
  retrieveLogsPath: string;
}

export class DiodeTargetError extends AgentError {
  constructor(target: string, reason: string) {
    super('diode_target_invalid', `diode.target "${target}": ${reason}`);
  }
}

/**
 * grpc://host[:port][/path] or grpcs://…, the form of netboxlabs/diode-sdk-python
 * netboxlabs/diode/sdk/client.py parse_target (scheme picks TLS, the path prefixes the
 * method). Default ports 80 and 443 here, where the SDK always assumes 443.
 */
export function parseTarget(target: string): DiodeTarget {
  let url: URL;
  try {
    url = new URL(target);
  } catch (_err) {
    throw new DiodeTargetError(target, 'not a URL');
  }
  if (url.protocol !== 'grpc:' && url.protocol !== 'grpcs:') throw new DiodeTargetError(target, 'scheme must be grpc:// or grpcs://');
  const tls = url.protocol === 'grpcs:';
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const pathPrefix = url.pathname.replace(/\/+$/, '');
  const hostPort = `${url.hostname}:${port}`;
  return {
    address: hostPort,
    host,
    port,
    tls,
    pathPrefix,
    tokenUrl: `${tls ? 'https' : 'http'}://${hostPort}${pathPrefix}/auth/token`,
    ingestPath: `${pathPrefix}/diode.v1.IngesterService/Ingest`,
    retrieveLogsPath: `${pathPrefix}/diode.v1.ReconcilerService/RetrieveIngestionLogs`,
  };
}
