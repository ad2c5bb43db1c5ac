// Prints argc, each argv entry and each environ entry, one per line, bracketed so spaces show.
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("arg[%d]=[%s]\n", i, argv[i]);
  int n = 0;
  for (char **e = environ; *e; e++) printf("env[%d]=[%s]\n", n++, *e);
  printf("envc=%d\n", n);
  return 0;
}
