// Differential guest: file I/O relative to the current directory (native: cwd = a temp dir;
// Wasm: the temp dir preopened as "."). Prints only relative names and portable facts (errno
// names, not strerror text, which differs between glibc and wasi-libc).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void must(int ok, const char *what) {
  if (!ok) {
    printf("FAILED: %s (errno %d)\n", what, errno);
    exit(2);
  }
}

static const char *errname(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    default: return "other";
  }
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  must(d != NULL, "opendir");
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    must(n < 64, "too many entries");
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  printf("listing of %s: %d entries\n", dir, n);
  for (int i = 0; i < n; i++) {
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    must(stat(path, &st) == 0, "stat entry");
    if (S_ISDIR(st.st_mode)) printf("  d %s\n", names[i]);
    else printf("  f %s %lld bytes\n", names[i], (long long)st.st_size);
    free(names[i]);
  }
}

int main(void) {
  must(mkdir("work", 0755) == 0, "mkdir work");
  errno = 0;
  printf("mkdir again: %s\n", mkdir("work", 0755) == 0 ? "ok" : errname(errno));

  FILE *f = fopen("work/notes.txt", "w");
  must(f != NULL, "fopen w");
  fprintf(f, "line one\nline two\n");
  must(fclose(f) == 0, "fclose");
  f = fopen("work/notes.txt", "a");
  must(f != NULL, "fopen a");
  fputs("line three\n", f);
  fclose(f);

  char line[128];
  f = fopen("work/notes.txt", "r");
  must(f != NULL, "fopen r");
  while (fgets(line, sizeof line, f)) printf("read: %s", line);
  fclose(f);

  int fd = open("work/notes.txt", O_RDWR);
  must(fd >= 0, "open rdwr");
  must(lseek(fd, 5, SEEK_SET) == 5, "lseek set");
  must(write(fd, "ONE", 3) == 3, "write at 5");
  off_t end = lseek(fd, 0, SEEK_END);
  printf("size by lseek: %lld\n", (long long)end);
  must(lseek(fd, -6, SEEK_END) == end - 6, "lseek end");
  char tail[7] = {0};
  must(read(fd, tail, 6) == 6, "read tail");
  printf("tail: [%s]\n", tail[5] == '\n' ? (tail[5] = '|', tail) : tail);
  must(pread(fd, line, 8, 0) == 8, "pread");
  line[8] = 0;
  printf("pread head: [%s]\n", line);
  must(ftruncate(fd, 12) == 0, "ftruncate");
  close(fd);

  struct stat st;
  must(stat("work/notes.txt", &st) == 0, "stat");
  printf("stat: regular=%d size=%lld\n", S_ISREG(st.st_mode) ? 1 : 0, (long long)st.st_size);

  must(rename("work/notes.txt", "work/renamed.txt") == 0, "rename");
  errno = 0;
  printf("old name after rename: %s\n", stat("work/notes.txt", &st) == 0 ? "exists" : errname(errno));
  errno = 0;
  printf("open missing: %s\n", open("work/missing", O_RDONLY) >= 0 ? "opened" : errname(errno));

  const char *names[] = {"zeta.dat", "alpha.dat", "mid.dat", "doomed.dat"};
  for (int i = 0; i < 4; i++) {
    char path[64];
    snprintf(path, sizeof path, "work/%s", names[i]);
    f = fopen(path, "wb");
    must(f != NULL, "create data file");
    for (int j = 0; j <= i * 100; j++) fputc('a' + j % 26, f);
    fclose(f);
  }
  must(mkdir("work/nested", 0755) == 0, "mkdir nested");
  must(unlink("work/doomed.dat") == 0, "unlink");
  errno = 0;
  printf("unlink again: %s\n", unlink("work/doomed.dat") == 0 ? "ok" : errname(errno));
  errno = 0;
  printf("rmdir non-empty: %s\n", rmdir("work") == 0 ? "ok" : errname(errno));
  list("work");
  list(".");
  must(mkdir("work/gone", 0755) == 0 && rmdir("work/gone") == 0, "mkdir+rmdir");
  printf("done\n");
  return 0;
}
