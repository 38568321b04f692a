/** Builds the kubeconfig that points real clients at the sandbox: one cluster, one context per user. */
import { stringify } from 'yaml';

export interface KubeconfigUser {
  readonly name: string;
  readonly token: string;
  /** The context's default namespace. */
  readonly namespace: string;
}

export interface KubeconfigInput {
  readonly url: string;
  readonly caPem: string;
  /** One context per user, named after it; `admin` is the current context. */
  readonly users: readonly KubeconfigUser[];
}

export function buildKubeconfig({ url, caPem, users }: KubeconfigInput): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      { name: 'sandbox', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: users.map((u) => ({ name: u.name, user: { token: u.token } })),
    contexts: users.map((u) => ({ name: u.name, context: { cluster: 'sandbox', user: u.name, namespace: u.namespace } })),
    'current-context': 'admin',
  };
  return stringify(doc);
}
