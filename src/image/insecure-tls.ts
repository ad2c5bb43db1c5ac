// The connection pool for registries the user named insecure (--tls-verify=false,
// HYRUN_INSECURE_REGISTRIES) whose TLS certificate node does not trust: node's fetch takes an
// undici dispatcher, and this one skips certificate checks for that registry's origin only (a
// redirect to another host, blob storage say, is checked as usual). Bundled on its own
// (dist/insecure-tls.cjs, with undici) and loaded only when such a registry answers with a
// certificate error, so no other command pays for undici. undici is pinned to the version node
// 20.20 bundles (6.24.1), whose fetch drives this dispatcher.
import { Agent, Pool } from 'undici';

const agents = new Map<string, Agent>();

/** A dispatcher that accepts any certificate from `origin` (`https://host:port`) and checks every other one. */
export function insecureDispatcher(origin: string): Agent {
  let agent = agents.get(origin);
  if (agent === undefined) {
    agent = new Agent({
      factory: (o, options) => new Pool(o, String(o) === origin ? { ...options, connect: { rejectUnauthorized: false } } : options),
    });
    agents.set(origin, agent);
  }
  return agent;
}
