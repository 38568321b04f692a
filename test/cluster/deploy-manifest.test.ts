/**
 * deploy/kubernetes.yaml (not applied here: no cluster on this machine) parses, has the expected
 * kinds, and its several-replicas wiring agrees with itself and with the serve options: the
 * StatefulSet's serviceName is the headless Service, the peer DNS name and PODTERM_SERVICE name it,
 * the cluster secret file is on a mounted Secret, POD_NAME comes from the downward API, every
 * `--option` in args is one podterm serve knows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { SERVE_OPTIONS } from '../../src/cli/serve-options.js';

type Obj = Record<string, any>;

const docs: Obj[] = parseAllDocuments(readFileSync(new URL('../../../deploy/kubernetes.yaml', import.meta.url), 'utf8')).map((d) => {
  assert.deepEqual(d.errors, []);
  return d.toJS() as Obj;
});
const byKind = (kind: string): Obj[] => docs.filter((d) => d.kind === kind);

test('the manifest parses into the expected kinds', () => {
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'Service', 'Service', 'ServiceAccount', 'StatefulSet']);
  assert.equal(byKind('Deployment').length, 0);
});

test('StatefulSet + headless Service + client Service, wired for --peer-dns and the cluster secret', () => {
  const [sts] = byKind('StatefulSet') as [Obj];
  const headless = byKind('Service').find((s) => s.spec.clusterIP === 'None');
  const client = byKind('Service').find((s) => s.spec.clusterIP !== 'None');
  assert.ok(headless && client);
  assert.equal(sts.spec.serviceName, headless.metadata.name);
  assert.deepEqual(headless.spec.selector, sts.spec.template.metadata.labels);
  assert.deepEqual(client.spec.selector, sts.spec.template.metadata.labels);
  assert.ok(sts.spec.replicas >= 2);
  const [c] = sts.spec.template.spec.containers as [Obj];
  const args = c.args as string[];
  for (const a of args) {
    const name = /^--([a-z-]+)/.exec(a)?.[1];
    assert.ok(name && name in SERVE_OPTIONS, `${a} is a serve option`);
  }
  const arg = (n: string): string | undefined => args.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3);
  assert.equal(arg('peer-dns'), headless.metadata.name);
  assert.equal(arg('replica-id'), '$(POD_NAME)');
  const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e]));
  assert.equal(env.POD_NAME.valueFrom.fieldRef.fieldPath, 'metadata.name');
  assert.equal(env.PODTERM_SERVICE.value, headless.metadata.name);
  // The secret file sits on a volume that is a Secret.
  const file = arg('cluster-secret-file')!;
  const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
  assert.ok(mount, file);
  const volume = (sts.spec.template.spec.volumes as Obj[]).find((v) => v.name === mount.name);
  assert.ok(volume?.secret?.secretName, 'the cluster secret comes from a Secret');
  // The headless port is the one the pods listen on (the advertise URL and --peer-dns use it).
  assert.equal(arg('listen'), `0.0.0.0:${headless.spec.ports[0].port}`);
  // Drain: the pod gets longer than the drain grace to end its sessions.
  assert.ok(sts.spec.template.spec.terminationGracePeriodSeconds * 1000 > Number(arg('drain-grace-ms')));
});
