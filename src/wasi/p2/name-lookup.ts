// wasi:sockets/ip-name-lookup: node's dns.lookup (getaddrinfo, as native programs resolve) on the
// net thread. An IP address given as the name is answered as is, without a lookup. Without network
// access every lookup is `permanent-resolver-failure`, as wasmtime answers without
// `-S allow-ip-name-lookup`.
import { domainToASCII } from 'node:url';
import { lookupErrorCode as lookupCode, netResult, parseIp, type IpAddress } from './net-address.js';
import type { NetAccess, Network } from './sockets.js';
import { Pollable, readyPollable } from './streams.js';

/** A syntactically valid host name (after IDNA): labels of letters, digits, `-` and `_`, dots between. */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

export class ResolveAddressStream {
  private addresses?: IpAddress[];
  private code?: string;

  constructor(private readonly access: NetAccess | undefined, private readonly h: number, known?: IpAddress[]) {
    this.addresses = known;
  }

  resolveNextAddress(): IpAddress | undefined {
    return netResult(() => {
      if (this.addresses === undefined && this.code === undefined) this.fetch();
      if (this.code !== undefined) throw this.code;
      if (this.addresses === undefined) throw 'would-block';
      return this.addresses.shift();
    });
  }

  private fetch(): void {
    const r = this.access!.call<{ done: boolean; addresses?: string[]; code?: string }>({ op: 'lookup-result', h: this.h });
    if (!r.done) return;
    this.access!.close(this.h);
    if (r.addresses === undefined) this.code = lookupCode(r.code);
    else this.addresses = r.addresses.map((a) => parseIp(a)).filter((a): a is IpAddress => a !== undefined);
  }

  subscribe(): Pollable {
    if (this.addresses !== undefined || this.code !== undefined) return readyPollable();
    return this.access!.pollable(this.h, 'lookup');
  }

  [Symbol.dispose](): void {
    if (this.addresses === undefined && this.code === undefined) this.access?.close(this.h);
  }
}

export function resolveAddresses(network: Network, name: string): ResolveAddressStream {
  return netResult(() => {
    const literal = parseIp(name.replace(/^\[(.*)\]$/, '$1'));
    // IDNA (an invalid name comes back empty).
    const ascii = domainToASCII(name);
    if (literal === undefined && !HOST_NAME.test(ascii)) throw 'invalid-argument';
    if (!network.access.allowed) throw 'permanent-resolver-failure';
    if (literal !== undefined) return new ResolveAddressStream(undefined, 0, [literal]);
    const h = network.access.call<{ handle: number }>({ op: 'lookup', name: ascii }).handle;
    return new ResolveAddressStream(network.access, h);
  });
}

export function nameLookupImports(): Record<string, Record<string, unknown>> {
  return { 'wasi:sockets/ip-name-lookup': { resolveAddresses, ResolveAddressStream } };
}
