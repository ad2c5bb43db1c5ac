// Portable POSIX file operations, built both natively (gcc) and for WASI (clang): run in an empty
// directory, both must print exactly the same lines. argv[1] is that directory.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EBADF: return "EBADF";
    case EPERM: return "EPERM";
    default: return "OTHER";
  }
}
#define TRY(label, expr) do { errno = 0; int r_ = (expr); printf("%s %s\n", label, r_ < 0 ? ename(errno) : "OK"); } while (0)

static char base[1024];
static const char *at(const char *rel) {
  static char buf[4][2048];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", base, rel);
  return buf[i];
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *rel) {
  DIR *d = opendir(at(rel));
  if (!d) { printf("list %s %s\n", rel, ename(errno)); return; }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    char *s = malloc(strlen(e->d_name) + 4);
    sprintf(s, "%s:%c", e->d_name, e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : e->d_type == DT_REG ? 'f' : '?');
    names[n++] = s;
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("list %s", rel);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: fs_posix DIR\n"); return 2; }
  snprintf(base, sizeof base, "%s", argv[1]);
  char buf[256];
  struct stat st;

  TRY("mkdir", mkdir(at("d"), 0755));
  TRY("mkdir_again", mkdir(at("d"), 0755));
  TRY("mkdir_nested_missing", mkdir(at("x/y"), 0755));
  int fd = open(at("d/f.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  printf("open_create %s\n", fd >= 0 ? "OK" : ename(errno));
  printf("write %zd\n", write(fd, "hello, world\n", 13));
  printf("lseek_end %lld\n", (long long)lseek(fd, 0, SEEK_END));
  printf("pwrite %zd\n", pwrite(fd, "HELLO", 5, 0));
  close(fd);
  fd = open(at("d/f.txt"), O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("read %zd %s", n, buf);
  printf("lseek_set %lld\n", (long long)lseek(fd, 7, SEEK_SET));
  n = read(fd, buf, 5);
  buf[n > 0 ? n : 0] = 0;
  printf("read_at_7 %s\n", buf);
  n = pread(fd, buf, 4, 1);
  buf[n > 0 ? n : 0] = 0;
  printf("pread %s\n", buf);
  errno = 0;
  n = write(fd, "x", 1);
  printf("write_readonly %zd %s\n", n, ename(errno));
  fstat(fd, &st);
  printf("fstat size=%lld reg=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  close(fd);
  fd = open(at("d/f.txt"), O_WRONLY | O_APPEND);
  write(fd, "more\n", 5);
  close(fd);
  stat(at("d/f.txt"), &st);
  printf("append size=%lld\n", (long long)st.st_size);
  TRY("truncate", truncate(at("d/f.txt"), 4));
  stat(at("d/f.txt"), &st);
  printf("truncated size=%lld\n", (long long)st.st_size);
  TRY("open_missing", open(at("d/missing"), O_RDONLY));
  TRY("open_excl_existing", open(at("d/f.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
  TRY("open_dir_for_write", open(at("d"), O_WRONLY));
  TRY("open_file_as_dir", open(at("d/f.txt"), O_RDONLY | O_DIRECTORY));
  TRY("open_trailing_slash_file", open(at("d/f.txt/"), O_RDONLY));
  TRY("symlink", symlink("f.txt", at("d/link")));
  n = readlink(at("d/link"), buf, sizeof buf);
  buf[n > 0 ? n : 0] = 0;
  printf("readlink %zd %s\n", n, buf);
  n = readlink(at("d/link"), buf, 3);
  buf[3] = 0;
  printf("readlink_short %zd %s\n", n, buf);
  TRY("readlink_file", readlink(at("d/f.txt"), buf, sizeof buf));
  lstat(at("d/link"), &st);
  printf("lstat_link islnk=%d\n", S_ISLNK(st.st_mode));
  stat(at("d/link"), &st);
  printf("stat_link size=%lld\n", (long long)st.st_size);
  TRY("open_nofollow_link", open(at("d/link"), O_RDONLY | O_NOFOLLOW));
  TRY("symlink_loop_a", symlink("loop-b", at("d/loop-a")));
  TRY("symlink_loop_b", symlink("loop-a", at("d/loop-b")));
  TRY("open_loop", open(at("d/loop-a"), O_RDONLY));
  TRY("link", link(at("d/f.txt"), at("d/hard")));
  stat(at("d/f.txt"), &st);
  printf("nlink %lld\n", (long long)st.st_nlink);
  TRY("link_exists", link(at("d/f.txt"), at("d/hard")));
  TRY("mkdir_sub", mkdir(at("d/sub"), 0755));
  TRY("rename", rename(at("d/hard"), at("d/sub/moved")));
  TRY("rename_missing", rename(at("d/hard"), at("d/x")));
  TRY("rename_file_over_dir", rename(at("d/sub/moved"), at("d")));
  TRY("rename_dir_into_itself", rename(at("d/sub"), at("d/sub/inner")));
  list("d");
  list("d/sub");
  TRY("rmdir_nonempty", rmdir(at("d/sub")));
  TRY("rmdir_file", rmdir(at("d/f.txt")));
  TRY("unlink_dir", unlink(at("d/sub")));
  TRY("unlink_trailing_slash", unlink(at("d/f.txt/")));
  TRY("unlink", unlink(at("d/sub/moved")));
  TRY("unlink_again", unlink(at("d/sub/moved")));
  TRY("rmdir", rmdir(at("d/sub")));
  TRY("rmdir_again", rmdir(at("d/sub")));
  TRY("chdir_like_dotdot", stat(at("d/../d/f.txt"), &st));
  list("d");
  list("nope");
  return 0;
}
