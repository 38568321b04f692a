/**
 * `--peers`, `--peer-dns`, `--cluster-secret-file` and `--advertise-url` to the gateway's cluster
 * options (README, "Several replicas"). The secret comes from a file, never argv, and is never
 * echoed; peers without a secret (or a secret without peers) is a usage error, not a silent
 * single-replica start.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './cli-errors.js';
import { MIN_SECRET_BYTES } from '../auth/secrets.js';
import { Peers } from '../cluster/peers.js';
import type { GatewayOptions } from '../server/gateway.js';

export interface ClusterValues {
  peers: Array<{ host: string; port: number }> | undefined;
  'peer-dns': { name: string; port: number | undefined } | undefined;
  'cluster-secret-file': string | undefined;
  'advertise-url': string | undefined;
  listen: { host: string; port: number };
}

export type ClusterGatewayOptions = Pick<GatewayOptions, 'peers' | 'clusterSecret' | 'advertiseUrl'>;

export function clusterOptions(v: ClusterValues, env: NodeJS.ProcessEnv): ClusterGatewayOptions {
  const hasPeers = v.peers !== undefined || v['peer-dns'] !== undefined;
  const file = v['cluster-secret-file'];
  if (hasPeers && file === undefined) throw new UsageError(`${v.peers ? '--peers' : '--peer-dns'} needs --cluster-secret-file (the shared secret of the internal hop between replicas)`);
  if (!hasPeers && file !== undefined) throw new UsageError('--cluster-secret-file needs --peers or --peer-dns');
  const advertiseUrl = v['advertise-url'] ?? fromPodEnv(env, v.listen.port);
  if (!hasPeers || file === undefined) return advertiseUrl ? { advertiseUrl } : {};
  const secret = readFileSync(file);
  const trimmed = secret.subarray(0, secret.length - (secret.at(-1) === 0x0a ? 1 : 0));
  if (trimmed.length < MIN_SECRET_BYTES) throw new UsageError(`--cluster-secret-file: ${file} holds fewer than ${MIN_SECRET_BYTES} bytes`);
  const dns = v['peer-dns'];
  if (dns && dns.port === undefined && v.listen.port === 0) throw new UsageError('--peer-dns needs NAME:PORT when listening on port 0');
  return {
    peers: new Peers(v.peers ?? [], dns && { name: dns.name, port: dns.port ?? v.listen.port }),
    clusterSecret: trimmed,
    ...(advertiseUrl ? { advertiseUrl } : {}),
  };
}

/** A StatefulSet pod is `POD_NAME.SERVICE` in its headless Service's DNS (downward API + env). */
function fromPodEnv(env: NodeJS.ProcessEnv, port: number): string | undefined {
  const pod = env.POD_NAME;
  const service = env.PODTERM_SERVICE;
  if (!pod || !service || port === 0) return undefined;
  return `http://${pod}.${service}:${port}`;
}
