// Run by `podman exec` inside a running Wasm container: prints its arguments and exits with 7.
#include <stdio.h>

int main(int argc, char **argv) {
  printf("exec guest argc=%d", argc);
  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
  printf("\n");
  return 7;
}
