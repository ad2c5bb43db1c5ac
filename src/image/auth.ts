// Registry credentials: read from hyrun's own auth file, then the containers' auth.json and
// Docker's config.json (the same `{"auths": {HOST: {"auth": base64(user:pass)}}}` format);
// `hyrun login` writes hyrun's file (0600). Credentials are never printed.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credentials { username: string; password: string }

interface AuthFile { auths?: Record<string, { auth?: string; username?: string; password?: string }> }

/** Where `hyrun login` stores credentials: HYRUN_AUTH_FILE, else $XDG_CONFIG_HOME/hyrun/auth.json. */
export function hyrunAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYRUN_AUTH_FILE) return env.HYRUN_AUTH_FILE;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'hyrun/auth.json');
}

/** Every file credentials are read from, first match wins. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files = [hyrunAuthFile(env)];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers/auth.json'));
  files.push(join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'containers/auth.json'));
  files.push(join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json'));
  return files;
}

/** Keys an auth file may use for a registry (Docker Hub's historical key included). */
function keysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  if (registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

function readAuthFile(file: string): AuthFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AuthFile;
  } catch {
    return {};
  }
}

export function findCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  for (const file of authFiles(env)) {
    if (!existsSync(file)) continue;
    const auths = readAuthFile(file).auths ?? {};
    for (const key of keysFor(registry)) {
      const entry = auths[key];
      if (!entry) continue;
      if (entry.auth) {
        const text = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = text.indexOf(':');
        if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
      }
      if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

function writeAuthFile(file: string, data: AuthFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function saveCredentials(registry: string, creds: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const file = hyrunAuthFile(env);
  const data = readAuthFile(file);
  data.auths ??= {};
  data.auths[registry] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeAuthFile(file, data);
  return file;
}

/** Removes hyrun's stored credentials for a registry; false when there were none. */
export function removeCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = hyrunAuthFile(env);
  const data = readAuthFile(file);
  let found = false;
  for (const key of keysFor(registry)) {
    if (data.auths?.[key]) {
      delete data.auths[key];
      found = true;
    }
  }
  if (found) writeAuthFile(file, data);
  return found;
}
