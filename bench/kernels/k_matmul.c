// Compute kernel: dense double-precision matrix multiply C = A x B (i-k-j loop order), repeated;
// prints the sum of C and one element.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 384;
  int reps = argc > 2 ? atoi(argv[2]) : 4;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n);
  for (int i = 0; i < n * n; i++) {
    a[i] = (double)((i * 7 + 3) % 101) / 50.0 - 1.0;
    b[i] = (double)((i * 13 + 5) % 97) / 48.0 - 1.0;
  }
  double total = 0;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < n * n; i++) c[i] = 0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        double aik = a[i * n + k];
        for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
      }
    for (int i = 0; i < n * n; i++) total += c[i];
    a[r % (n * n)] += 0.5; // perturb so the repetitions are not identical
  }
  printf("matmul %dx%d x%d: sum %.6f c[7] %.9f\n", n, n, reps, total, c[7]);
  free(a); free(b); free(c);
  return 0;
}
