// Compute kernel: a hand-written sort (quicksort, median-of-three, insertion sort for short runs)
// of pseudo-random 32-bit keys; verifies the order and prints a position-weighted checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void insertion(uint32_t *a, long lo, long hi) {
  for (long i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}

static inline void swap(uint32_t *a, long i, long j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; }

static void quicksort(uint32_t *a, long lo, long hi) {
  while (hi - lo > 24) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    uint32_t pivot = a[mid];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    // Recurse into the smaller side, loop on the larger: bounded stack depth.
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
    else { quicksort(a, i, hi); hi = j; }
  }
  insertion(a, lo, hi);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 6000000;
  uint32_t *a = malloc((size_t)n * sizeof *a);
  uint32_t s = 2463534242u;
  for (long i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 17; s ^= s << 5;
    a[i] = s;
  }
  quicksort(a, 0, n - 1);
  uint64_t sum = 0;
  for (long i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) {
      printf("NOT SORTED at %ld\n", i);
      return 1;
    }
    sum = sum * 31 + a[i] * (uint64_t)(i + 1);
  }
  printf("sorted %ld keys, checksum %016llx\n", n, (unsigned long long)sum);
  free(a);
  return 0;
}
