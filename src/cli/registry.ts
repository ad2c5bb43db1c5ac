// `hyrun pull`, `push`, `login`, `logout`.
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { transpileComponentOf } from './image-components.js';
import { openStore, parse, say } from './image-flags.js';
import { removeCredentials, saveCredentials } from '../image/auth.js';
import { pullImage, pushImage, RegistryClient } from '../image/registry.js';
import { parsePlatform } from '../image/resolve.js';

function tlsVerify(value: unknown): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--tls-verify=${String(value)}: use true or false`);
}

/** `--tls-verify` alone means true; `--tls-verify=false` names the registry insecure. */
function normalizeBoolFlags(args: string[]): string[] {
  return args.map((a) => (a === '--tls-verify' ? '--tls-verify=true' : a));
}

/** A registry host as users type it (`docker.io`, `127.0.0.1:5000`, even `https://host/`). */
function registryHost(text: string): string {
  const host = text.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === '' || /\s/.test(host)) throw new UsageError(`'${text}' is not a registry host; write e.g. quay.io or 127.0.0.1:5000`);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export async function registryCommand(command: string, rawArgs: string[]): Promise<number> {
  const args = normalizeBoolFlags(rawArgs);
  switch (command) {
    case 'pull': {
      const { values, positionals } = parse('pull', args, { platform: { type: 'string' }, 'tls-verify': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } });
      if (positionals.length !== 1) throw new UsageError('pull needs one image: hyrun pull [--platform OS/ARCH] REF');
      const store = openStore(values);
      const r = await pullImage(store, positionals[0], {
        platform: typeof values.platform === 'string' ? parsePlatform(values.platform) : undefined,
        tlsVerify: tlsVerify(values['tls-verify']),
        log: values.quiet ? undefined : say,
      });
      if (!values.quiet) say(`pulled ${r.name}`);
      await transpileComponentOf(store, r.name, typeof values.platform === 'string' ? parsePlatform(values.platform) : undefined, values.quiet === true);
      process.stdout.write(`${r.digest}\n`);
      return 0;
    }
    case 'push': {
      const { values, positionals } = parse('push', args, { 'tls-verify': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } });
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError('push needs an image: hyrun push NAME [REGISTRY/NAME[:TAG]]');
      const store = openStore(values);
      const dest = positionals[1]?.replace(/^docker:\/\//, '');
      const r = await pushImage(store, positionals[0], dest, { tlsVerify: tlsVerify(values['tls-verify']), log: values.quiet ? undefined : say });
      if (!values.quiet) say(`pushed ${r.uploaded} blobs, ${r.skipped} already there, ${r.mounted} mounted`);
      process.stdout.write(`${r.digest}\n`);
      return 0;
    }
    case 'login': {
      const { values, positionals } = parse('login', args, {
        username: { type: 'string', short: 'u' }, 'password-stdin': { type: 'boolean' }, password: { type: 'string', short: 'p' }, 'tls-verify': { type: 'string' },
      });
      if (positionals.length !== 1) throw new UsageError('login needs a registry: hyrun login [--username U --password-stdin] REGISTRY');
      const registry = registryHost(positionals[0]);
      const username = values.username as string | undefined;
      if (!username) throw new UsageError('login needs --username U (and the password on stdin with --password-stdin)');
      let password = values.password as string | undefined;
      if (values['password-stdin']) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (!password) throw new UsageError('login needs a password: pipe it in with --password-stdin');
      const client = new RegistryClient(registry, { credentials: { username, password }, tlsVerify: tlsVerify(values['tls-verify']) });
      await client.ping();
      saveCredentials(registry, { username, password });
      say('Login Succeeded!');
      return 0;
    }
    case 'logout': {
      const { positionals } = parse('logout', args, {});
      if (positionals.length !== 1) throw new UsageError('logout needs a registry: hyrun logout REGISTRY');
      const registry = registryHost(positionals[0]);
      if (!removeCredentials(registry)) throw new UsageError(`not logged in to ${registry}`);
      say(`Removed login credentials for ${registry}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

