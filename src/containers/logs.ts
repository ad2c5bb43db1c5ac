// `hyrun logs [-f]`: the log a detached container's supervisor writes (a foreground run keeps none).
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from '../image/errors.js';
import { alive, containerDir, findContainer, readRecordIfThere } from './records.js';
import type { LogsRequest } from './requests.js';

/** The log's bytes as they are read; with `follow`, more as they come, until the container has exited. */
export async function* containerLogs(request: LogsRequest): AsyncGenerator<Buffer> {
  const { store } = request;
  const r = findContainer(store, request.container);
  const file = join(containerDir(store, r.id), 'log');
  if (!existsSync(file)) throw new ImageError(`${r.name} ran in the foreground: its output went to the terminal, no log was kept`);
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(65536);
  let pos = 0;
  // Copies: the caller may keep a chunk while the buffer is read into again.
  function* drain(): Generator<Buffer> {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) return;
      pos += n;
      yield Buffer.from(buf.subarray(0, n));
    }
  }
  try {
    yield* drain();
    while (request.follow) {
      const current = readRecordIfThere(store, r.id);
      if (!current || current.status === 'exited' || (current.status === 'running' && !alive(current.pid))) {
        yield* drain();
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
      if (fstatSync(fd).size > pos) yield* drain();
    }
  } finally {
    closeSync(fd);
  }
}
