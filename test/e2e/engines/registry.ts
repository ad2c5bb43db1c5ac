// Debian's docker-registry (distribution 2.8) owned by one test file: 127.0.0.1:<free port>,
// filesystem storage in a temporary directory, plain HTTP (clients pass --tls-verify=false), or
// HTTPS with a certificate the test made (options.tls).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeTree, sleep, waitFor } from './tools.js';

export interface Registry {
  dir: string;
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  log(): string;
  stop(): Promise<void>;
}

async function httpOk(url: string): Promise<boolean> {
  if (url.startsWith('https:')) {
    // The test's own self-signed certificate: ask without checking it.
    const { request } = await import('node:https');
    return new Promise((resolve) => {
      const req = request(url, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 || res.statusCode === 401);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

export interface RegistryOptions {
  /** htpasswd file content (bcrypt entries): the registry then requires basic auth. */
  htpasswd?: string;
  /** Bearer-token auth: the registry trusts tokens signed by the key of `rootCertBundle`'s certificate. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'hyrun-registry-'));
  const logPath = join(dir, 'registry.log');
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  // Another process may take the port between freePort() and the registry's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      ...(options.tls ? ['  tls:', `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`] : []),
      ...(options.htpasswd !== undefined ? ['auth:', '  htpasswd:', '    realm: hyrun-test-realm', `    path: ${join(dir, 'htpasswd')}`] : []),
      ...(options.token ? ['auth:', '  token:', `    realm: ${options.token.realm}`, `    service: ${options.token.service}`, `    issuer: ${options.token.issuer}`,
        `    rootcertbundle: ${options.token.rootCertBundle}`] : []),
      '',
    ].join('\n'));
    if (options.htpasswd !== undefined) writeFileSync(join(dir, 'htpasswd'), options.htpasswd);
    const fd = openSync(logPath, 'a');
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    let exited = false;
    child.once('exit', () => { exited = true; });
    const stop = async (): Promise<void> => {
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 100 && !exited; i++) await sleep(50);
        if (!exited) child.kill('SIGKILL');
        for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      }
    };
    try {
      await waitFor(`docker-registry on ${host}`, async () => exited || (await httpOk(`${options.tls ? 'https' : 'http'}://${host}/v2/`)), 20_000);
    } catch (error) {
      await stop();
      removeTree(dir);
      throw new Error(`${String(error)}\n--- registry log\n${log()}`);
    }
    if (exited) continue; // port taken: try another
    return { dir, host, log, stop: async () => { await stop(); removeTree(dir); } };
  }
  const text = log();
  removeTree(dir);
  throw new Error(`docker-registry did not start\n--- registry log\n${text}`);
}
