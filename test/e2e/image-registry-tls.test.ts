// A registry on HTTPS with a self-signed certificate (made here with openssl; Debian's
// docker-registry serves it, with htpasswd basic auth): without --tls-verify=false every command
// stops at the certificate with one line naming it and the flag, and the store is unchanged; with
// the flag (or HYRUN_INSECURE_REGISTRIES) login, push, pull and run work over TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, tempDir, type Result } from '../helpers.js';
import { startRegistry, type Registry } from './engines/registry.js';
import { cannotRun, explain, must } from './engines/tools.js';

const skip = cannotRun(['docker-registry', 'openssl', 'python3']);
const HELLO = 'hello from hyrun-test wasm\n';
const USER = 'tls-tester';
const PASSWORD = 'over a self-signed channel';

describe('a TLS registry with a certificate nobody trusts', { skip, timeout: 600_000 }, () => {
  const t = tempDir('hyrun-registry-tls-');
  let registry: Registry;
  const home = join(t.path, 'home');
  let stores = 0;
  const newStore = (): string => join(t.path, `store-${++stores}`);
  const main = join(t.path, 'store-main');
  const h = (args: string[], storage = main, extra: NodeJS.ProcessEnv = {}, input?: string): Result => hyrun(args, {
    env: {
      ...process.env, HYRUN_STORAGE: storage, HYRUN_AUTH_FILE: join(home, 'hyrun-auth.json'), HOME: home, REGISTRY_AUTH_FILE: '',
      DOCKER_CONFIG: join(home, 'docker'), HYRUN_CACHE_DIR: join(t.path, 'cache'), HYRUN_RUN_MODE: 'embedded', HYRUN_INSECURE_REGISTRIES: '', ...extra,
    },
    timeout: 120_000, input,
  });
  const mustH = (args: string[], storage = main, extra: NodeJS.ProcessEnv = {}, input?: string): Result => {
    const r = h(args, storage, extra, input);
    assert.equal(r.status, 0, `hyrun ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  /** Everything in a store that a command could change. */
  const storeState = (storage: string): string => (existsSync(storage)
    ? JSON.stringify([existsSync(join(storage, 'index.json')) ? readFileSync(join(storage, 'index.json'), 'utf8') : '',
      existsSync(join(storage, 'blobs/sha256')) ? readdirSync(join(storage, 'blobs/sha256')).sort() : []])
    : 'absent');
  const refusedAtTheCertificate = (r: Result): void => {
    assert.equal(r.status, 125, explain(r));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^hyrun: ${registry.host.replace(/\./g, '\\.')} presented a TLS certificate that is not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\\); if you trust this registry, pass --tls-verify=false or list it in HYRUN_INSECURE_REGISTRIES$`));
  };

  before(async () => {
    mkdirSync(home, { recursive: true });
    const cert = join(t.path, 'cert.pem');
    const key = join(t.path, 'key.pem');
    must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1']);
    const hash = must('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', PASSWORD]).stdout.trim();
    registry = await startRegistry({ tls: { certificate: cert, key }, htpasswd: `${USER}:${hash}\n` });
    const ctx = join(t.path, 'seed');
    mkdirSync(ctx);
    copyFileSync(guest('eng_hello'), join(ctx, 'hello.wasm'));
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY hello.wasm /\nCMD ["/hello.wasm"]\n');
    mustH(['build', '-q', '-t', 'seed:1', '--platform', 'wasi/wasm', ctx]);
  });
  after(async () => {
    await registry?.stop();
    t.cleanup();
  });

  test('without --tls-verify=false: login, push, pull and run stop at the certificate, one line, store unchanged', () => {
    const remote = `${registry.host}/tls/seed:1`;
    refusedAtTheCertificate(h(['login', '--username', USER, '--password-stdin', registry.host], main, {}, `${PASSWORD}\n`));
    assert.equal(existsSync(join(home, 'hyrun-auth.json')), false);
    const before = storeState(main);
    refusedAtTheCertificate(h(['push', '-q', 'seed:1', remote]));
    assert.equal(storeState(main), before);
    const fresh = newStore();
    refusedAtTheCertificate(h(['pull', '-q', remote], fresh));
    refusedAtTheCertificate(h(['run', '--rm', remote], fresh));
    assert.equal(storeState(fresh), JSON.stringify([JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }, null, 2), []]),
      'nothing pulled into the store');
    // Naming another registry insecure does not cover this one.
    refusedAtTheCertificate(h(['pull', '-q', remote], fresh, { HYRUN_INSECURE_REGISTRIES: 'registry.example:5000' }));
  });

  test('with --tls-verify=false: login over TLS, push, pull, run; HYRUN_INSECURE_REGISTRIES does the same', () => {
    const remote = `${registry.host}/tls/seed:1`;
    // Over TLS, not plain HTTP: the registry refuses plain HTTP, so a fallback would fail.
    const wrong = h(['login', '--tls-verify=false', '--username', USER, '--password-stdin', registry.host], main, {}, 'wrong\n');
    assert.equal(wrong.status, 125, explain(wrong));
    assert.match(wrong.stderr, /refused the credentials \(realm "hyrun-test-realm"\)/);
    mustH(['login', '--tls-verify=false', '--username', USER, '--password-stdin', registry.host], main, {}, `${PASSWORD}\n`);
    const pushed = mustH(['push', '--tls-verify=false', 'seed:1', remote]);
    assert.match(pushed.stderr, /pushed 2 blobs/);
    const pulledStore = newStore();
    mustH(['pull', '-q', '--tls-verify=false', remote], pulledStore);
    assert.match(mustH(['images'], pulledStore).stdout, new RegExp(`${registry.host.replace(/\./g, '\\.')}/tls/seed\\s+1`));
    const run = mustH(['run', '--rm', '--tls-verify=false', remote], newStore());
    assert.equal(run.stdout, HELLO);
    const byEnv = { HYRUN_INSECURE_REGISTRIES: `registry.example:5000, ${registry.host}` };
    mustH(['pull', '-q', remote], newStore(), byEnv);
    assert.equal(mustH(['run', '--rm', remote], newStore(), byEnv).stdout, HELLO);
    mustH(['push', '-q', 'seed:1', `${registry.host}/tls/seed:2`], main, byEnv);
    // The registry's log shows TLS requests only (a plain-HTTP request would be logged as a handshake error).
    assert.doesNotMatch(registry.log(), /http: TLS handshake error.*(first record does not look like a TLS handshake|HTTP request to an HTTPS server)/);
  });
});
