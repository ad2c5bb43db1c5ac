// Native helper for tests: sets O_NONBLOCK on fds 0 and 1 (shared with whoever else holds those
// pipes), then execs argv[1..]. Lets tests check that the WASI host copes with non-blocking stdio.
#ifdef __wasi__
#include <stdio.h>
int main(void) { puts("native only"); return 0; }
#else
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int fd = 0; fd <= 1; fd++) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  execvp(argv[1], argv + 1);
  perror("execvp");
  return 127;
}
#endif
