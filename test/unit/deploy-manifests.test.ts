// Every manifest in deploy/ validated offline against the Kubernetes OpenAPI schemas
// (kubernetes-models), plus the facts the docs promise: the RuntimeClass handler and node selector
// match what the installer writes and sets, the example pods use it and carry the annotations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { RuntimeClass } from 'kubernetes-models/node.k8s.io/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { repoRoot } from '../helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const MODELS: Record<string, new (data: Doc) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/Pod': Pod, 'v1/Service': Service, 'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet, 'node.k8s.io/v1/RuntimeClass': RuntimeClass,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole, 'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
};

const deployDir = join(repoRoot, 'deploy');
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : /\.ya?ml$/.test(n) ? [join(d, n)] : []));
const manifests = walk(deployDir).map((file) => ({
  file: relative(repoRoot, file),
  docs: parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS() as Doc;
  }),
}));
const all = manifests.flatMap((m) => m.docs.map((doc: Doc) => ({ file: m.file, doc })));
const validate = (doc: Doc): void => {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  assert.ok(Model, `no schema model for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
};

test('every manifest in deploy/ is valid against the Kubernetes schemas', () => {
  assert.ok(all.length >= 10, `${all.length} documents`);
  for (const { file, doc } of all) {
    try {
      validate(doc);
    } catch (error) {
      assert.fail(`${file} ${doc.kind} ${doc.metadata?.name}: ${(error as Error).message}`);
    }
  }
});

test('the validator is not a rubber stamp: a wrong type and a missing required field fail', () => {
  const pod = structuredClone(all.find(({ doc }) => doc.kind === 'Pod')!.doc);
  pod.spec.containers[0].ports = [{ containerPort: 'eighty' }];
  assert.throws(() => validate(pod), /containerPort must be integer/);
  const rc = structuredClone(all.find(({ doc }) => doc.kind === 'RuntimeClass')!.doc);
  delete rc.handler;
  assert.throws(() => validate(rc), /handler/);
});

test('RuntimeClass hyrun: handler = the runtime hyrun install writes; scheduled onto nodes the installer labels', () => {
  const rc = all.find(({ doc }) => doc.kind === 'RuntimeClass')!.doc;
  assert.equal(rc.metadata.name, 'hyrun');
  assert.equal(rc.handler, 'hyrun');
  const label = readFileSync(join(deployDir, 'installer/label-node.cjs'), 'utf8');
  const [key, value] = Object.entries(rc.scheduling.nodeSelector as Record<string, string>)[0]!;
  assert.ok(label.includes(`const LABEL = '${key}'`) && value === 'true', 'the selector is the label the installer sets');
});

test('the installer DaemonSet mounts the node root at /host, runs privileged with hostPID, and has the RBAC to label nodes', () => {
  const ds = all.find(({ doc }) => doc.kind === 'DaemonSet')!.doc;
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostPID, true);
  assert.equal(pod.containers[0].securityContext.privileged, true);
  assert.deepEqual(pod.volumes[0].hostPath, { path: '/', type: 'Directory' });
  assert.equal(pod.containers[0].volumeMounts[0].mountPath, '/host');
  const role = all.find(({ doc }) => doc.kind === 'ClusterRole')!.doc;
  assert.deepEqual(role.rules[0], { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] });
});

test('example pods: runtimeClassName hyrun and the Wasm annotations (compat-smart with a Linux sidecar, compat, tcp-listen)', () => {
  const pods = all.filter(({ doc }) => doc.kind === 'Pod').map(({ doc }) => doc);
  assert.equal(pods.length, 3);
  for (const p of pods) assert.equal(p.spec.runtimeClassName, 'hyrun');
  const variants = pods.map((p) => p.metadata.annotations['module.wasm.image/variant']).sort();
  assert.deepEqual(variants, ['compat', 'compat', 'compat-smart']);
  const http = pods.find((p) => p.metadata.annotations['io.hyrun.tcp-listen']);
  assert.equal(http.metadata.annotations['io.hyrun.tcp-listen'], '0.0.0.0:8080');
  assert.equal(http.spec.containers[0].ports[0].containerPort, 8080);
});
