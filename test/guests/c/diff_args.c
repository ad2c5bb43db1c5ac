// Differential guest: prints its arguments. argv[0] differs by design (native path vs FILE as
// given), so only argc and argv[1..] are printed.
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d]=<%s> len=%zu\n", i, argv[i], strlen(argv[i]));
  return 0;
}
