// hyrun's own annotation io.hyrun.tcp-listen: listening sockets the executor opens in the
// container's network namespace for the guest (WASI preview1 cannot create sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION_TCP_LISTEN, privateConfig, tcpListenAddresses } from '../../src/handlers/wasm.js';
import { SPEC_ENV } from '../../src/wasm/engine.js';
import { HandlerError } from '../../src/handlers/types.js';
import type { OciSpec } from '../../src/oci/spec.js';

test('io.hyrun.tcp-listen: HOST:PORT, several separated by commas; absent is undefined', () => {
  assert.equal(ANNOTATION_TCP_LISTEN, 'io.hyrun.tcp-listen');
  assert.equal(tcpListenAddresses(undefined), undefined);
  assert.equal(tcpListenAddresses({ other: 'x' }), undefined);
  assert.deepEqual(tcpListenAddresses({ [ANNOTATION_TCP_LISTEN]: '0.0.0.0:8080' }), ['0.0.0.0:8080']);
  assert.deepEqual(tcpListenAddresses({ [ANNOTATION_TCP_LISTEN]: '0.0.0.0:80, [::]:8443' }), ['0.0.0.0:80', '[::]:8443']);
});

test('io.hyrun.tcp-listen: a malformed value is one clear line naming the annotation', () => {
  for (const bad of ['8080', '0.0.0.0:99999', 'host:port', '0.0.0.0:80,oops']) {
    assert.throws(() => tcpListenAddresses({ [ANNOTATION_TCP_LISTEN]: bad }), (e: unknown) =>
      e instanceof HandlerError && /^annotation io\.hyrun\.tcp-listen: ".*" is not HOST:PORT; write e\.g\. 0\.0\.0\.0:8080/.test(e.message));
  }
});

test('the executor spec of a Wasm container carries the sockets; the annotation stays in the config', () => {
  const user = {
    ociVersion: '1.0.2', root: { path: 'rootfs' },
    process: { args: ['/http.wasm'], env: ['A=1'], cwd: '/', user: { uid: 0, gid: 0 } },
    annotations: { 'module.wasm.image/variant': 'compat', [ANNOTATION_TCP_LISTEN]: '0.0.0.0:8080' },
  } as unknown as OciSpec;
  const { config } = privateConfig({ config: user, rootfs: '/b/rootfs', delegate: { path: '/usr/sbin/runc', kind: 'runc', version: 'runc 1.1.5' } }, { path: '/rt', loader: 'ld-linux-x86-64.so.2' } as never);
  const env = config.process!.env!.find((e) => e.startsWith(`${SPEC_ENV}=`))!;
  const spec = JSON.parse(Buffer.from(env.slice(SPEC_ENV.length + 1), 'base64').toString()) as { tcpListen?: string[] };
  assert.deepEqual(spec.tcpListen, ['0.0.0.0:8080']);
  assert.equal(config.annotations?.[ANNOTATION_TCP_LISTEN], '0.0.0.0:8080');
});
