// hyrun's Node-API addon: thin wrappers over Linux syscalls that node does not expose.
// It decides nothing. Every function takes plain numbers/strings, makes one syscall (or a fixed
// short sequence), and returns a result or a negative errno; all policy lives in TypeScript
// (src/wasi/native.ts and its callers). The sandbox needs it: every lookup a guest causes is made
// on held directory descriptors (the *at calls below), which node's path-taking fs cannot do.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define PATH_BYTES 4097

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "hyrun-native: wrong number of arguments");
    return -1;
  }
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected a number");
    return -1;
  }
  return 0;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  bool lossless;
  if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected a bigint");
    return -1;
  }
  return 0;
}

static int get_buffer(napi_env env, napi_value v, void **data, size_t *length) {
  if (napi_get_buffer_info(env, v, data, length) != napi_ok) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected a Buffer");
    return -1;
  }
  return 0;
}

// Paths may hold any byte but NUL. The UTF-8 length is measured first, in bytes: a path that does
// not fit whole is refused (-3), never cut (a cut could fall inside a multi-byte character and
// name another file). A NUL inside the string would truncate it for the kernel: refused (-2).
static int get_path(napi_env env, napi_value v, char *buf) {
  size_t need, len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &need) != napi_ok) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected a string");
    return -1;
  }
  // PATH_MAX counts the terminating NUL, as the kernel does.
  if (need >= PATH_BYTES - 1) return -3;
  if (napi_get_value_string_utf8(env, v, buf, PATH_BYTES, &len) != napi_ok || len != need) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected a string");
    return -1;
  }
  if (strlen(buf) != len) return -2;
  return 0;
}

// get_path's refusals as the errno the caller returns.
static int path_errno(int p) { return p == -3 ? -ENAMETOOLONG : -EINVAL; }

// The (dirfd, path, ...) calls: -1 when an exception is pending, -2 for a path with a NUL inside,
// -3 for one too long.
static int get_dirfd_path(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int32_t *dirfd, char *path) {
  if (get_args(env, info, want, argv) || get_i32(env, argv[0], dirfd)) return -1;
  return get_path(env, argv[1], path);
}

static long do_openat2(int dirfd, const char *path, int flags, int mode, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (uint64_t)mode : 0;
  how.resolve = resolve;
  long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return fd < 0 ? -errno : fd;
}

