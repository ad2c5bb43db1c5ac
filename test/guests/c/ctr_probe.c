// Wasm-container probe: one command per run, output on stdout (wasm-container e2e tests).
//   hello                  "hello from a wasm container"
//   exit N                 exits with N (proc_exit)
//   busy                   loops forever without a syscall (signal handling)
//   args                   each argv entry, then each environ entry, one per line
//   stat PATH...           "PATH: present" or "PATH: absent (errno text)"
//   ls DIR                 entry names, one per line ("." and ".." skipped)
//   cat PATH               prints the file
//   write PATH TEXT        writes TEXT to PATH; "write ok" or "write failed: …" (exit 3)
//   grow MIB               grows linear memory 1 MiB at a time up to MIB, touching every page;
//                          prints "grew to N MiB" (N < MIB when memory.grow refused)
//   sleep N                sleeps N seconds (a long-running container to exec into)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int cmd_grow(long target_mib) {
#ifndef __wasm__
  (void)target_mib;
  printf("grow is wasm-only\n");
  return 2;
#else
  long have = (long)(__builtin_wasm_memory_size(0) * 65536 / (1 << 20));
  while (have < target_mib) {
    size_t before = __builtin_wasm_memory_size(0);
    if (__builtin_wasm_memory_grow(0, 16) == (size_t)-1) break;
    // Touch the new pages so they are really charged to the container's memory cgroup.
    volatile char *p = (volatile char *)(before * 65536);
    for (size_t i = 0; i < 16 * 65536; i += 4096) p[i] = 1;
    have = (long)(__builtin_wasm_memory_size(0) * 65536 / (1 << 20));
  }
  printf("grew to %ld MiB\n", have);
  return 0;
#endif
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "hello";
  if (!strcmp(cmd, "hello")) {
    printf("hello from a wasm container\n");
    return 0;
  }
  if (!strcmp(cmd, "exit") && argc > 2) return atoi(argv[2]);
  if (!strcmp(cmd, "busy")) {
    printf("busy\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;) n++;
  }
  if (!strcmp(cmd, "args")) {
    for (int i = 0; i < argc; i++) printf("arg %s\n", argv[i]);
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
  }
  if (!strcmp(cmd, "stat")) {
    for (int i = 2; i < argc; i++) {
      struct stat st;
      if (stat(argv[i], &st) == 0) printf("%s: present\n", argv[i]);
      else printf("%s: absent (%s)\n", argv[i], strerror(errno));
    }
    return 0;
  }
  if (!strcmp(cmd, "ls") && argc > 2) {
    DIR *d = opendir(argv[2]);
    if (!d) { printf("ls failed: %s\n", strerror(errno)); return 3; }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf("%s\n", e->d_name);
    }
    closedir(d);
    return 0;
  }
  if (!strcmp(cmd, "cat") && argc > 2) {
    FILE *f = fopen(argv[2], "r");
    if (!f) { printf("cat failed: %s\n", strerror(errno)); return 3; }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
  }
  if (!strcmp(cmd, "write") && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (!f || fputs(argv[3], f) < 0 || fclose(f) != 0) {
      printf("write failed: %s\n", strerror(errno));
      return 3;
    }
    printf("write ok\n");
    return 0;
  }
  if (!strcmp(cmd, "grow") && argc > 2) return cmd_grow(atol(argv[2]));
  if (!strcmp(cmd, "sleep") && argc > 2) {
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  fprintf(stderr, "ctr_probe: unknown command %s\n", cmd);
  return 2;
}
