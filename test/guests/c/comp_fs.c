// File-system work and sandbox-escape attempts through libc, built as a preview1 module and as a
// component (test/e2e/component-fs.test.ts runs both on the same layout and compares): one line per
// step, "label: ok [detail]" or "label: <strerror>". Expects a guest root `/` (the box), a read-only
// `/ro`, a capability preopen `/cap` (not below `/`) and the host's /proc at `/proc`.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void result(const char *label, int ok, const char *detail) {
  if (ok) printf("%s: ok%s%s\n", label, detail[0] ? " " : "", detail);
  else printf("%s: %s\n", label, strerror(errno));
}

/** Reads a file whole; prints its first line (or only "ok" when quiet). */
static void try_read(const char *label, const char *path, int quiet) {
  char buf[256] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) { result(label, 0, ""); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) { result(label, 0, ""); return; }
  buf[strcspn(buf, "\n")] = 0;
  result(label, 1, quiet ? "" : buf);
}

static void try_write(const char *label, const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { result(label, 0, ""); return; }
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  result(label, n == (ssize_t)strlen(text), "");
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *label, const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) { result(label, 0, ""); return; }
  char *names[64];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < 64) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[count++] = strdup(e->d_name);
  closedir(d);
  qsort(names, count, sizeof names[0], by_name);
  char out[1024] = {0};
  for (int i = 0; i < count; i++) { strcat(out, i ? "," : ""); strcat(out, names[i]); free(names[i]); }
  result(label, 1, out);
}

int main(void) {
  try_read("read inside", "/file.txt", 0);
  try_write("create", "/new.txt", "fresh\n");
  try_read("read back", "/new.txt", 0);
  result("mkdir", mkdir("/d", 0755) == 0, "");
  result("rename", rename("/new.txt", "/d/moved.txt") == 0, "");
  struct stat st;
  if (stat("/d/moved.txt", &st) == 0) printf("stat: ok size=%lld dir=%d\n", (long long)st.st_size, S_ISDIR(st.st_mode)); else result("stat", 0, "");
  list("list /", "/");
  list("list /d", "/d");
  result("unlink", unlink("/d/moved.txt") == 0, "");
  result("rmdir", rmdir("/d") == 0, "");
  result("rmdir non-empty", rmdir("/sub") == 0, "");
  result("symlink", symlink("file.txt", "/link") == 0, "");
  try_read("read through link", "/link", 0);
  char text[64] = {0};
  ssize_t n = readlink("/link", text, sizeof text - 1);
  if (n >= 0) printf("readlink: ok %s\n", text); else result("readlink", 0, "");
  // Under the guest root `..` stays at `/` and absolute links restart there: these miss the outside.
  try_read("dotdot at root", "/../outside/secret.txt", 0);
  try_read("absolute link at root", "/abs-link/secret.txt", 0);
  try_read("climbing link at root", "/up-link/secret.txt", 0);
  // Under a capability preopen every way out is refused.
  try_read("cap inside", "/cap/c.txt", 0);
  try_read("cap dotdot", "/cap/../file.txt", 0);
  try_read("cap climbing link", "/cap/esc-link", 0);
  try_read("cap absolute link", "/cap/abs-link", 0);
  try_write("cap create through link", "/cap/esc-dir/planted.txt", "x\n");
  // preview2-shim's hole: hold a directory open, rename it away, put a climbing symlink at its old
  // name, then open through the held descriptor. Held descriptors resolve in the directory held.
  mkdir("/victim", 0755);
  int held = open("/victim", O_RDONLY | O_DIRECTORY);
  result("rename away held dir", held >= 0 && rename("/victim", "/victim-moved") == 0, "");
  result("plant climbing link", symlink("../../../../../../etc", "/victim") == 0, "");
  int leak = openat(held, "hostname", O_RDONLY);
  if (leak >= 0) { char buf[64] = {0}; read(leak, buf, sizeof buf - 1); printf("held fd after rename: LEAK %s\n", buf); close(leak); }
  else result("held fd after rename", 0, "");
  try_write("held dir still writable", "/victim-moved/inside.txt", "x\n");
  try_read("through planted link", "/victim/hostname", 0);
  close(held);
  // Kernel filesystems: informational files only, nothing of the process, no way back out.
  try_read("proc cpuinfo", "/proc/cpuinfo", 1);
  try_read("proc environ", "/proc/self/environ", 0);
  try_read("proc root escape", "/proc/self/root/etc/hostname", 0);
  try_write("proc write", "/proc/sys/kernel/hostname", "x\n");
  // Read-only: looking works, every change is EROFS.
  try_read("ro read", "/ro/keep.txt", 0);
  try_write("ro create", "/ro/new.txt", "x\n");
  result("ro unlink", unlink("/ro/keep.txt") == 0, "");
  result("ro mkdir", mkdir("/ro/d", 0755) == 0, "");
  return 0;
}
