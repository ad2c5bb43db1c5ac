// Differential guest: qsort and printf formatting. Only exactly-rounded arithmetic (+ - * / sqrt),
// so glibc and wasi-libc (musl) must print identical digits.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static int cmpi(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { N = 2000 };
  static double d[N];
  static long long v[N];
  for (int i = 0; i < N; i++) {
    d[i] = (double)(int64_t)next() / 1e15 / ((double)(next() % 1000) + 1.0);
    v[i] = (long long)(next() % 2000001) - 1000000;
  }
  qsort(d, N, sizeof d[0], cmpd);
  qsort(v, N, sizeof v[0], cmpi);
  for (int i = 0; i < N; i += 97) printf("%5d %.17g | %e | %.3f | %g\n", i, d[i], d[i], d[i], d[i]);
  for (int i = 0; i < N; i += 181) printf("%5d %lld %+08lld %llx\n", i, v[i], v[i], (unsigned long long)v[i]);
  double sum = 0;
  for (int i = 0; i < N; i++) sum += d[i];
  printf("sum %.17g sqrt(2) %.17g\n", sum, sqrt(2.0));
  printf("0.1+0.2=%.17g 1/3=%.20f 2/3=%.0f\n", 0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0);
  printf("halves %.0f %.0f %.0f %.1f\n", 0.5, 1.5, 2.5, 0.25);
  printf("specials %f %f %f %g %e\n", HUGE_VAL, -HUGE_VAL, NAN, -0.0, 0.0);
  printf("g: %g %g %g %g %G\n", 1e-5, 123456789.0, 0.0001234, 100000.0, 1e-20);
  printf("widths [%10.4f] [%-10.2e] [%010.3f] [%+.2f] [% d]\n", 3.14159265, 2.5e-7, -1.5, 2.0, 42);
  printf("ints %d %u %x %X %o %#x %5.3d %-6d|\n", -17, 4000000000u, 255, 255, 8, 255, 7, 12);
  printf("strings [%8s] [%-8s] [%.3s] %c%%\n", "right", "left", "truncate", 'Z');
  printf("strtod %.17g %.17g\n", strtod("3.14159265358979", NULL), strtod("1e-310", NULL));
  return 0;
}
