// Differential guest: stdout and stderr are separate streams with separate contents, through both
// stdio and raw write(); plus a large stdout volume.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int lines = argc > 1 ? atoi(argv[1]) : 20000;
  fprintf(stderr, "warning: this goes to stderr\n");
  printf("this goes to stdout\n");
  const char raw[] = "raw write to fd 2\n";
  write(2, raw, strlen(raw));
  for (int i = 0; i < lines; i++) printf("line %d of %d: %08x\n", i, lines, (unsigned)i * 2654435761u);
  fprintf(stderr, "stderr again after %d stdout lines\n", lines);
  fflush(stdout);
  const char raw1[] = "raw write to fd 1\n";
  write(1, raw1, strlen(raw1));
  return 0;
}
