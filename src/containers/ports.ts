// `-p HOST:CONTAINER` in OCI mode. Containers share the host's network (hyrun has no network
// plumbing): the same port on both sides needs nothing; different ports get a TCP forwarder in the
// supervising process. Its listening sockets are bound before anything is created, so a port in use
// is refused with nothing left behind; a detached run hands them to its supervisor as inherited fds.
import type { Server, Socket } from 'node:net';
import { ImageError } from '../image/errors.js';
import type { PortMapping } from './records.js';

/** Binds one listening socket per forward, in order; on any failure closes those bound and says which port. */
export async function listenAll(forwards: PortMapping[]): Promise<Server[]> {
  if (forwards.length === 0) return [];
  const { createServer } = await import('node:net');
  const bound: Server[] = [];
  for (const f of forwards) {
    const server = createServer({ allowHalfOpen: true });
    try {
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen({ host: f.ip, port: f.host, exclusive: true }, () => res());
      });
    } catch (e) {
      for (const b of bound) b.close();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'needs privileges' : code === 'EADDRNOTAVAIL' ? 'is not an address of this machine' : `cannot be bound (${code ?? (e as Error).message})`;
      throw new ImageError(`-p ${f.ip}:${f.host}:${f.container}: port ${f.host} on ${f.ip} ${why}; choose another host port`);
    }
    bound.push(server);
  }
  return bound;
}

/** The file descriptors of bound listeners, for a child to inherit as its fds 3, 4, … */
export const listenerFds = (listeners: Server[]): number[] => listeners.map((l) => (l as unknown as { _handle: { fd: number } })._handle.fd);

/** `__supervise`: the forwarder's listening sockets, inherited from `hyrun run -d` as fds 3, 4, … (in the order of `forwards`). */
export async function receiveListeners(forwards: PortMapping[]): Promise<Server[]> {
  if (forwards.length === 0) return [];
  const { createServer } = await import('node:net');
  return Promise.all(forwards.map((_, i) => new Promise<Server>((res, rej) => {
    const server = createServer({ allowHalfOpen: true });
    server.once('error', rej);
    server.listen({ fd: 3 + i }, () => res(server));
  })));
}

/**
 * Forwards each connection accepted on `listeners[i]` to 127.0.0.1:forwards[i].container, both
 * directions, half-closes passed on. Returns a function that stops: listeners closed, connections cut.
 */
export async function forwardPorts(forwards: PortMapping[], listeners: Server[]): Promise<() => void> {
  if (listeners.length === 0) return () => {};
  const { connect } = await import('node:net');
  const open = new Set<Socket>();
  listeners.forEach((server, i) => {
    server.on('connection', (client: Socket) => {
      const upstream = connect({ host: '127.0.0.1', port: forwards[i].container, allowHalfOpen: true });
      open.add(client);
      open.add(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', cut);
      upstream.on('error', cut);
      let ended = 0;
      const halfDone = (): void => { if (++ended === 2) cut(); };
      client.on('end', halfDone);
      upstream.on('end', halfDone);
      client.on('close', cut);
      upstream.on('close', cut);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  return () => {
    for (const s of listeners) s.close();
    for (const c of open) c.destroy();
    open.clear();
  };
}
