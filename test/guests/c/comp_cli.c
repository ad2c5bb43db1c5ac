// What a command gets from its host: arguments, environment, clocks, randomness, stdin. Prints one
// line per fact; argv[1] "stdin" also counts the bytes of stdin, "exit N" exits with N.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __wasi__
#include <sys/random.h>
#endif

extern char **environ;

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e != NULL; e++) printf("env %s\n", *e);
  struct timespec a, b, wall;
  clock_gettime(CLOCK_MONOTONIC, &a);
  clock_gettime(CLOCK_MONOTONIC, &b);
  clock_gettime(CLOCK_REALTIME, &wall);
  printf("monotonic %s\n", (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)) ? "ok" : "went back");
  printf("realtime %s\n", wall.tv_sec > 1700000000 ? "ok" : "before 2023");
  unsigned char r1[16] = {0}, r2[16] = {0};
#ifdef __wasi__
  getentropy(r1, sizeof r1);
  getentropy(r2, sizeof r2);
#endif
  printf("random %s\n", memcmp(r1, r2, sizeof r1) != 0 ? "ok" : "repeats");
  if (argc > 1 && strcmp(argv[1], "stdin") == 0) {
    size_t total = 0;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) total += n;
    printf("stdin %zu bytes\n", total);
  }
  if (argc > 2 && strcmp(argv[1], "exit") == 0) exit(atoi(argv[2]));
  return 0;
}
