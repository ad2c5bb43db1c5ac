// Reads /data/in.txt from a volume, prints it, and writes /data/out.txt = "wasm saw: " + content.
#include <stdio.h>
#include <string.h>

int main(void) {
  char buf[4096];
  FILE *in = fopen("/data/in.txt", "r");
  if (!in) { perror("open /data/in.txt"); return 2; }
  size_t n = fread(buf, 1, sizeof buf - 1, in);
  buf[n] = 0;
  fclose(in);
  printf("read: %s\n", buf);
  FILE *out = fopen("/data/out.txt", "w");
  if (!out) { perror("open /data/out.txt"); return 3; }
  fprintf(out, "wasm saw: %s", buf);
  if (fclose(out) != 0) { perror("close /data/out.txt"); return 4; }
  return 0;
}
