// I/O kernel: path-heavy changes under nested directories (path_open with O_CREAT, fd_write,
// path_filestat_get, path_rename, path_symlink + path_readlink, path_unlink_file,
// path_create_directory, path_remove_directory): every call resolves a path of 3-4 components.
// Prints a checksum of what it saw so that every engine must do the same work.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : ".";
  int rounds = argc > 2 ? atoi(argv[2]) : 1;
  long long sum = 0;
  char dir[4096], a[4096], b[4096], link[4096], text[64];
  for (int r = 0; r < rounds; r++) {
    snprintf(dir, sizeof dir, "%s/w%d", root, r % 4);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/w%d/sub", root, r % 4);
    if (mkdir(dir, 0777) != 0) { perror(dir); return 1; }
    for (int i = 0; i < 100; i++) {
      snprintf(a, sizeof a, "%s/f%d.tmp", dir, i);
      snprintf(b, sizeof b, "%s/f%d.txt", dir, i);
      snprintf(link, sizeof link, "%s/l%d", dir, i);
      int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) { perror(a); return 1; }
      if (write(fd, "hello", 5 + i % 3) < 0) { perror("write"); return 1; }
      close(fd);
      if (rename(a, b) != 0) { perror(b); return 1; }
      struct stat st;
      if (stat(b, &st) != 0) { perror(b); return 1; }
      sum += st.st_size;
      snprintf(text, sizeof text, "f%d.txt", i);
      if (symlink(text, link) != 0) { perror(link); return 1; }
      ssize_t n = readlink(link, text, sizeof text);
      if (n < 0) { perror(link); return 1; }
      sum += n;
      if (unlink(link) != 0 || unlink(b) != 0) { perror("unlink"); return 1; }
    }
    if (rmdir(dir) != 0) { perror(dir); return 1; }
  }
  printf("%d rounds, checksum %lld\n", rounds, sum);
  return 0;
}