// openat2(dirfd, path, flags, mode, resolve) -> fd, or -errno.
static napi_value js_openat2(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t dirfd, flags, mode, resolve;
  char path[PATH_BYTES];
  int p = get_dirfd_path(env, info, 5, argv, &dirfd, path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  if (get_i32(env, argv[2], &flags) || get_i32(env, argv[3], &mode) || get_i32(env, argv[4], &resolve)) return NULL;
  return make_int(env, do_openat2(dirfd, path, flags, mode, (uint64_t)(uint32_t)resolve));
}

// The stat result as 9 little-endian u64 (x86-64 and arm64 are little-endian): dev ino mode nlink
// size atim mtim ctim (ns) rdev. The first 64 bytes line up with preview1's filestat, whose
// filetype byte (offset 16) the caller derives from mode; no JS object or BigInt is made per call.
static void fill_stat(const struct stat *st, uint64_t *out) {
  out[0] = st->st_dev;
  out[1] = st->st_ino;
  out[2] = st->st_mode;
  out[3] = st->st_nlink;
  out[4] = (uint64_t)st->st_size;
  out[5] = (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec;
  out[6] = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
  out[7] = (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec;
  out[8] = st->st_rdev;
}

static int get_stat_out(napi_env env, napi_value v, uint64_t **out) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  size_t offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_uint8_array || length < 72 || ((uintptr_t)data & 7) != 0) {
    napi_throw_type_error(env, NULL, "hyrun-native: expected an 8-aligned Uint8Array of 72 bytes");
    return -1;
  }
  *out = data;
  return 0;
}

// The (dirfd, path, i32, i32, stat out) calls: get_dirfd_path's results (-1, -2, -3, or 0).
static int get_path_i32_i32_out(napi_env env, napi_callback_info info, napi_value *argv, int32_t *dirfd, char *path,
                                int32_t *a, int32_t *b, uint64_t **out) {
  int p = get_dirfd_path(env, info, 5, argv, dirfd, path);
  if (p != 0) return p;
  if (get_i32(env, argv[2], a) || get_i32(env, argv[3], b) || get_stat_out(env, argv[4], out)) return -1;
  return 0;
}

// fstat(fd) into out: 0 or -errno.
static int stat_fd(long fd, uint64_t *out) {
  struct stat st;
  if (fstat((int)fd, &st) != 0) return -errno;
  fill_stat(&st, out);
  return 0;
}

// statat2(dirfd, path, flags, resolve, out) -> 0 or -errno: opens path with O_PATH|flags under the
// resolve rules, fstats it into out (dev ino mode nlink size atim mtim ctim rdev), closes it.
static napi_value js_statat2(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t dirfd, flags, resolve;
  uint64_t *out;
  char path[PATH_BYTES];
  int p = get_path_i32_i32_out(env, info, argv, &dirfd, path, &flags, &resolve, &out);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  long fd = do_openat2(dirfd, path, flags | O_PATH, 0, (uint64_t)(uint32_t)resolve);
  if (fd < 0) return make_int(env, fd);
  int r = stat_fd(fd, out);
  close((int)fd);
  return make_int(env, r);
}

// fstatat(dirfd, name, flags, out) -> 0 or -errno (same layout as statat2). The kernel resolves
// `name` as it likes: callers pass only a single component and check the result (src/wasi/fast.ts).
static napi_value js_fstatat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t dirfd, flags;
  uint64_t *out;
  char path[PATH_BYTES];
  int p = get_dirfd_path(env, info, 4, argv, &dirfd, path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  if (get_i32(env, argv[2], &flags) || get_stat_out(env, argv[3], &out)) return NULL;
  struct stat st;
  if (fstatat(dirfd, path, &st, flags) != 0) return make_int(env, -errno);
  fill_stat(&st, out);
  return make_int(env, 0);
}

// fstat(fd, out) -> 0 or -errno (same layout as statat2).
static napi_value js_fstat(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  uint64_t *out;
  if (get_args(env, info, 2, argv) || get_i32(env, argv[0], &fd) || get_stat_out(env, argv[1], &out)) return NULL;
  return make_int(env, stat_fd(fd, out));
}

// fstatfs(fd) -> the filesystem's magic number (f_type, >= 0), or -errno.
static napi_value js_fstatfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) || get_i32(env, argv[0], &fd)) return NULL;
  struct statfs sf;
  if (fstatfs(fd, &sf) != 0) return make_int(env, -errno);
  return make_int(env, (int64_t)(uint64_t)(unsigned long)sf.f_type);
}

// utimens(fd, path | null, atimNs, mtimNs, nofollow) -> 0 or -errno. With a null path, futimens(fd);
// else utimensat(fd, path) (fd -100 is AT_FDCWD). A time of -1n is UTIME_NOW, -2n UTIME_OMIT.
static napi_value js_utimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd;
  int64_t ns[2];
  bool nofollow;
  char path[PATH_BYTES];
  if (get_args(env, info, 5, argv) || get_i32(env, argv[0], &fd)) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  int has_path = t == napi_string;
  if (has_path) {
    int p = get_path(env, argv[1], path);
    if (p == -1) return NULL;
    if (p < -1) return make_int(env, path_errno(p));
  }
  if (get_i64(env, argv[2], &ns[0]) || get_i64(env, argv[3], &ns[1])) return NULL;
  if (napi_get_value_bool(env, argv[4], &nofollow) != napi_ok) return NULL;
  struct timespec ts[2];
  for (int i = 0; i < 2; i++) {
    if (ns[i] == -1) { ts[i].tv_sec = 0; ts[i].tv_nsec = UTIME_NOW; }
    else if (ns[i] == -2) { ts[i].tv_sec = 0; ts[i].tv_nsec = UTIME_OMIT; }
    else if (ns[i] < 0) return make_int(env, -EINVAL);
    else { ts[i].tv_sec = ns[i] / 1000000000; ts[i].tv_nsec = ns[i] % 1000000000; }
  }
  int r = has_path ? utimensat(fd, path, ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0) : futimens(fd, ts);
  return make_int(env, r == 0 ? 0 : -errno);
}

