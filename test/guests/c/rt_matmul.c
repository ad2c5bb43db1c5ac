// Compute kernel entered once from main (the case V8 cannot tier up without on-stack replacement):
// an N×N double matrix multiply, all loops inlined in main; prints a checksum.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 400;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc((size_t)n * n, sizeof(double));
  for (int i = 0; i < n * n; i++) {
    a[i] = (double)((i * 7) % 13) / 13.0;
    b[i] = (double)((i * 5) % 11) / 11.0;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  double sum = 0;
  for (int i = 0; i < n * n; i++) sum += c[i] * (double)(i % 7);
  printf("checksum %.6f\n", sum);
  return 0;
}
