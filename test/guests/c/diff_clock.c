// Differential guest: clock properties that must hold everywhere (never the values themselves).
#include <stdio.h>
#include <time.h>

static long long ns(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(void) {
  struct timespec prev, now, res;
  clock_gettime(CLOCK_MONOTONIC, &prev);
  long long backwards = 0;
  volatile unsigned sink = 0;
  for (int i = 0; i < 20000; i++) {
    sink += (unsigned)i * 2654435761u;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ns(&now) < ns(&prev)) backwards++;
    prev = now;
  }
  printf("monotonic: %s\n", backwards == 0 ? "never went backwards" : "WENT BACKWARDS");

  printf("resolution: %s\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(&res) > 0 && ns(&res) <= 1000000
                                 ? "between 1ns and 1ms" : "implausible");

  struct timespec before, after, nap = {0, 20 * 1000000};
  clock_gettime(CLOCK_MONOTONIC, &before);
  nanosleep(&nap, NULL);
  clock_gettime(CLOCK_MONOTONIC, &after);
  printf("nanosleep 20ms: %s\n", ns(&after) - ns(&before) >= 20000000 ? "slept at least 20ms" : "woke early");

  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  printf("realtime: %s\n", wall.tv_sec > 1600000000 ? "after 2020" : "before 2020");
  time_t t = time(NULL);
  long long diff = (long long)t - (long long)wall.tv_sec;
  printf("time() vs realtime: %s\n", diff >= 0 && diff <= 2 ? "agree" : "disagree");
  return 0;
}
