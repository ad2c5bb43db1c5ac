// Copies stdin to stdout with read/write in 64 KiB pieces, then reports the byte count on stderr.
#include <stdio.h>
#include <unistd.h>

static char buf[65536];

int main(void) {
  long long total = 0;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) { perror("read"); return 1; }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, n - off);
      if (w <= 0) { perror("write"); return 1; }
      off += w;
    }
    total += n;
  }
  fprintf(stderr, "copied %lld bytes\n", total);
  return 0;
}
