// Allocates 1 MiB blocks until malloc fails (filling each, chaining them so none can be optimised
// away), checks every block's contents, then reports how many it got.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block { struct block *next; int tag; };

int main(int argc, char **argv) {
  int limit = argc > 1 ? atoi(argv[1]) : 1 << 20;
  struct block *head = NULL;
  int count = 0;
  while (count < limit) {
    struct block *b = malloc(1 << 20);
    if (b == NULL) break;
    memset(b, count & 0xff, 1 << 20);
    b->next = head;
    b->tag = count;
    head = b;
    count++;
  }
  int bad = 0;
  for (struct block *b = head; b; b = b->next) {
    unsigned char *bytes = (unsigned char *)b;
    if (bytes[(1 << 20) - 1] != (b->tag & 0xff)) bad++;
  }
  printf("allocated %d MiB, %d corrupt\n", count, bad);
  return bad ? 1 : 0;
}
