// Exits with 42 (through proc_exit) after a line on stdout and one on stderr.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("about to exit 42\n");
  fprintf(stderr, "stderr line\n");
  fflush(stdout);
  exit(42);
}
