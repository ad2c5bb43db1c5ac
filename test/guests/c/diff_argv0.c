// Test guest: prints argv[0], which hyrun sets to FILE exactly as given on its command line.
#include <stdio.h>

int main(int argc, char **argv) {
  printf("%s\n", argc > 0 ? argv[0] : "(no argv[0])");
  return 0;
}
