#include <stdio.h>

int main(int argc, char **argv) {
  printf("hello from wasi, argc=%d\n", argc);
  return 0;
}
