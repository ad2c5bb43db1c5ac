// I/O kernel: walks a directory tree with opendir/readdir/stat (path_open, fd_readdir,
// path_filestat_get under WASI); prints the number of files, directories and total bytes.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long long files, dirs, bytes;

static void walk(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { perror(dir); return; }
  struct dirent *e;
  char path[4096];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0) { perror(path); continue; }
    if (S_ISDIR(st.st_mode)) { dirs++; walk(path); }
    else { files++; bytes += st.st_size; }
  }
  closedir(d);
}

int main(int argc, char **argv) {
  int passes = argc > 2 ? atoi(argv[2]) : 1;
  for (int p = 0; p < passes; p++) {
    files = dirs = bytes = 0;
    walk(argc > 1 ? argv[1] : ".");
  }
  printf("%lld files, %lld dirs, %lld bytes\n", files, dirs, bytes);
  return 0;
}
