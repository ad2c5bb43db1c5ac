// A WASI command in C: greets each argument, using the GREETING variable if --env gives one.
//   clang-14 --target=wasm32-wasi -O2 -o greet.wasm examples/greet.c
//   ./bin/hyrun run --env GREETING=Hi greet.wasm Ada Linus
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  const char *greeting = getenv("GREETING");
  if (!greeting) greeting = "Hello";
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAME...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) printf("%s, %s!\n", greeting, argv[i]);
  return 0;
}
