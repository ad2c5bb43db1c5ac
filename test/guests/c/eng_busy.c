// A long-running guest for stop/exec tests. `busy.wasm` spins on the CPU forever (so a stop has to
// interrupt running Wasm code); `busy.wasm sleep` sleeps in 100 ms steps instead (poll_oneoff).
// Prints "ready" once it is running.
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  int sleepy = argc > 1 && strcmp(argv[1], "sleep") == 0;
  printf("ready %s\n", sleepy ? "sleep" : "spin");
  fflush(stdout);
  volatile unsigned long n = 0;
  for (;;) {
    if (sleepy) {
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
    } else {
      n++;
    }
  }
}
