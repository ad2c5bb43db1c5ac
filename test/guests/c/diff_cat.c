// Test guest: copies each named file (or stdin for "-") to stdout with a 64 KiB buffer; exits 1
// with "cannot open NAME" on stderr when a file is missing.
#include <stdio.h>
#include <string.h>

static int copy(FILE *in) {
  static char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, stdout) != n) return 1;
  return ferror(in) ? 1 : 0;
}

int main(int argc, char **argv) {
  int status = 0;
  if (argc == 1) return copy(stdin);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-") == 0) {
      status |= copy(stdin);
      continue;
    }
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      fprintf(stderr, "cannot open %s\n", argv[i]);
      status = 1;
      continue;
    }
    status |= copy(f);
    fclose(f);
  }
  return status;
}
