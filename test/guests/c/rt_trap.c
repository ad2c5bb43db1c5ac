// Traps in the way argv[1] asks, after printing a line (which must still reach stdout).
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) void crash_now(void) { __builtin_trap(); }

__attribute__((noinline)) int divide(int a, int b) { return a / b; }

__attribute__((noinline)) int load_far(volatile int *p) { return *p; }

// Not a tail call (work after the recursive call), and the volatile array keeps each frame real.
__attribute__((noinline)) int recurse(int n) {
  volatile char pad[64];
  pad[n & 63] = (char)n;
  return recurse(n + 1) + pad[(n * 7) & 63];
}

// No locals in linear memory: each level is only a wasm call frame, so this exhausts the engine's
// call stack rather than the C shadow stack. The volatile global keeps it from becoming a loop.
volatile int sink;
__attribute__((noinline)) int deep(int n) {
  sink = n;
  return deep(n + 1) * 3 + sink;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "unreachable";
  printf("about to trap: %s\n", what);
  fflush(stdout);
  volatile int zero = 0;
  if (strcmp(what, "unreachable") == 0) crash_now();
  if (strcmp(what, "div0") == 0) return divide(7, zero);
  if (strcmp(what, "oob") == 0) return load_far((volatile int *)0xfffffff0u);
  if (strcmp(what, "stack") == 0) return recurse(0);
  if (strcmp(what, "deep") == 0) return deep(0);
  return 0;
}
