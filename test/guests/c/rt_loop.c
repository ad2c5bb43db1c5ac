// Says it is ready, then spins forever without calling the host (only a signal can stop it).
#include <stdio.h>

int main(void) {
  printf("spinning\n");
  fflush(stdout);
  volatile unsigned long x = 0;
  for (;;) x++;
}
