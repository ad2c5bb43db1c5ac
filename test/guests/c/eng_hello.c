// The guest of the end-to-end Wasm images: a greeting plus its arguments, so tests see both the
// module's output and what the engine passed as argv (and $GREETING, when the engine sets it).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("hello from hyrun-test wasm\n");
  for (int i = 1; i < argc; i++) printf("arg%d=%s\n", i, argv[i]);
  const char *greeting = getenv("GREETING");
  if (greeting) printf("GREETING=%s\n", greeting);
  return 0;
}
