// Every preview1 fd_*/path_* function, called directly from a C guest (test/guests/c/fs_conformance.c)
// run by `hyrun run`: exact errno values, outputs, and the effects left on the host directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, readdirSync, lstatSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { guest, hyrun, tempDir } from '../helpers.js';
import { RIGHTS } from '../../src/wasi/constants.js';

const rights = (...names: (keyof typeof RIGHTS)[]): string => names.reduce((a, n) => a | RIGHTS[n], 0n).toString(16);

// wasmtime's masks: a directory's own rights, and what it hands down (its own plus every file right).
const DIR_NAMES: (keyof typeof RIGHTS)[] = [
  'FD_FDSTAT_SET_FLAGS', 'FD_SYNC', 'FD_ADVISE', 'PATH_CREATE_DIRECTORY', 'PATH_CREATE_FILE', 'PATH_LINK_SOURCE',
  'PATH_LINK_TARGET', 'PATH_OPEN', 'FD_READDIR', 'PATH_READLINK', 'PATH_RENAME_SOURCE', 'PATH_RENAME_TARGET',
  'PATH_FILESTAT_GET', 'PATH_FILESTAT_SET_SIZE', 'PATH_FILESTAT_SET_TIMES', 'FD_FILESTAT_GET', 'FD_FILESTAT_SET_TIMES',
  'PATH_SYMLINK', 'PATH_REMOVE_DIRECTORY', 'PATH_UNLINK_FILE', 'POLL_FD_READWRITE',
];
const FILE_NAMES: (keyof typeof RIGHTS)[] = [
  'FD_DATASYNC', 'FD_READ', 'FD_SEEK', 'FD_FDSTAT_SET_FLAGS', 'FD_SYNC', 'FD_TELL', 'FD_WRITE', 'FD_ADVISE',
  'FD_ALLOCATE', 'FD_FILESTAT_GET', 'FD_FILESTAT_SET_SIZE', 'FD_FILESTAT_SET_TIMES', 'POLL_FD_READWRITE',
];

// errno values (api.h): 8 BADF, 10 BUSY, 20 EXIST, 28 INVAL, 31 ISDIR, 32 LOOP, 37 NAMETOOLONG, 44 NOENT,
// 54 NOTDIR, 55 NOTEMPTY, 63 PERM, 76 NOTCAPABLE. Filetypes: 3 directory, 4 regular file, 7 symlink.
const EXPECTED = `
prestat_get 0 0 8
prestat_dir_name 0 /sandbox
prestat_dir_name_short 37
prestat_get_stdout 8
prestat_get_badf 8
fdstat_badf 8
open_ro 0
ro_fdstat 4 0 200026 0
read4 0 4 0123
tell 0 4
seek_cur 0 6
read_rest 0 4 6789
read_eof 0 0
seek_end 0 7
seek_negative_set 28
seek_before_start_end 28
seek_bad_whence 28
tell_after_failed_seeks 0 7
seek_past_end 0 20
read_past_end 0 0
readv 0 6 012 345
pread 0 3 567 tell=6
write_on_readonly 76
set_rights_add 76
set_rights_drop_seek 0
seek_without_right 76
seek_cur0_with_tell_right 0 6
set_rights_regain_seek 76
close 0
close_again 8
read_closed 8
open_missing 44
open_file_as_dir 54
open_file_trailing_slash 54
open_dir_for_write 31
open_creat_excl_existing 20
open_creat_trailing_slash 31
open_symlink_nofollow 32
open_symlink_follow 0 012
open_relative_to_stdout 54
open_relative_to_badf 8
open_bad_oflags 28
create 0
writev 0 11 size=11
read_back 0 hello world
pwrite 0 tell=11 HEllo world
set_flags_append 0
append flags=1 size=12 tell=12
set_flags_none 0
overwrite JEllo world!
set_size 0
size_after_truncate 5
allocate 0
size_after_allocate 100
allocate_inside 0
size_after_allocate_inside 100
sync 0
datasync 0
advise 0
advise_bad 28
set_times 0
times 1500000000 1600000000
set_mtime_only 0
times_mtime_only 1500000000 1700000000
set_times_atim_and_now 28
set_times_mtim_and_now 28
set_times_mtim_now 0
mtim_now_is_recent 1
set_times_ns 0
set_mtim_minus_100 0
filestat type=4 nlink=1 size=100
open_trunc 0 size=0
filestat_without_right 76
set_size_without_right 76
readdir_on_file 76
read_on_writeonly 76
open_append flags=1 size=6
renumber 0
renumbered_reads 012
renumbered_old 8
renumber_badf 8
open_dir 0 type=3 base=206000 inh=2
readdir 0 ..:3 .:3 a:4 b:4
readdir_from_cookie 0 25
readdir_past_end 0 0
readdir_small 0 30
inherited 0 base=2
inherited_write 76
open_dotdot_from_subdir 76
open_below_subdir 0
mkdir_without_right 76
open_without_path_open_right 76
open_dot 0
mkdir 0
mkdir_exists 20
mkdir_under_file 54
mkdir_missing_parent 44
mkdir_trailing_slash 0
mkdir_dot 20
lstat_link 0 type=7 size=8
stat_link 0 type=4 size=10
stat_dangling 44
lstat_dangling 0 type=7
stat_dir 0 type=3
stat_missing 44
set_path_times 0
path_mtime 1234567890
set_path_times_bad 28
set_path_times_missing 44
link 0
nlink_after_link 2
link_exists 20
link_dir 63
link_missing 44
link_symlink_nofollow 0
hardlink_of_link_type 7
link_symlink_follow 0
hardlink_of_target_type 4 nlink=3
readlink 0 8 data.txt
readlink_short 0 4 data
readlink_file 28
readlink_missing 44
symlink 0
symlink_text sub/a
symlink_exists 20
symlink_absolute 63
symlink_absolute_not_created 44
rename 0
rename_old_gone 44
rename_missing 44
rename_file_over_dir 31
rename_dir_into_itself 28
rename_dir 0
rename_dot 10
rename_symlink 0
renamed_link_text sub/a
unlink_link 0
unlink 0
unlink_missing 44
unlink_dir 31
unlink_trailing_slash 54
rmdir_nonempty 55
rmdir_file 54
rmdir_symlink 54
rmdir_dot 28
rmdir 0
rmdir_missing 44
path_op_on_file_fd 54
`.trim().split('\n');

