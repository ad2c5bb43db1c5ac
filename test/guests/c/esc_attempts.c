// Sandbox-escape attempts against the WASI filesystem. Each attempt prints "label errno" (and, if
// an open ever succeeded, the bytes it read, which the host test treats as a leak). Mode "main"
// expects preopen "/" (fd 3) laid out by test/e2e/sandbox-escape.test.ts; mode "proc" expects a
// preopen of the host's /proc/self (fd 3).
#include <stdio.h>
#ifndef __wasi__
int main(void) { puts("esc_attempts calls WASI directly: Wasm only"); return 77; }
#else
#include <wasi/api.h>
#include <string.h>
#include <stdint.h>

// The raw import, with an explicit length, so paths can carry NUL bytes.
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
uint16_t raw_path_open(uint32_t fd, uint32_t dirflags, const char *path, uint32_t path_len, uint32_t oflags,
                       uint64_t base, uint64_t inheriting, uint32_t fdflags, uint32_t *opened);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_filestat_get")))
uint16_t raw_path_filestat_get(uint32_t fd, uint32_t flags, const char *path, uint32_t path_len, void *buf);

static const __wasi_fd_t ROOT = 3;
static const __wasi_rights_t RD = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK;
static const __wasi_rights_t DIRR = __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_FILESTAT_GET;
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static void report(const char *label, __wasi_errno_t err) { printf("%s %u\n", label, (unsigned)err); }

