// The connection pool for registries the user named insecure (--tls-verify=false,
// HYRUN_INSECURE_REGISTRIES) whose TLS certificate node does not trust: node's fetch takes an
// undici dispatcher, and this one skips certificate checks for that registry's origin only (a
// redirect to another host, blob storage say, is checked as usual). Bundled on its own
// (dist/insecure-tls.cjs, with undici) and loaded only when such a registry answers with a
// certificate error, so no other command pays for undici. undici is pinned to the version hyrun's
// node bundles (node 26.12.1: 8.12.2), whose fetch drives this dispatcher: node 26's fetch refused
// a dispatcher of undici 6 (UND_ERR_INVALID_ARG). Bump it with the node package.
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
