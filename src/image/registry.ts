// A small OCI distribution client on fetch: pull and push of images, indexes and Wasm artifacts.
// - auth: anonymous first; on 401 the WWW-Authenticate challenge decides: Basic with the stored
//   credentials, or a Bearer token from the realm (with the credentials as Basic, when there are any);
// - registries the user names insecure (--tls-verify=false, HYRUN_INSECURE_REGISTRIES): TLS with any
//   certificate (undici's Agent, loaded only when the certificate is refused), or plain HTTP;
// - every blob and manifest is verified (digest and size) before it enters the store;
// - push skips blobs the registry has (HEAD) and mounts those another repository of it has;
// - retries with backoff on 5xx, 429 and dropped connections; a timeout per request.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ImageError } from './errors.js';
import { findCredentials, type Credentials } from './auth.js';
import {
  isIndex, MANIFEST_ACCEPT, MANIFEST_TYPES, MT, WASM_CONFIG_TYPES, type Descriptor, type ImageIndex, type Manifest, type Platform,
} from './media.js';
import { apiHost, formatReference, parseReference, type ImageRef } from './reference.js';
import { findImage, formatPlatform, resolveDescriptor, selectPlatform, candidateNames } from './resolve.js';
import { sha256, type Store } from './store.js';
import { Progress } from './progress.js';

export interface RegistryOptions {
  /** false: the registry may be plain HTTP (and is named insecure by the user). */
  tlsVerify?: boolean;
  log?: (line: string) => void;
  /** Attempts for a request that fails with 5xx/429 or a dropped connection (default 5). */
  attempts?: number;
  /** Per-request timeout in ms (default HYRUN_REGISTRY_TIMEOUT or 60 s). */
  timeoutMs?: number;
  /** Base delay of the exponential backoff in ms (default 200). */
  backoffMs?: number;
  credentials?: Credentials;
  /** Uploads bigger than this go in PATCH chunks of this size (default HYRUN_REGISTRY_CHUNK_SIZE or 8 MiB). */
  chunkSize?: number;
  progress?: boolean;
}

const insecureByEnv = (registry: string): boolean =>
  (process.env.HYRUN_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean).includes(registry);

class HttpStatusError extends ImageError {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** Node's fetch errors (their cause's code) that mean "the certificate is not trusted", not "no TLS". */
const CERTIFICATE_PROBLEM = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|ERR_TLS_CERT/;

/**
 * Node's reason for refusing a certificate, without the advice node 26 appends for its own users
 * ("…; if the root CA is installed locally, try running Node.js with --use-system-ca"): hyrun's
 * users start hyrun, not node, and the message says what they can do.
 */
const certificateReason = (message: string | undefined): string =>
  (message ?? 'certificate refused').replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, '');

/** The dispatcher that skips certificate checks (src/image/insecure-tls.ts): its own bundle next to this one, else the module. */
async function loadInsecureDispatcher(origin: string): Promise<unknown> {
  const { existsSync } = await import('node:fs');
  const bundled = new URL('./insecure-tls.cjs', import.meta.url);
  let mod: typeof import('./insecure-tls.js');
  if (existsSync(bundled)) {
    const { createRequire } = await import('node:module');
    mod = createRequire(import.meta.url)(bundled.pathname) as typeof import('./insecure-tls.js');
  } else {
    const specifier = './insecure-tls.js';
    mod = (await import(specifier)) as typeof import('./insecure-tls.js');
  }
  return mod.insecureDispatcher(origin);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// HYRUN_DEBUG=1: one stderr line per HTTP request (method, URL without query, status, time); never headers.
const debugging = process.env.HYRUN_DEBUG === '1';
const debug = (line: string): void => { if (debugging) process.stderr.write(`hyrun: debug: ${line}\n`); };

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = header.split(' ', 1)[0].toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"|(\w+)=([^,\s]*)/g;
  for (let m; (m = re.exec(header.slice(scheme.length))); ) params[(m[1] ?? m[3]).toLowerCase()] = m[2] ?? m[4];
  return { scheme, params };
}