/** Opens path under dir and, if that works, reads and prints what it got (a leak, if outside). */
static void try_open(const char *label, __wasi_fd_t dir, const char *path, __wasi_lookupflags_t lf, __wasi_oflags_t of) {
  __wasi_fd_t fd;
  __wasi_errno_t err = __wasi_path_open(dir, lf, path, of, RD | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
  if (err == __WASI_ERRNO_ISDIR) err = __wasi_path_open(dir, lf, path, of, DIRR, 0, 0, &fd);
  report(label, err);
  if (err == 0) {
    char buf[128];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    size_t n = 0;
    if (__wasi_fd_read(fd, &iov, 1, &n) == 0) { buf[n] = 0; printf("  read: %s\n", buf); }
    __wasi_fd_close(fd);
  }
}

static void run_main(void) {
  __wasi_filestat_t st;
  __wasi_fd_t fd;
  uint32_t rawfd;
  char buf[256];
  size_t n;

  try_open("dotdot", ROOT, "../outside/secret.txt", FOLLOW, 0);
  try_open("dotdot_chain", ROOT, "sub/../../outside/secret.txt", FOLLOW, 0);
  try_open("dotdot_many", ROOT, "sub/../../../../../../../../../../../../etc/passwd", FOLLOW, 0);
  try_open("absolute", ROOT, "/etc/passwd", FOLLOW, 0);
  try_open("absolute_preopen_like", ROOT, "//outside/secret.txt", FOLLOW, 0);
  try_open("symlink_abs_target", ROOT, "abs-link", FOLLOW, 0);
  try_open("symlink_rel_outside", ROOT, "rel-out", FOLLOW, 0);
  try_open("symlinked_dir_mid_path", ROOT, "dir-out/secret.txt", FOLLOW, 0);
  try_open("symlinked_dir_mid_path_nofollow", ROOT, "dir-out/secret.txt", 0, 0);
  report("dangling_outside_stat", __wasi_path_filestat_get(ROOT, FOLLOW, "dangling-out", &st));
  try_open("symlink_loop", ROOT, "loop-a", FOLLOW, 0);
  try_open("symlink_loop_mid_path", ROOT, "loop-a/x", 0, 0);
  try_open("leave_and_come_back", ROOT, "leave-and-return", FOLLOW, 0);
  try_open("fake_proc_self_root", ROOT, "proc/self/root/outside/secret.txt", FOLLOW, 0);
  try_open("fake_proc_self_root_link", ROOT, "proc/self/root", FOLLOW, __WASI_OFLAGS_DIRECTORY);
  report("nul_byte", raw_path_open(ROOT, FOLLOW, "file.txt\0/../../outside/secret.txt", 34, 0, RD, 0, 0, &rawfd));
  report("nul_byte_stat", raw_path_filestat_get(ROOT, 0, "sub\0", 4, &st));

  // Hard links: the source is resolved like any path; a symlink source is never followed by the kernel.
  report("link_via_symlink_source", __wasi_path_link(ROOT, FOLLOW, "rel-out", ROOT, "stolen"));
  report("link_dotdot_source", __wasi_path_link(ROOT, 0, "../outside/secret.txt", ROOT, "stolen"));
  report("link_target_outside", __wasi_path_link(ROOT, 0, "file.txt", ROOT, "../outside/planted"));
  report("link_of_abs_link_itself", __wasi_path_link(ROOT, 0, "abs-link", ROOT, "abs-link-2"));
  try_open("link_of_abs_link_followed", ROOT, "abs-link-2", FOLLOW, 0);

  // Renames cannot move anything out, and moving a relative link re-anchors it, inside.
  report("rename_out", __wasi_path_rename(ROOT, "file.txt", ROOT, "../outside/moved.txt"));
  report("rename_in", __wasi_path_rename(ROOT, "dir-out/secret.txt", ROOT, "stolen"));
  report("rename_symlink", __wasi_path_rename(ROOT, "rel-out", ROOT, "sub/rel-out"));
  try_open("renamed_symlink_followed", ROOT, "sub/rel-out", FOLLOW, 0);

  // Creating through links must not create outside.
  try_open("creat_through_dangling_rel", ROOT, "dangling-out", FOLLOW, __WASI_OFLAGS_CREAT);
  try_open("creat_through_dangling_abs", ROOT, "dangling-abs", FOLLOW, __WASI_OFLAGS_CREAT);
  try_open("creat_excl_through_dangling", ROOT, "dangling-out", FOLLOW, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL);
  try_open("creat_dangling_nofollow", ROOT, "dangling-out", 0, __WASI_OFLAGS_CREAT);
  report("mkdir_outside", __wasi_path_create_directory(ROOT, "../outside/newdir"));
  report("mkdir_through_dir_link", __wasi_path_create_directory(ROOT, "dir-out/newdir"));
  report("symlink_then_mkdir", __wasi_path_symlink("../../outside", ROOT, "sub/up"));
  report("mkdir_through_new_link", __wasi_path_create_directory(ROOT, "sub/up/newdir"));
  try_open("open_through_new_link", ROOT, "sub/up/secret.txt", FOLLOW, 0);
  report("unlink_outside", __wasi_path_unlink_file(ROOT, "../outside/secret.txt"));
  report("unlink_through_dir_link", __wasi_path_unlink_file(ROOT, "dir-out/secret.txt"));
  report("rmdir_outside", __wasi_path_remove_directory(ROOT, "dir-out/dir"));
  report("times_through_link", __wasi_path_filestat_set_times(ROOT, FOLLOW, "dir-out/secret.txt", 0, 0, __WASI_FSTFLAGS_MTIM));
  report("times_link_followed", __wasi_path_filestat_set_times(ROOT, FOLLOW, "sub/up", 0, 0, __WASI_FSTFLAGS_MTIM));
  report("stat_outside", __wasi_path_filestat_get(ROOT, 0, "../outside", &st));

  // Directory symlinks and O_DIRECTORY; trailing "/." and "/" tricks.
  try_open("dir_link_odirectory_nofollow", ROOT, "dir-out", 0, __WASI_OFLAGS_DIRECTORY);
  try_open("dir_link_odirectory_follow", ROOT, "dir-out", FOLLOW, __WASI_OFLAGS_DIRECTORY);
  try_open("dir_link_trailing_dot", ROOT, "dir-out/.", 0, __WASI_OFLAGS_DIRECTORY);
  try_open("dir_link_trailing_slash", ROOT, "dir-out/", 0, __WASI_OFLAGS_DIRECTORY);
  try_open("dotdot_trailing_dot", ROOT, "sub/../../.", 0, __WASI_OFLAGS_DIRECTORY);
  try_open("dot_dotdot", ROOT, "./..", 0, __WASI_OFLAGS_DIRECTORY);

  // From a subdirectory descriptor, .. is bounded by that descriptor.
  __wasi_errno_t err = __wasi_path_open(ROOT, 0, "sub", __WASI_OFLAGS_DIRECTORY, DIRR, RD | DIRR, 0, &fd);
  report("open_sub", err);
  try_open("subdir_dotdot_dotdot", fd, "../../outside/secret.txt", FOLLOW, 0);
  try_open("subdir_dotdot_inside", fd, "../file.txt", FOLLOW, 0);
  __wasi_fd_close(fd);

  // A directory descriptor whose path is swapped for a symlink out: rename the directory away,
  // put a link to the outside in its place, then use the descriptor. It must still mean the
  // directory it was opened on (now "held-moved"), never what its old name points to now.
  {
    __wasi_fd_t held;
    err = __wasi_path_open(ROOT, 0, "held", __WASI_OFLAGS_DIRECTORY, DIRR | __WASI_RIGHTS_PATH_CREATE_DIRECTORY, RD | DIRR, 0, &held);
    report("open_held", err);
    report("rename_held", __wasi_path_rename(ROOT, "held", ROOT, "held-moved"));
    report("symlink_in_its_place", __wasi_path_symlink("outside-alias", ROOT, "held"));
    report("symlink_alias", __wasi_path_symlink("../outside", ROOT, "outside-alias"));
    try_open("held_after_swap_secret", held, "secret.txt", FOLLOW, 0);
    try_open("held_after_swap_own_file", held, "inner.txt", FOLLOW, 0);
    static uint8_t dbuf[1024];
    size_t used;
    err = __wasi_fd_readdir(held, dbuf, sizeof dbuf, 0, &used);
    int secret_listed = 0;
    for (size_t p = 0; p + sizeof(__wasi_dirent_t) <= used;) {
      __wasi_dirent_t ent;
      memcpy(&ent, dbuf + p, sizeof ent);
      if (ent.d_namlen == 10 && memcmp(dbuf + p + sizeof ent, "secret.txt", 10) == 0) secret_listed = 1;
      p += sizeof ent + ent.d_namlen;
    }
    printf("held_after_swap_readdir %u secret_listed=%d\n", err, secret_listed);
    report("held_after_swap_mkdir", __wasi_path_create_directory(held, "planted"));
    __wasi_fd_close(held);
  }

  // Links whose text is absolute: stored and read back verbatim, never followed.
  report("symlink_abs_create", __wasi_path_symlink("/etc/shadow", ROOT, "guest-abs"));
  memset(buf, 0, sizeof buf);
  err = __wasi_path_readlink(ROOT, "guest-abs", (uint8_t *)buf, sizeof buf, &n);
  printf("readlink_abs %u %s\n", err, buf);
  memset(buf, 0, sizeof buf);
  err = __wasi_path_readlink(ROOT, "sub/rel-out", (uint8_t *)buf, sizeof buf, &n);
  printf("readlink_rel %u %s\n", err, buf);
  try_open("symlink_abs_follow", ROOT, "guest-abs", FOLLOW, 0);

  // Hidden runtime directory: absent by every route, and not creatable.
  try_open("hidden_direct", ROOT, ".hyrun-runtime/exec", FOLLOW, 0);
  try_open("hidden_dir", ROOT, ".hyrun-runtime", FOLLOW, __WASI_OFLAGS_DIRECTORY);
  try_open("hidden_dotdot", ROOT, "sub/../.hyrun-runtime/exec", FOLLOW, 0);
  try_open("hidden_via_symlink", ROOT, "to-hidden", FOLLOW, 0);
  try_open("hidden_then_dotdot", ROOT, ".hyrun-runtime/../file.txt", FOLLOW, 0);
  report("hidden_stat", __wasi_path_filestat_get(ROOT, 0, ".hyrun-runtime", &st));
  report("hidden_mkdir", __wasi_path_create_directory(ROOT, ".hyrun-runtime"));
  report("hidden_create_inside", __wasi_path_create_directory(ROOT, ".hyrun-runtime/x"));
  report("hidden_rename_onto", __wasi_path_rename(ROOT, "file.txt", ROOT, ".hyrun-runtime"));
  report("hidden_symlink_name", __wasi_path_symlink("file.txt", ROOT, ".hyrun-runtime"));
  report("hidden_unlink", __wasi_path_unlink_file(ROOT, ".hyrun-runtime/exec"));
  {
    static uint8_t dbuf[4096];
    size_t used;
    err = __wasi_fd_readdir(ROOT, dbuf, sizeof dbuf, 0, &used);
    int seen = 0, entries = 0;
    for (size_t p = 0; p + sizeof(__wasi_dirent_t) <= used;) {
      __wasi_dirent_t ent;
      memcpy(&ent, dbuf + p, sizeof ent);
      if (ent.d_namlen == 14 && memcmp(dbuf + p + sizeof ent, ".hyrun-runtime", 14) == 0) seen = 1;
      entries++;
      p += sizeof ent + ent.d_namlen;
    }
    printf("hidden_listing %u listed=%d entries>2=%d\n", err, seen, entries > 2);
  }
  // The preopen's own "..": fd_readdir must not hand out the host parent's inode as a way out
  // either (it is the root's own).
  {
    static uint8_t dbuf[4096];
    size_t used;
    __wasi_fd_readdir(ROOT, dbuf, sizeof dbuf, 0, &used);
    __wasi_dirent_t dot, dotdot;
    memcpy(&dot, dbuf, sizeof dot);
    memcpy(&dotdot, dbuf + sizeof dot + dot.d_namlen, sizeof dotdot);
    printf("root_dotdot_is_root %d\n", dot.d_ino == dotdot.d_ino);
  }
}

static void run_proc(void) {
  __wasi_filestat_t st;
  char buf[256];
  size_t n;
  // Preopen = host /proc/self: its magic links show as symlinks with absolute targets.
  __wasi_errno_t err = __wasi_path_filestat_get(ROOT, 0, "root", &st);
  printf("proc_root_lstat %u type=%u\n", err, st.filetype);
  memset(buf, 0, sizeof buf);
  err = __wasi_path_readlink(ROOT, "root", (uint8_t *)buf, sizeof buf, &n);
  printf("proc_root_readlink %u %s\n", err, buf);
  try_open("proc_root_etc_passwd", ROOT, "root/etc/passwd", FOLLOW, 0);
  try_open("proc_root_follow", ROOT, "root", FOLLOW, __WASI_OFLAGS_DIRECTORY);
  try_open("proc_root_nofollow", ROOT, "root", 0, __WASI_OFLAGS_DIRECTORY);
  try_open("proc_cwd", ROOT, "cwd/.", FOLLOW, __WASI_OFLAGS_DIRECTORY);
  try_open("proc_exe", ROOT, "exe", FOLLOW, 0);
  try_open("proc_fd0", ROOT, "fd/0", FOLLOW, 0);
  report("proc_root_stat_follow", __wasi_path_filestat_get(ROOT, FOLLOW, "root", &st));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "proc") == 0) run_proc();
  else run_main();
  return 0;
}
#endif