// getdents(fd, buffer) -> bytes of linux_dirent64 records written into buffer, 0 at the end, or -errno.
static napi_value js_getdents(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t length;
  if (get_args(env, info, 2, argv) || get_i32(env, argv[0], &fd) || get_buffer(env, argv[1], &data, &length)) return NULL;
  long n = syscall(SYS_getdents64, fd, data, length);
  return make_int(env, n < 0 ? -errno : n);
}

// setTitle(cmdline, comm) -> bytes of cmdline kept, or -errno. Writes `cmdline` over the process's
// whole argument area (arg_start..arg_end from /proc/self/stat), NUL-padded, and sets the thread
// name. node's process.title only reaches the part of that area holding node's own argv; the
// executor is started through the dynamic loader, whose arguments come first.
static napi_value js_set_title(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char title[PATH_BYTES], comm[PATH_BYTES];
  if (get_args(env, info, 2, argv)) return NULL;
  int pt = get_path(env, argv[0], title), pc = pt == -1 ? -1 : get_path(env, argv[1], comm);
  if (pt == -1 || pc == -1) return NULL;
  if (pt < -1 || pc < -1) return make_int(env, -EINVAL);
  FILE *f = fopen("/proc/self/stat", "re");
  if (f == NULL) return make_int(env, -errno);
  char line[4096];
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = 0;
  char *p = strrchr(line, ')');
  if (p == NULL) return make_int(env, -EINVAL);
  unsigned long long start = 0, end = 0;
  // Fields after the command name start at field 3; arg_start and arg_end are fields 48 and 49.
  p++;
  for (int field = 3; field <= 49 && p != NULL; field++) {
    while (*p == ' ') p++;
    if (field == 48) start = strtoull(p, NULL, 10);
    if (field == 49) end = strtoull(p, NULL, 10);
    p = strchr(p, ' ');
  }
  if (start == 0 || end <= start) return make_int(env, -EINVAL);
  size_t area = (size_t)(end - start);
  size_t len = strlen(title);
  if (len > area - 1) len = area - 1;
  memset((void *)(uintptr_t)start, 0, area);
  memcpy((void *)(uintptr_t)start, title, len);
  prctl(PR_SET_NAME, comm, 0, 0, 0);
  return make_int(env, (int64_t)len);
}

// openat(dirfd, name, flags, mode, out) -> fd, or -errno; fstat of the new descriptor goes into
// `out` (layout as statat2), so each step of a component-by-component walk is one call. The kernel
// resolves `name` as it likes: callers pass a single component with O_NOFOLLOW (src/wasi/resolve.ts).
static napi_value js_openat(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t dirfd, flags, mode;
  uint64_t *out;
  char path[PATH_BYTES];
  int p = get_path_i32_i32_out(env, info, argv, &dirfd, path, &flags, &mode, &out);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  int fd = openat(dirfd, path, flags | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) return make_int(env, -errno);
  int r = stat_fd(fd, out);
  if (r != 0) {
    close(fd);
    return make_int(env, r);
  }
  return make_int(env, fd);
}

// close(fd) -> 0 or -errno.
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) || get_i32(env, argv[0], &fd)) return NULL;
  return make_int(env, close(fd) == 0 ? 0 : -errno);
}

// isatty(fd) -> 1 when fd is a terminal, else 0: node:tty would load node:net and node:stream for
// this one question (~10 ms of a component's start).
static napi_value js_isatty(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) || get_i32(env, argv[0], &fd)) return NULL;
  return make_int(env, isatty(fd) ? 1 : 0);
}

// readlinkat(dirfd, name, buffer) -> bytes of the link's text written into buffer, or -errno.
// A text as long as the buffer may have been cut: callers give PATH_MAX bytes and treat a full
// buffer as too long.
static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd;
  char path[PATH_BYTES];
  void *data;
  size_t length;
  int p = get_dirfd_path(env, info, 3, argv, &dirfd, path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  if (get_buffer(env, argv[2], &data, &length)) return NULL;
  ssize_t n = readlinkat(dirfd, path, data, length);
  return make_int(env, n < 0 ? -errno : n);
}

