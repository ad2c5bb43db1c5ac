// Exits through WASI 0.2's wasi:cli/exit exit-with-code (argv[1], default 7), which the preview1
// adapter never calls (its proc_exit of anything but 0 becomes exit(err), status 1). Built into a
// component with its WIT embedded (scripts/build-guests.mjs).
#include <stdio.h>
#include <stdlib.h>
#ifndef __wasi__
int main(void) { puts("comp_exit calls WASI 0.2 directly: Wasm only"); return 77; }
#else
#include <stdint.h>
__attribute__((import_module("wasi:cli/exit@0.2.0"), import_name("exit-with-code")))
void exit_with_code(uint8_t code);

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 7;
  printf("exiting with %d\n", code);
  fflush(stdout);
  exit_with_code((uint8_t)code);
  return 99;
}
#endif
