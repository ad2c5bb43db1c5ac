// Test guest: allocates (and touches) 1 MiB blocks until malloc fails or LIMIT blocks are held;
// prints how many it got. Under `hyrun run --memory SIZE` the count must stay below SIZE.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  int limit = argc > 1 ? atoi(argv[1]) : 64;
  char **blocks = calloc((size_t)limit, sizeof *blocks);
  int got = 0;
  while (got < limit) {
    char *p = malloc(1 << 20);
    if (!p) break;
    memset(p, got + 1, 1 << 20);
    blocks[got++] = p;
  }
  // Read the blocks back, so the compiler cannot drop the allocations as unused.
  long sum = 0;
  for (int i = 0; i < got; i++) sum += blocks[i][i * 4099 % (1 << 20)];
  printf("allocated %d MiB (check %ld)\n", got, sum);
  return 0;
}
