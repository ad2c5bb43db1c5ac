// `hyrun ps`: the containers of `run IMAGE`, newest first (src/cli prints them).
import { allRecords, type ContainerRecord } from './records.js';
import type { ListRequest } from './requests.js';

/** Running containers, or all of them with `all`. */
export function listContainers(request: ListRequest): ContainerRecord[] {
  return allRecords(request.store).filter((r) => request.all || r.status === 'running');
}