// mkdirat(dirfd, name, mode) -> 0 or -errno.
static napi_value js_mkdirat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd, mode;
  char path[PATH_BYTES];
  int p = get_dirfd_path(env, info, 3, argv, &dirfd, path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  if (get_i32(env, argv[2], &mode)) return NULL;
  return make_int(env, mkdirat(dirfd, path, (mode_t)mode) == 0 ? 0 : -errno);
}

// unlinkat(dirfd, name, flags) -> 0 or -errno (flags: AT_REMOVEDIR for a directory).
static napi_value js_unlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd, flags;
  char path[PATH_BYTES];
  int p = get_dirfd_path(env, info, 3, argv, &dirfd, path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  if (get_i32(env, argv[2], &flags)) return NULL;
  return make_int(env, unlinkat(dirfd, path, flags) == 0 ? 0 : -errno);
}

// The two-name calls: (olddirfd, oldname, newdirfd, newname, ...).
static int get_two_paths(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int32_t *oldfd, char *oldp, int32_t *newfd, char *newp) {
  int p = get_dirfd_path(env, info, want, argv, oldfd, oldp);
  if (p != 0) return p;
  if (get_i32(env, argv[2], newfd)) return -1;
  return get_path(env, argv[3], newp);
}

// renameat(olddirfd, oldname, newdirfd, newname) -> 0 or -errno.
static napi_value js_renameat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t oldfd, newfd;
  char oldp[PATH_BYTES], newp[PATH_BYTES];
  int p = get_two_paths(env, info, 4, argv, &oldfd, oldp, &newfd, newp);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  return make_int(env, renameat(oldfd, oldp, newfd, newp) == 0 ? 0 : -errno);
}

// linkat(olddirfd, oldname, newdirfd, newname) -> 0 or -errno. Never follows a symlink source.
static napi_value js_linkat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t oldfd, newfd;
  char oldp[PATH_BYTES], newp[PATH_BYTES];
  int p = get_two_paths(env, info, 4, argv, &oldfd, oldp, &newfd, newp);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  return make_int(env, linkat(oldfd, oldp, newfd, newp, 0) == 0 ? 0 : -errno);
}

// symlinkat(text, dirfd, name) -> 0 or -errno.
static napi_value js_symlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd;
  char text[PATH_BYTES], path[PATH_BYTES];
  if (get_args(env, info, 3, argv)) return NULL;
  int t = get_path(env, argv[0], text);
  if (t == -1) return NULL;
  if (t < -1) return make_int(env, path_errno(t));
  if (get_i32(env, argv[1], &dirfd)) return NULL;
  int p = get_path(env, argv[2], path);
  if (p == -1) return NULL;
  if (p < -1) return make_int(env, path_errno(p));
  return make_int(env, symlinkat(text, dirfd, path) == 0 ? 0 : -errno);
}

// exitOnSignal(signal) -> 0 or -errno. From now on `signal` ends the process at once with status
// 128 + signal: a handler (so the kernel delivers it even to PID 1 of a PID namespace) that only
// calls _exit, which is async-signal-safe and needs no JavaScript, so it works while the guest's
// Wasm code holds the main thread. Which signals, and when, is decided in TypeScript.
static void exit_on_signal(int sig) { _exit(128 + sig); }

static napi_value js_exit_on_signal(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t sig;
  if (get_args(env, info, 1, argv) || get_i32(env, argv[0], &sig)) return NULL;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = exit_on_signal;
  sigfillset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) return make_int(env, -errno);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, NULL);
  return make_int(env, 0);
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    {"openat2", js_openat2}, {"statat2", js_statat2}, {"fstatat", js_fstatat}, {"fstat", js_fstat},
    {"fstatfs", js_fstatfs}, {"utimens", js_utimens}, {"getdents", js_getdents}, {"setTitle", js_set_title},
    {"exitOnSignal", js_exit_on_signal}, {"openat", js_openat}, {"close", js_close}, {"readlinkat", js_readlinkat},
    {"mkdirat", js_mkdirat}, {"unlinkat", js_unlinkat}, {"renameat", js_renameat}, {"linkat", js_linkat},
    {"symlinkat", js_symlinkat},
    {"isatty", js_isatty},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}