/** One registry host, one repository at a time; keeps tokens per scope and the scheme that worked. */
export class RegistryClient {
  readonly registry: string;
  private base: string;
  private readonly insecure: boolean;
  private readonly creds?: Credentials;
  private readonly tokens = new Map<string, string>();
  private basicChallenge = false;
  /** Set once an insecure registry's certificate was refused: requests to it skip certificate checks. */
  private dispatcher: unknown;
  /** Bytes received and sent over the wire, for the bench. */
  bytesIn = 0;
  bytesOut = 0;

  constructor(registry: string, readonly options: RegistryOptions = {}) {
    this.registry = registry;
    this.insecure = options.tlsVerify === false || insecureByEnv(registry);
    this.base = `https://${apiHost(registry)}`;
    this.creds = options.credentials ?? findCredentials(registry);
  }

  private get attempts(): number { return this.options.attempts ?? 5; }
  private get timeoutMs(): number { return this.options.timeoutMs ?? (Number(process.env.HYRUN_REGISTRY_TIMEOUT) || 60_000); }

  /**
   * A request with auth, retries and the HTTP fallback. `scope` is the token scope
   * (repository:NAME:pull[,push]). Returns the response for any status below 500 except 401/429.
   */
  async request(method: string, pathOrUrl: string, init: { headers?: Record<string, string>; body?: Buffer | (() => Buffer); scope?: string; redirect?: 'follow' | 'manual' } = {}): Promise<Response> {
    let lastProblem = '';
    let authTried = false;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
      const headers: Record<string, string> = { ...init.headers };
      const auth = this.authHeader(init.scope);
      if (auth) headers.Authorization = auth;
      const body = typeof init.body === 'function' ? init.body() : init.body;
      let response: Response;
      const started = performance.now();
      try {
        response = await fetch(url, this.withDispatcher(url, { method, headers, body, redirect: init.redirect ?? 'follow', signal: AbortSignal.timeout(this.timeoutMs) }));
        debug(`${method} ${url.replace(/\?.*$/, '')} -> ${response.status} (${(performance.now() - started).toFixed(1)} ms)`);
      } catch (e) {
        debug(`${method} ${url.replace(/\?.*$/, '')} -> ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).name} (${(performance.now() - started).toFixed(1)} ms)`);
        const err = e as Error & { cause?: { code?: string; message?: string } };
        if (err.name === 'TimeoutError' || err.name === 'AbortError') lastProblem = `no answer within ${this.timeoutMs / 1000} s`;
        else lastProblem = err.cause?.code ?? err.cause?.message ?? err.message;
        const certificate = CERTIFICATE_PROBLEM.test(err.cause?.code ?? '');
        // An insecure registry whose certificate is not trusted: TLS without the check, from now on.
        if (this.insecure && certificate && this.dispatcher === undefined && url.startsWith(`https://${apiHost(this.registry)}/`)) {
          this.dispatcher = await loadInsecureDispatcher(new URL(url).origin);
          attempt--;
          continue;
        }
        // An insecure registry that does not speak TLS: plain HTTP, at once and for good.
        if (this.insecure && !certificate && url.startsWith('https://') && !pathOrUrl.startsWith('http')) {
          this.base = `http://${apiHost(this.registry)}`;
          attempt--;
          continue;
        }
        if (!this.insecure && certificate) {
          throw new ImageError(`${this.registry} presented a TLS certificate that is not trusted (${err.cause?.code}: ${certificateReason(err.cause?.message)}); if you trust this registry, pass --tls-verify=false or list it in HYRUN_INSECURE_REGISTRIES`);
        }
        if (!this.insecure && /EPROTO|SSL|wrong version/i.test(lastProblem)) {
          throw new ImageError(`cannot reach ${this.registry} over TLS (${lastProblem}); if it is a plain-HTTP registry you trust, pass --tls-verify=false`);
        }
        if (attempt < this.attempts) await sleep(this.backoff(attempt));
        continue;
      }
      if (body) this.bytesOut += body.length;
      if (response.status === 401 && !authTried) {
        authTried = true;
        await response.arrayBuffer().catch(() => undefined);
        await this.authenticate(response.headers.get('www-authenticate') ?? '', init.scope);
        attempt--;
        continue;
      }
      if (response.status === 401) {
        const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
        await response.arrayBuffer().catch(() => undefined);
        const realm = challenge.params.realm ? ` (realm "${challenge.params.realm}")` : '';
        throw new HttpStatusError(this.creds
          ? `${this.registry} refused the credentials${realm}: 401 Unauthorized; check them with hyrun login ${this.registry}`
          : `${this.registry} requires authentication${realm}: 401 Unauthorized; run hyrun login ${this.registry}`, 401);
      }
      if (response.status >= 500 || response.status === 429) {
        lastProblem = `${response.status} ${response.statusText}`;
        await response.arrayBuffer().catch(() => undefined);
        if (attempt < this.attempts) await sleep(this.backoff(attempt, response.headers.get('retry-after')));
        continue;
      }
      return response;
    }
    throw new ImageError(`${this.registry}: ${method} ${pathOrUrl.replace(/\?.*$/, '')} failed after ${this.attempts} attempts: ${lastProblem}`);
  }

  /**
   * `init` with the certificate-skipping dispatcher once the registry (named insecure) had its
   * certificate refused. The dispatcher skips the check for the registry's origin only: a token
   * service or a blob redirect elsewhere is checked as usual.
   */
  private withDispatcher<T extends object>(_url: string, init: T): T {
    return this.dispatcher === undefined ? init : { ...init, dispatcher: this.dispatcher };
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    const hinted = Number(retryAfter);
    if (Number.isFinite(hinted) && hinted > 0) return Math.min(hinted * 1000, 10_000);
    return (this.options.backoffMs ?? 200) * 2 ** (attempt - 1);
  }

  private authHeader(scope?: string): string | undefined {
    const token = this.tokens.get(scope ?? '') ?? this.tokens.get('*');
    if (token) return `Bearer ${token}`;
    if (this.basicChallenge && this.creds) return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    return undefined;
  }

  private async authenticate(header: string, scope?: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    if (scheme === 'basic') {
      if (!this.creds) {
        throw new HttpStatusError(`${this.registry} requires authentication${params.realm ? ` (realm "${params.realm}")` : ''}: 401 Unauthorized; run hyrun login ${this.registry}`, 401);
      }
      this.basicChallenge = true;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new ImageError(`${this.registry} asked for an authentication scheme hyrun does not support: ${scheme || '(none)'}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = scope ?? params.scope;
    if (wanted) for (const s of wanted.split(' ')) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.creds) headers.Authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    let response: Response;
    try {
      response = await fetch(url, this.withDispatcher(url.href, { headers, signal: AbortSignal.timeout(this.timeoutMs) }));
    } catch (e) {
      throw new ImageError(`cannot reach the token service ${url.origin} of ${this.registry}: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
    }
    if (!response.ok) {
      throw new HttpStatusError(`${this.registry}: the token service (realm "${params.realm}") answered ${response.status}${this.creds ? '; check the credentials with hyrun login' : '; run hyrun login'} ${this.registry}`, response.status);
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new ImageError(`${this.registry}: the token service gave no token`);
    this.tokens.set(scope ?? '*', token);
  }

  /** GET /v2/ with auth: proves the registry is reachable and the credentials work. */
  async ping(): Promise<void> {
    const r = await this.request('GET', '/v2/');
    await r.arrayBuffer();
    if (r.status !== 200) throw new ImageError(`${this.registry} answered ${r.status} to /v2/: not an OCI registry?`);
  }

  // ---- reading

  /** A manifest or index by tag or digest: its bytes, verified against the digest when one is known. */
  async getManifest(repo: string, reference: string, expectedDigest?: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const r = await this.request('GET', `/v2/${repo}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT }, scope: `repository:${repo}:pull` });
    if (r.status === 404) {
      await r.arrayBuffer();
      throw new HttpStatusError(`${this.registry}/${repo}:${reference.startsWith('sha256:') ? reference : reference}: manifest unknown (404); check the name and tag`, 404);
    }
    if (r.status !== 200) throw new HttpStatusError(`${this.registry}/${repo}: manifest request answered ${r.status} ${await shortBody(r)}`, r.status);
    const bytes = Buffer.from(await r.arrayBuffer());
    this.bytesIn += bytes.length;
    const digest = sha256(bytes);
    const claimed = r.headers.get('docker-content-digest');
    const expected = expectedDigest ?? (reference.startsWith('sha256:') ? reference : undefined);
    if (expected && digest !== expected) throw new ImageError(`manifest digest mismatch for ${this.registry}/${repo}: expected ${expected}, received ${digest}; nothing was stored`);
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) throw new ImageError(`manifest digest mismatch for ${this.registry}/${repo}: the registry says ${claimed}, the content is ${digest}; nothing was stored`);
    let mediaType = (r.headers.get('content-type') ?? '').split(';')[0].trim();
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; config?: unknown };
      mediaType = parsed.mediaType ?? (parsed.manifests ? MT.ociIndex : parsed.config ? MT.ociManifest : mediaType);
    } catch {
      throw new ImageError(`${this.registry}/${repo}: the manifest is not JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** Streams a blob into the store, verified; skipped when the store has it. */
  async fetchBlob(store: Store, repo: string, d: Descriptor, progress?: Progress): Promise<void> {
    if (store.hasBlob(d.digest)) {
      progress?.skip(d, 'already in the store');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const r = await this.request('GET', `/v2/${repo}/blobs/${d.digest}`, { scope: `repository:${repo}:pull` });
      if (r.status === 404) {
        await r.arrayBuffer();
        throw new HttpStatusError(`${this.registry}/${repo}: blob ${d.digest} unknown (404); the image is incomplete in the registry`, 404);
      }
      if (r.status !== 200 || !r.body) throw new HttpStatusError(`${this.registry}/${repo}: blob ${d.digest} answered ${r.status}`, r.status);
      const bar = progress?.start(d);
      try {
        await store.putBlobStream(Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>), { digest: d.digest, size: d.size }, (n) => {
          this.bytesIn += n;
          bar?.(n);
        });
        progress?.done(d);
        return;
      } catch (e) {
        // A connection dropped mid-blob: fetch it again (the partial file is already gone).
        if (e instanceof ImageError || attempt >= this.attempts) {
          progress?.fail(d);
          if (e instanceof ImageError) throw e;
          throw new ImageError(`${this.registry}/${repo}: blob ${d.digest} failed after ${attempt} attempts: ${(e as Error).message}`);
        }
        await sleep(this.backoff(attempt));
      }
    }
  }

  // ---- writing

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull,push` });
    return r.status === 200;
  }

  /** Uploads a blob unless the registry has it; mounts it from `mountFrom` (same registry) when possible. */
  async pushBlob(store: Store, repo: string, d: Descriptor, mountFrom: string[], progress?: Progress): Promise<'exists' | 'mounted' | 'uploaded'> {
    const scope = `repository:${repo}:pull,push`;
    if (await this.hasBlob(repo, d.digest)) {
      progress?.skip(d, 'already in the registry');
      return 'exists';
    }
    let location: string | undefined;
    for (const from of mountFrom.filter((f) => f !== repo)) {
      const r = await this.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`, { scope: `${scope} repository:${from}:pull` });
      await r.arrayBuffer();
      if (r.status === 201) {
        progress?.skip(d, `mounted from ${from}`);
        return 'mounted';
      }
      if (r.status === 202) {
        location = r.headers.get('location') ?? undefined;
        break;
      }
    }
    if (!location) {
      const r = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { scope });
      await r.arrayBuffer();
      if (r.status !== 202) throw new HttpStatusError(`${this.registry}/${repo}: starting an upload answered ${r.status}`, r.status);
      location = r.headers.get('location') ?? undefined;
      if (!location) throw new ImageError(`${this.registry}/${repo}: the registry gave no upload location`);
    }
    const data = store.readBlob(d.digest);
    const bar = progress?.start(d);
    const chunk = this.options.chunkSize ?? (Number(process.env.HYRUN_REGISTRY_CHUNK_SIZE) || 8 * 2 ** 20);
    let url = new URL(location, this.base).href;
    if (data.length > chunk) {
      for (let off = 0; off < data.length; off += chunk) {
        const part = data.subarray(off, Math.min(off + chunk, data.length));
        const r = await this.request('PATCH', url, {
          scope, body: part,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + part.length - 1}`, 'Content-Length': String(part.length) },
        });
        await r.arrayBuffer();
        if (r.status !== 202) throw new HttpStatusError(`${this.registry}/${repo}: chunk upload answered ${r.status}`, r.status);
        url = new URL(r.headers.get('location') ?? url, this.base).href;
        bar?.(part.length);
      }
      const done = await this.request('PUT', withQuery(url, 'digest', d.digest), { scope, headers: { 'Content-Length': '0' } });
      await done.arrayBuffer();
      if (done.status !== 201) throw new HttpStatusError(`${this.registry}/${repo}: finishing the upload answered ${done.status}`, done.status);
    } else {
      const r = await this.request('PUT', withQuery(url, 'digest', d.digest), {
        scope, body: data, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
      });
      await r.arrayBuffer();
      if (r.status !== 201) throw new HttpStatusError(`${this.registry}/${repo}: blob upload answered ${r.status}`, r.status);
      bar?.(data.length);
    }
    progress?.done(d);
    return 'uploaded';
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const r = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      scope: `repository:${repo}:pull,push`, body: bytes, headers: { 'Content-Type': mediaType },
    });
    if (r.status !== 201 && r.status !== 200) throw new HttpStatusError(`${this.registry}/${repo}: manifest upload answered ${r.status} ${await shortBody(r)}`, r.status);
    await r.arrayBuffer().catch(() => undefined);
  }
}

const withQuery = (url: string, key: string, value: string): string => {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.href;
};

async function shortBody(r: Response): Promise<string> {
  try {
    const text = (await r.text()).replace(/\s+/g, ' ').trim();
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return '';
  }
}

// ---- blob sources, for cross-repository mounts

function recordSource(store: Store, registry: string, repo: string, digests: string[]): void {
  const file = `${store.root}/blob-sources.json`;
  store.withLock(() => {
    let data: Record<string, string[]> = {};
    try { data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>; } catch { /* none yet */ }
    for (const d of digests) {
      const list = new Set(data[d] ?? []);
      list.add(`${registry}/${repo}`);
      data[d] = [...list].slice(-8);
    }
    const tmp = store.tempPath('sources');
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, file);
  });
}

function sourcesOf(store: Store, registry: string, digest: string): string[] {
  try {
    const data = JSON.parse(readFileSync(`${store.root}/blob-sources.json`, 'utf8')) as Record<string, string[]>;
    return (data[digest] ?? []).filter((s) => s.startsWith(`${registry}/`)).map((s) => s.slice(registry.length + 1));
  } catch {
    return [];
  }
}


// ---- pull and push

const PARALLEL = 3;

/** Maps with at most PARALLEL calls in flight; results in input order; the first failure is thrown after all settle. */
async function inParallel<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        failure ??= e;
        next = items.length;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
}

export interface PullResult {
  name: string;
  /** Digest of what the name points at (an index or a manifest). */
  digest: string;
  /** The image manifest chosen (after platform selection). */
  manifestDigest: string;
  bytesIn: number;
}

const LAYER_TYPES = new Set<string>([MT.ociLayer, MT.ociLayerGzip, MT.ociLayerZstd, MT.dockerLayer, MT.dockerLayerGzip, MT.wasmLayer, MT.wasmLayerV1,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip']);

/** Pulls `text` into the store. Nothing is named until every blob is in and verified. */
export async function pullImage(store: Store, text: string, options: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(text);
  const before = new Set(store.listBlobs());
  try {
    return await pullInto(store, ref, options);
  } catch (e) {
    // Blobs this pull brought in are unreferenced now: remove them, so a failed pull leaves the store as it was.
    store.withLock(() => {
      const keep = store.reachableBlobs();
      for (const digest of store.listBlobs()) if (!before.has(digest) && !keep.has(digest)) store.removeBlob(digest);
    });
    throw e;
  }
}

async function pullInto(store: Store, ref: ImageRef, options: PullOptions): Promise<PullResult> {
  const client = new RegistryClient(ref.registry, options);
  const log = options.log ?? (() => {});
  const progress = new Progress(log, options.progress);
  const top = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  let manifestBytes = top.bytes;
  let manifestDigest = top.digest;
  let manifestType = top.mediaType;
  if (isIndex(top.mediaType)) {
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    const chosen = selectPlatform(index, options.platform);
    log(`${formatReference(ref)}: index, using ${chosen.platform ? formatPlatform(chosen.platform) : chosen.digest}`);
    const m = await client.getManifest(ref.repository, chosen.digest, chosen.digest);
    manifestBytes = m.bytes;
    manifestDigest = m.digest;
    manifestType = m.mediaType;
  }
  if (!MANIFEST_TYPES.includes(manifestType)) throw new ImageError(`${formatReference(ref)}: unsupported manifest type ${manifestType}`);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new ImageError(`${formatReference(ref)}: malformed manifest (no config or layers)`);
  for (const l of manifest.layers) {
    if (!LAYER_TYPES.has(l.mediaType)) throw new ImageError(`${formatReference(ref)}: layer type ${l.mediaType} is not supported`);
  }
  await inParallel([manifest.config, ...manifest.layers], (d) => client.fetchBlob(store, ref.repository, d, progress));
  if (options.platform === undefined && !WASM_CONFIG_TYPES.includes(manifest.config.mediaType)) {
    // nothing to check: the host platform was preferred by selectPlatform
  }
  store.putBlob(manifestBytes, manifestDigest);
  if (top.digest !== manifestDigest) store.putBlob(top.bytes, top.digest);
  const config = store.readJson<{ os?: string; architecture?: string }>(manifest.config.digest);
  const name = formatReference(ref);
  store.tag(name, { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, ...(top.digest === manifestDigest && config.os ? { platform: { os: config.os, architecture: config.architecture ?? '' } } : {}) });
  recordSource(store, ref.registry, ref.repository, [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
  progress.finish();
  return { name, digest: top.digest, manifestDigest, bytesIn: client.bytesIn };
}

export interface PushResult { digest: string; uploaded: number; skipped: number; mounted: number; bytesOut: number }

/** Pushes the stored image `source` to `dest` (default: source's own name). */
export async function pushImage(store: Store, source: string, dest: string | undefined, options: RegistryOptions = {}): Promise<PushResult> {
  let stored;
  for (const n of candidateNames(source)) if ((stored = store.find(n))) break;
  stored ??= store.find(source);
  if (!stored) throw new ImageError(`no image ${source} in the store ${store.root}; see 'hyrun images'`);
  const target: ImageRef = parseReference(dest ?? stored.name ?? source);
  if (target.registry === 'localhost' && !dest) throw new ImageError(`${stored.name} names no registry; give a destination: hyrun push ${source} REGISTRY/NAME[:TAG]`);
  const client = new RegistryClient(target.registry, options);
  const progress = new Progress(options.log ?? (() => {}), options.progress);
  const result: PushResult = { digest: stored.descriptor.digest, uploaded: 0, skipped: 0, mounted: 0, bytesOut: 0 };
  const pushManifest = async (d: Descriptor): Promise<void> => {
    const manifest = store.readJson<Manifest>(d.digest);
    // Blobs go up concurrently (a few at a time): each is a HEAD, maybe a mount, POST and PUT.
    const hows = await inParallel([manifest.config, ...manifest.layers], (blob) =>
      client.pushBlob(store, target.repository, blob, sourcesOf(store, target.registry, blob.digest), progress));
    for (const how of hows) {
      if (how === 'uploaded') result.uploaded++;
      else if (how === 'mounted') result.mounted++;
      else result.skipped++;
    }
    recordSource(store, target.registry, target.repository, [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
  };
  const top = stored.descriptor;
  if (isIndex(top.mediaType)) {
    const index = store.readJson<ImageIndex>(top.digest);
    const missing = index.manifests.filter((m) => !store.hasBlob(m.digest));
    if (missing.length > 0) throw new ImageError(`${stored.name}: the index lists ${missing.length} image(s) that were not pulled; push one platform (hyrun push with a manifest name) or pull them all first`);
    for (const m of index.manifests) {
      await pushManifest(m);
      await client.putManifest(target.repository, m.digest, store.readBlob(m.digest), m.mediaType);
    }
  } else {
    await pushManifest(top);
  }
  await client.putManifest(target.repository, target.digest ?? target.tag ?? 'latest', store.readBlob(top.digest), top.mediaType ?? MT.ociManifest);
  progress.finish();
  result.bytesOut = client.bytesOut;
  return result;
}

/** Pull unless the store already has it (for run and FROM). */
export async function ensureImage(store: Store, text: string, options: PullOptions = {}): Promise<ReturnType<typeof resolveDescriptor>> {
  const found = findImage(store, text, options.platform);
  if (found) return found;
  await pullImage(store, text, options);
  const pulled = findImage(store, text, options.platform);
  if (!pulled) throw new ImageError(`${text} was pulled but cannot be found in the store`);
  return pulled;
}
