// Compute kernel entered once from main: shell sort of N pseudo-random ints (xorshift), inlined in
// main, then a checksum of the sorted order.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3000000;
  unsigned *v = malloc(sizeof(unsigned) * n);
  unsigned x = 2463534242u;
  for (int i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    v[i] = x;
  }
  int gap = 1;
  while (gap < n / 3) gap = gap * 3 + 1;
  for (; gap > 0; gap /= 3)
    for (int i = gap; i < n; i++) {
      unsigned t = v[i];
      int j = i;
      while (j >= gap && v[j - gap] > t) { v[j] = v[j - gap]; j -= gap; }
      v[j] = t;
    }
  unsigned long long sum = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && v[i - 1] > v[i]) { puts("not sorted"); return 1; }
    sum = sum * 31 + v[i];
  }
  printf("checksum %llu\n", sum);
  return 0;
}
