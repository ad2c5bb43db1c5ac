// Writes one byte at a time to stdout, argv[1] times (default 1): one host call per byte, for the
// components benchmark's per-call cost (a preview1 fd_write; as a component, the preview1 adapter's
// blocking-write-and-flush).
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  for (long i = 0; i < n; i++) {
    if (write(1, "x", 1) != 1) return 1;
  }
  return 0;
}
