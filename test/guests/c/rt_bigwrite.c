// Writes argv[1] MiB of a position-dependent pattern to stdout in ONE write call.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 16;
  size_t len = mib << 20;
  unsigned char *p = malloc(len);
  if (!p) return 2;
  for (size_t i = 0; i < len; i++) p[i] = (unsigned char)((i * 31 + (i >> 16)) & 0xff);
  ssize_t w = write(1, p, len);
  fprintf(stderr, "write returned %zd of %zu\n", w, len);
  return w == (ssize_t)len ? 0 : 1;
}
