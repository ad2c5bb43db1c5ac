// Differential guest: exit status by `exit N`, `return N`, atexit handlers, and `_Exit N` (which
// must drop the unflushed stdout buffer, since stdout is a pipe in the tests).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: diff_exit exit|return|atexit|_Exit N\n");
    return 2;
  }
  // Explicit full buffering: glibc and wasi-libc (musl) differ in when they decide it for a pipe.
  setvbuf(stdout, NULL, _IOFBF, 4096);
  int n = atoi(argv[2]);
  printf("mode %s status %d\n", argv[1], n);
  if (strcmp(argv[1], "exit") == 0) exit(n);
  if (strcmp(argv[1], "atexit") == 0) {
    atexit(bye);
    exit(n);
  }
  if (strcmp(argv[1], "_Exit") == 0) _Exit(n);
  return n;
}
