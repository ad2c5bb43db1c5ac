// Differential guest: the whole environment, sorted (so both runs must give exactly the same set),
// then getenv() for each name given as an argument.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  size_t n = 0;
  while (environ[n]) n++;
  char **copy = malloc((n + 1) * sizeof *copy);
  for (size_t i = 0; i < n; i++) copy[i] = environ[i];
  qsort(copy, n, sizeof *copy, cmp);
  printf("environ has %zu entries\n", n);
  for (size_t i = 0; i < n; i++) printf("  %s\n", copy[i]);
  for (int i = 1; i < argc; i++) {
    const char *v = getenv(argv[i]);
    if (v) printf("getenv(%s)=<%s>\n", argv[i], v);
    else printf("getenv(%s) unset\n", argv[i]);
  }
  free(copy);
  return 0;
}
