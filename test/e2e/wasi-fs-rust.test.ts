// Rust std::fs over hyrun's WASI (test/guests/rust/fs_rust_std.rs): the calls real programs make
// (create_dir_all, write, append, seek, metadata, rename, copy, hard_link, read_dir, read_link,
// remove_dir_all) give the expected results, and the host directory ends up as described.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, tempDir } from '../helpers.js';

// errno values as wasi-libc reports them: 20 EEXIST, 44 ENOENT, 55 ENOTEMPTY, 76 ENOTCAPABLE.
const EXPECTED = `create_dir_all ok
create_dir_again AlreadyExists errno=20
read_to_string "hello from rust\\n"
after_seek "from rust\\nappended\\n"
metadata len=25 is_file=true is_dir=false
rename ok
old_exists false
copy 25
read_link "work/a/greeting.txt"
symlink_metadata is_symlink=true
via_link "hello from rust"
hard_link ok
read_dir a:d copy.txt:f copy2.txt:f
open_missing NotFound errno=44
create_new_existing AlreadyExists errno=20
remove_dir_nonempty Uncategorized errno=55
escape Uncategorized errno=76
set_len 3
remove_file ok
remove_dir_all ok
remaining 1
`;

test('fs_rust_std: Rust std::fs works end to end in a preopen', () => {
  const dir = tempDir('hyrun-fs-rust-');
  try {
    symlinkSync('work/a/greeting.txt', join(dir.path, 'prelink'));
    const r = hyrun(['run', '--dir', `${dir.path}::/sandbox`, guest('fs_rust_std'), '/sandbox']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
    assert.deepEqual(readdirSync(join(dir.path, 'work')), ['copy.txt']);
    // File::create truncated it, then set_len(3) extended it with zeros.
    assert.equal(readFileSync(join(dir.path, 'work/copy.txt'), 'utf8'), '\0\0\0');
    assert.deepEqual(readdirSync(dir.path).sort(), ['prelink', 'work']);
  } finally {
    dir.cleanup();
  }
});
