// Counts lines, words and bytes of files, like `wc`. The files must be inside a directory given
// with --dir, since a WASI guest sees nothing else of the host:
//   clang-14 --target=wasm32-wasi -O2 -o wc.wasm examples/wc.c
//   ./bin/hyrun run --dir .::/src wc.wasm /src/README.md
#include <ctype.h>
#include <stdio.h>

int main(int argc, char **argv) {
  int status = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "r");
    if (!f) {
      perror(argv[i]);
      status = 1;
      continue;
    }
    long lines = 0, words = 0, bytes = 0;
    int c, in_word = 0;
    while ((c = getc(f)) != EOF) {
      bytes++;
      if (c == '\n') lines++;
      if (isspace(c)) in_word = 0;
      else if (!in_word) { in_word = 1; words++; }
    }
    fclose(f);
    printf("%7ld %7ld %7ld %s\n", lines, words, bytes, argv[i]);
  }
  return status;
}
