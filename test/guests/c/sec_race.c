// Both halves of the race tests (test/e2e/sandbox-race.test.ts).
//  - Native, `flip DIR TARGET N`: the attacker. Swaps DIR/flip between a real directory (DIR/real,
//    renamed in and out) and a symlink to TARGET, N times, as fast as it can.
//  - Wasm, `read PATH N`: opens PATH N times; counts reads of "inside\n", failures, and anything
//    else (an escape: the first one's bytes are printed). `create PATH N`: opens PATH with O_CREAT
//    N times (the host test looks for the file outside). `longpath`: paths longer than PATH_MAX in
//    UTF-8 bytes but not in characters, from the preopen (fd 3) and from a descriptor on sub/.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef __wasi__
int main(int argc, char **argv) {
  if (argc != 5 || strcmp(argv[1], "flip") != 0) { fputs("usage: sec_race flip DIR TARGET N\n", stderr); return 2; }
  char real[4096], flip[4096];
  snprintf(real, sizeof real, "%s/real", argv[2]);
  snprintf(flip, sizeof flip, "%s/flip", argv[2]);
  long n = atol(argv[4]);
  printf("flipping\n");
  fflush(stdout);
  for (long i = 0; i < n; i++) {
    rename(real, flip);
    rename(flip, real);
    symlink(argv[3], flip);
    unlink(flip);
  }
  return 0;
}
#else
#include <wasi/api.h>

static int reads(const char *path, long n) {
  long inside = 0, failed = 0, escaped = 0;
  for (long i = 0; i < n; i++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { failed++; continue; }
    char buf[64];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got == 7 && memcmp(buf, "inside\n", 7) == 0) { inside++; continue; }
    if (escaped++ == 0) {
      printf("escape:");
      for (ssize_t k = 0; k < got && k < 16; k++) printf(" %02x", (unsigned char)buf[k]);
      printf("\n");
    }
  }
  printf("read %s: inside %ld failed %ld escaped %ld\n", path, inside, failed, escaped);
  return 0;
}

static int creates(const char *path, long n) {
  long made = 0, failed = 0;
  for (long i = 0; i < n; i++) {
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) { failed++; continue; }
    made++;
    close(fd);
  }
  printf("create %s: opened %ld failed %ld\n", path, made, failed);
  return 0;
}

static const __wasi_rights_t RW = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE;
static const __wasi_rights_t DIRR = __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_FILESTAT_GET;

/** `./` repeated, then `tail`: 2 * reps + strlen(tail) bytes. */
static char *filler(int reps, const char *tail) {
  size_t t = strlen(tail);
  char *p = malloc(2 * reps + t + 1);
  for (int i = 0; i < reps; i++) memcpy(p + 2 * i, "./", 2);
  memcpy(p + 2 * reps, tail, t + 1);
  return p;
}

static int longpath(void) {
  __wasi_fd_t fd;
  // 4,082 + 21 = 4,103 bytes; 4,089 characters. Cut at 4,096 bytes it would end in "€€" and a partial €.
  char *trunc = filler(2041, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
  printf("trunc %u\n", (unsigned)__wasi_path_open(3, 0, trunc, __WASI_OFLAGS_TRUNC, RW, 0, 0, &fd));
  __wasi_errno_t err = __wasi_path_open(3, 0, "sub", __WASI_OFLAGS_DIRECTORY, DIRR, DIRR | RW, 0, &fd);
  printf("open_sub %u\n", (unsigned)err);
  char *up = filler(2041, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac/../../..");
  __wasi_fd_t up_fd;
  printf("sub_up %u\n", (unsigned)__wasi_path_open(fd, 0, up, __WASI_OFLAGS_DIRECTORY, DIRR, DIRR | RW, 0, &up_fd));
  // The plain route is refused too: sub/ is a capability for its own subtree.
  printf("sub_dotdot %u\n", (unsigned)__wasi_path_open(fd, 0, "../top-secret", 0, RW, 0, 0, &up_fd));
  // Just under the limit the same kind of path works (4,082 + 9 bytes).
  char *fits = filler(2041, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
  err = __wasi_path_open(3, 0, fits, 0, RW, 0, 0, &up_fd);
  printf("fits %u\n", (unsigned)err);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "read") == 0) return reads(argv[2], atol(argv[3]));
  if (argc == 4 && strcmp(argv[1], "create") == 0) return creates(argv[2], atol(argv[3]));
  if (argc == 2 && strcmp(argv[1], "longpath") == 0) return longpath();
  fputs("usage: sec_race read|create PATH N | longpath\n", stderr);
  return 2;
}
#endif
