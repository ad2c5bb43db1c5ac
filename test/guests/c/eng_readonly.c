// Tries every kind of change in a read-only directory (argv[1], holding in.txt, sub/ and
// sub/keep.txt), and moves across it and a writable one (argv[2]), printing one line per attempt:
// "LABEL: ok" or "LABEL: ERRNAME". Further arguments are extra paths to create (other spellings
// of a place in the read-only directory, links into it): "create PATH: ...". Reading must work.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *name(int e) {
  switch (e) {
    case EROFS: return "EROFS";
    case EXDEV: return "EXDEV";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
#ifdef ENOTCAPABLE
    case ENOTCAPABLE: return "ENOTCAPABLE";
#endif
    default: return strerror(e);
  }
}

static void report(const char *label, int rc) {
  if (rc < 0) printf("%s: %s\n", label, name(errno));
  else printf("%s: ok\n", label);
}

static char path_buf[4][512];
static const char *at(int slot, const char *dir, const char *rel) {
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, rel);
  return path_buf[slot];
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: eng_readonly RO_DIR RW_DIR [PATH...]\n"); return 2; }
  const char *ro = argv[1], *rw = argv[2];
  char buf[256];

  int fd = open(at(0, ro, "in.txt"), O_RDONLY);
  if (fd < 0) { printf("read: %s\n", name(errno)); return 1; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = 0;
  printf("read: %s\n", buf);
  report("write on a read-only open", (int)write(fd, "x", 1));
  report("pwrite", (int)pwrite(fd, "x", 1, 0));
  report("ftruncate", ftruncate(fd, 0));
  errno = posix_fallocate(fd, 0, 4096);
  report("posix_fallocate", errno ? -1 : 0);
  struct timespec times[2] = {{0, 0}, {0, 0}};
  report("futimens", futimens(fd, times));
  close(fd);

  fd = open(at(0, ro, "in.txt"), O_WRONLY);
  if (fd >= 0) {
    // An older wasi-libc asks only for the rights the directory hands down: the open succeeds
    // read-only and the write is what fails.
    report("open O_WRONLY then write", (int)write(fd, "x", 1));
    close(fd);
  } else report("open O_WRONLY then write", -1);
  report("open O_TRUNC", open(at(0, ro, "in.txt"), O_RDWR | O_TRUNC));
  report("open O_CREAT", open(at(0, ro, "new.txt"), O_WRONLY | O_CREAT, 0644));
  report("mkdir", mkdir(at(0, ro, "newdir"), 0755));
  report("unlink", unlink(at(0, ro, "in.txt")));
  report("rmdir", rmdir(at(0, ro, "sub")));
  report("rename inside", rename(at(0, ro, "in.txt"), at(1, ro, "moved.txt")));
  report("rename out", rename(at(0, ro, "sub/keep.txt"), at(1, rw, "taken.txt")));
  int w = open(at(0, rw, "mine.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (w >= 0) { (void)write(w, "mine", 4); close(w); }
  report("rename in", rename(at(0, rw, "mine.txt"), at(1, ro, "mine.txt")));
  report("symlink", symlink("in.txt", at(0, ro, "sl")));
  report("link inside", link(at(0, ro, "in.txt"), at(1, ro, "hl")));
  report("link in", link(at(0, rw, "mine.txt"), at(1, ro, "hl2")));
  report("utimensat", utimensat(AT_FDCWD, at(0, ro, "in.txt"), times, 0));
  report("truncate", truncate(at(0, ro, "in.txt"), 0));
  for (int i = 3; i < argc; i++) {
    char label[600];
    snprintf(label, sizeof label, "create %s", argv[i]);
    report(label, open(argv[i], O_WRONLY | O_CREAT, 0644));
  }

  // Still all there, unchanged.
  fd = open(at(0, ro, "sub/keep.txt"), O_RDONLY);
  n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = 0;
  printf("keep: %s\n", buf);
  return 0;
}
