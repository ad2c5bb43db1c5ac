// I/O kernel: copies stdin to stdout through read()/write() with a 64 KiB buffer (one fd_read and
// one fd_write per block under WASI); prints the byte count to stderr.
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buf[65536];
  long long total = 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w <= 0) { perror("write"); return 1; }
      off += w;
    }
    total += n;
  }
  if (n < 0) { perror("read"); return 1; }
  fprintf(stderr, "copied %lld bytes\n", total);
  return 0;
}
