// Ends in the way argv asks: `exit N` (C exit), `return N` (from main), `procexit N` (raw proc_exit).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

int main(int argc, char **argv) {
  if (argc < 3) return 99;
  int n = atoi(argv[2]);
  printf("ending with %s %d\n", argv[1], n);
  fflush(stdout);
  if (strcmp(argv[1], "exit") == 0) exit(n);
#ifdef __wasi__
  if (strcmp(argv[1], "procexit") == 0) __wasi_proc_exit((__wasi_exitcode_t)n);
#endif
  return n;
}
