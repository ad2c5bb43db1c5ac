import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PREVIEW1_ARITY, PREVIEW1_FUNCTIONS } from '../../src/wasi/host.js';
import { guestsDir } from '../helpers.js';
import { ERRNO, RIGHTS } from '../../src/wasi/constants.js';

test('the host lists all 46 preview1 functions, each once', () => {
  assert.equal(PREVIEW1_FUNCTIONS.length, 46);
  assert.equal(new Set(PREVIEW1_FUNCTIONS).size, 46);
});

test('constants match api.h spot checks', () => {
  assert.equal(ERRNO.NOTCAPABLE, 76);
  assert.equal(ERRNO.E2BIG, 1);
  assert.equal(RIGHTS.SOCK_ACCEPT, 1n << 29n);
});

/** Parameter counts of a module's function imports from `module`, read from its type and import sections. */
function importArities(bytes: Uint8Array, module: string): Map<string, number> {
  let pos = 8;
  const leb = (): number => {
    let v = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[pos++];
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
    }
  };
  const str = (): string => {
    const n = leb();
    pos += n;
    return Buffer.from(bytes.subarray(pos - n, pos)).toString();
  };
  const params: number[] = [];
  const out = new Map<string, number>();
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const end = leb() + pos;
    if (id === 1) {
      for (let i = leb(); i > 0; i--) {
        pos++; // 0x60
        const n = leb();
        params.push(n);
        pos += n;
        const results = leb(); // one byte each (number types)
        pos += results;
      }
    } else if (id === 2) {
      for (let i = leb(); i > 0; i--) {
        const mod = str();
        const name = str();
        const kind = bytes[pos++];
        if (kind !== 0) break; // the preview1 functions come first in these guests; stop at anything else
        const type = leb();
        if (mod === module) out.set(name, params[type]);
      }
    }
    pos = end;
  }
  return out;
}

test('each preview1 function takes as many parameters as the real guests (C, Rust, WAT) import it with', () => {
  const seen = new Set<string>();
  for (const file of readdirSync(guestsDir).filter((f) => f.endsWith('.wasm'))) {
    for (const [name, n] of importArities(readFileSync(join(guestsDir, file)), 'wasi_snapshot_preview1')) {
      assert.equal(n, PREVIEW1_ARITY[name as keyof typeof PREVIEW1_ARITY], `${file} imports ${name} with ${n} parameters`);
      seen.add(name);
    }
  }
  // The conformance guests between them import (nearly) the whole surface, so the table is checked, not assumed.
  assert.ok(seen.size >= 40, `only ${seen.size} functions imported by the guests: ${[...seen].join(' ')}`);
});
