/* The pod sandbox's process for the CRI tests: holds the pod's namespaces and does nothing until
 * told to stop (SIGTERM/SIGINT end it with 0). Built static, so the image is this one file. */
#include <signal.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  for (;;) pause();
}
