// For `podman run -it`: reports whether stdin/stdout are terminals, then echoes one line of input.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  printf("stdin tty: %s, stdout tty: %s\n", isatty(0) ? "yes" : "no", isatty(1) ? "yes" : "no");
  printf("type a line:\n");
  fflush(stdout);
  char line[256];
  if (!fgets(line, sizeof line, stdin)) { printf("no input\n"); return 1; }
  line[strcspn(line, "\r\n")] = 0;
  printf("echo: [%s]\n", line);
  return 0;
}