test('fs_conformance: every fd_* and path_* call gives the exact preview1 result', () => {
  const dir = tempDir('hyrun-fs-conf-');
  try {
    const box = join(dir.path, 'box');
    mkdirSync(join(box, 'sub'), { recursive: true });
    writeFileSync(join(box, 'data.txt'), '0123456789');
    writeFileSync(join(box, 'sub/a'), '');
    writeFileSync(join(box, 'sub/b'), '');
    symlinkSync('data.txt', join(box, 'link-to-data'));
    symlinkSync('nowhere', join(box, 'dangling'));

    const r = hyrun(['run', '--dir', `${box}::/sandbox`, guest('fs_conformance')]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const root = lines.find((l) => l.startsWith('root_fdstat '));
    assert.equal(root, `root_fdstat 0 3 ${rights(...DIR_NAMES)} ${rights(...DIR_NAMES, ...FILE_NAMES)}`);
    // Nanosecond times: exact (utimensat through the addon, which every guest with preopens has).
    const nsLine = (name: string): bigint[] => (lines.find((l) => l.startsWith(`${name} `)) ?? '').split(' ').slice(1).map(BigInt);
    const near = (got: bigint[], want: bigint[], what: string): void => {
      assert.equal(got.length, want.length, what);
      for (let i = 0; i < want.length; i++) {
        assert.equal(got[i], want[i], `${what}: exact to the nanosecond`);
      }
    };
    near(nsLine('times_ns'), [1500000000123456789n, 1600000000987654321n], 'fd_filestat_set_times');
    near(nsLine('path_times_ns'), [1234567890000000001n, 1234567890999999999n], 'path_filestat_set_times');
    assert.ok(lines.includes('mtim_minus_100 1'), 'mtim - 100 ns reads back as set');
    const perMode = ['times_ns ', 'path_times_ns ', 'mtim_minus_100 ', 'set_path_times_ns '];
    assert.ok(lines.includes('set_path_times_ns 0'));
    const rest = lines.filter((l) => !l.startsWith('root_fdstat ') && !perMode.some((p) => l.startsWith(p)));
    // Line by line, so a failure names the check.
    for (let i = 0; i < Math.max(rest.length, EXPECTED.length); i++) {
      assert.equal(rest[i], EXPECTED[i], `line ${i + 1}`);
    }

    // What the guest left behind on the host.
    assert.equal(readFileSync(join(box, 'new.txt'), 'utf8'), 'abcdef');
    assert.equal(lstatSync(join(box, 'hardlink-of-link')).isSymbolicLink(), true);
    assert.equal(readFileSync(join(box, 'hardlink-of-target'), 'utf8'), '0123456789');
    assert.equal(lstatSync(join(box, 'data.txt')).nlink, 2);
    assert.equal(lstatSync(join(box, 'data.txt')).mtimeMs, 1234567890_000);
    assert.ok(lstatSync(join(box, 'newdir2')).isDirectory());
    assert.equal(existsSync(join(box, 'moved')), false);
    assert.equal(existsSync(join(box, 'renamed.txt')), false);
    assert.deepEqual(readdirSync(box).sort(), ['dangling', 'data.txt', 'hardlink-of-link', 'hardlink-of-target', 'link-to-data', 'new.txt', 'newdir2', 'sub']);
    assert.deepEqual(readdirSync(dir.path), ['box'], 'nothing created next to the preopen');
  } finally {
    dir.cleanup();
  }
});
