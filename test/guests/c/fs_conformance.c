// Calls the preview1 filesystem functions directly (wasi/api.h) and prints one line per check:
// "label value...", so the host test can assert exact errno values and outputs. Expects the
// first preopen (fd 3) to be "/sandbox" holding data.txt ("0123456789"), sub/{a,b},
// link-to-data -> data.txt and dangling -> nowhere.
#include <stdio.h>
#ifndef __wasi__
// build-guests also compiles every C guest natively; this one only makes sense as Wasm.
int main(void) { puts("fs_conformance calls WASI directly: Wasm only"); return 77; }
#else
#include <wasi/api.h>
#include <string.h>
#include <stdlib.h>

#define R(x) ((__wasi_rights_t)(x))
static const __wasi_fd_t ROOT = 3;

static void e(const char *label, __wasi_errno_t err) { printf("%s %u\n", label, (unsigned)err); }

static __wasi_fd_t open_at(__wasi_fd_t dir, const char *path, __wasi_lookupflags_t lf, __wasi_oflags_t of,
                           __wasi_rights_t base, __wasi_rights_t inh, __wasi_fdflags_t ff, __wasi_errno_t *err) {
  __wasi_fd_t fd = (__wasi_fd_t)-1;
  *err = __wasi_path_open(dir, lf, path, of, base, inh, ff, &fd);
  return fd;
}

static __wasi_errno_t read_str(__wasi_fd_t fd, char *buf, size_t len, size_t *n) {
  __wasi_iovec_t iov = {(uint8_t *)buf, len};
  __wasi_errno_t err = __wasi_fd_read(fd, &iov, 1, n);
  if (err == 0) buf[*n] = 0;
  return err;
}

static __wasi_errno_t write_str(__wasi_fd_t fd, const char *s, size_t *n) {
  __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  return __wasi_fd_write(fd, &iov, 1, n);
}

static uint64_t size_of(__wasi_fd_t fd) {
  __wasi_filestat_t st;
  if (__wasi_fd_filestat_get(fd, &st) != 0) return (uint64_t)-1;
  return st.size;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  __wasi_errno_t err;
  char buf[256];
  size_t n;
  __wasi_filesize_t off;

  // --- prestat ---
  __wasi_prestat_t ps;
  err = __wasi_fd_prestat_get(ROOT, &ps);
  printf("prestat_get %u %u %u\n", err, ps.tag, (unsigned)ps.u.dir.pr_name_len);
  memset(buf, 0, sizeof buf);
  err = __wasi_fd_prestat_dir_name(ROOT, (uint8_t *)buf, ps.u.dir.pr_name_len);
  printf("prestat_dir_name %u %s\n", err, buf);
  e("prestat_dir_name_short", __wasi_fd_prestat_dir_name(ROOT, (uint8_t *)buf, 3));
  e("prestat_get_stdout", __wasi_fd_prestat_get(1, &ps));
  e("prestat_get_badf", __wasi_fd_prestat_get(99, &ps));

  // --- fdstat of the preopen ---
  __wasi_fdstat_t fst;
  err = __wasi_fd_fdstat_get(ROOT, &fst);
  printf("root_fdstat %u %u %llx %llx\n", err, fst.fs_filetype, (unsigned long long)fst.fs_rights_base,
         (unsigned long long)fst.fs_rights_inheriting);
  e("fdstat_badf", __wasi_fd_fdstat_get(99, &fst));

  // --- read-only file: read, seek, tell, pread ---
  __wasi_rights_t ro = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET;
  __wasi_fd_t f = open_at(ROOT, "data.txt", 0, 0, ro, 0, 0, &err);
  e("open_ro", err);
  __wasi_fd_fdstat_get(f, &fst);
  printf("ro_fdstat %u %u %llx %llx\n", fst.fs_filetype, fst.fs_flags, (unsigned long long)fst.fs_rights_base,
         (unsigned long long)fst.fs_rights_inheriting);
  err = read_str(f, buf, 4, &n);
  printf("read4 %u %zu %s\n", err, n, buf);
  err = __wasi_fd_tell(f, &off);
  printf("tell %u %llu\n", err, (unsigned long long)off);
  err = __wasi_fd_seek(f, 2, __WASI_WHENCE_CUR, &off);
  printf("seek_cur %u %llu\n", err, (unsigned long long)off);
  err = read_str(f, buf, 100, &n);
  printf("read_rest %u %zu %s\n", err, n, buf);
  err = read_str(f, buf, 100, &n);
  printf("read_eof %u %zu\n", err, n);
  err = __wasi_fd_seek(f, -3, __WASI_WHENCE_END, &off);
  printf("seek_end %u %llu\n", err, (unsigned long long)off);
  e("seek_negative_set", __wasi_fd_seek(f, -1, __WASI_WHENCE_SET, &off));
  e("seek_before_start_end", __wasi_fd_seek(f, -11, __WASI_WHENCE_END, &off));
  e("seek_bad_whence", __wasi_fd_seek(f, 0, 3, &off));
  err = __wasi_fd_tell(f, &off);
  printf("tell_after_failed_seeks %u %llu\n", err, (unsigned long long)off);
  err = __wasi_fd_seek(f, 20, __WASI_WHENCE_SET, &off);
  printf("seek_past_end %u %llu\n", err, (unsigned long long)off);
  err = read_str(f, buf, 10, &n);
  printf("read_past_end %u %zu\n", err, n);
  {
    char a[4] = {0}, b[4] = {0};
    __wasi_iovec_t iovs[3] = {{(uint8_t *)a, 3}, {(uint8_t *)buf, 0}, {(uint8_t *)b, 3}};
    __wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &off);
    err = __wasi_fd_read(f, iovs, 3, &n);
    printf("readv %u %zu %s %s\n", err, n, a, b);
    __wasi_iovec_t one = {(uint8_t *)buf, 3};
    err = __wasi_fd_pread(f, &one, 1, 5, &n);
    buf[n] = 0;
    __wasi_fd_tell(f, &off);
    printf("pread %u %zu %s tell=%llu\n", err, n, buf, (unsigned long long)off);
  }
  err = write_str(f, "x", &n);
  printf("write_on_readonly %u\n", err);
  e("set_rights_add", __wasi_fd_fdstat_set_rights(f, ro | __WASI_RIGHTS_FD_WRITE, 0));
  e("set_rights_drop_seek", __wasi_fd_fdstat_set_rights(f, ro & ~__WASI_RIGHTS_FD_SEEK, 0));
  e("seek_without_right", __wasi_fd_seek(f, 1, __WASI_WHENCE_SET, &off));
  err = __wasi_fd_seek(f, 0, __WASI_WHENCE_CUR, &off);
  printf("seek_cur0_with_tell_right %u %llu\n", err, (unsigned long long)off);
  e("set_rights_regain_seek", __wasi_fd_fdstat_set_rights(f, ro, 0));
  e("close", __wasi_fd_close(f));
  e("close_again", __wasi_fd_close(f));
  e("read_closed", read_str(f, buf, 4, &n));

  // --- path_open errors ---
  open_at(ROOT, "missing.txt", 0, 0, ro, 0, 0, &err); e("open_missing", err);
  open_at(ROOT, "data.txt", 0, __WASI_OFLAGS_DIRECTORY, ro, 0, 0, &err); e("open_file_as_dir", err);
  open_at(ROOT, "data.txt/", 0, 0, ro, 0, 0, &err); e("open_file_trailing_slash", err);
  open_at(ROOT, "sub", 0, 0, ro | __WASI_RIGHTS_FD_WRITE, 0, 0, &err); e("open_dir_for_write", err);
  open_at(ROOT, "data.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ro, 0, 0, &err); e("open_creat_excl_existing", err);
  open_at(ROOT, "newfile/", 0, __WASI_OFLAGS_CREAT, ro, 0, 0, &err); e("open_creat_trailing_slash", err);
  open_at(ROOT, "link-to-data", 0, 0, ro, 0, 0, &err); e("open_symlink_nofollow", err);
  f = open_at(ROOT, "link-to-data", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, 0, ro, 0, 0, &err);
  read_str(f, buf, 3, &n);
  printf("open_symlink_follow %u %s\n", err, buf);
  __wasi_fd_close(f);
  open_at(1, "data.txt", 0, 0, ro, 0, 0, &err); e("open_relative_to_stdout", err);
  open_at(99, "data.txt", 0, 0, ro, 0, 0, &err); e("open_relative_to_badf", err);
  open_at(ROOT, "data.txt", 0, 0x10, ro, 0, 0, &err); e("open_bad_oflags", err);

  // --- a new read/write file ---
  __wasi_rights_t rw = ro | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_ALLOCATE |
                       __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC |
                       __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS;
  f = open_at(ROOT, "new.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rw, 0, 0, &err);
  e("create", err);
  {
    __wasi_ciovec_t iovs[2] = {{(const uint8_t *)"hello ", 6}, {(const uint8_t *)"world", 5}};
    err = __wasi_fd_write(f, iovs, 2, &n);
    printf("writev %u %zu size=%llu\n", err, n, (unsigned long long)size_of(f));
  }
  __wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &off);
  err = read_str(f, buf, 100, &n);
  printf("read_back %u %s\n", err, buf);
  {
    __wasi_ciovec_t he = {(const uint8_t *)"HE", 2};
    err = __wasi_fd_pwrite(f, &he, 1, 0, &n);
    __wasi_fd_tell(f, &off);
    __wasi_iovec_t all = {(uint8_t *)buf, 11};
    __wasi_fd_pread(f, &all, 1, 0, &n);
    buf[n] = 0;
    printf("pwrite %u tell=%llu %s\n", err, (unsigned long long)off, buf);
  }
  __wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &off);
  e("set_flags_append", __wasi_fd_fdstat_set_flags(f, __WASI_FDFLAGS_APPEND));
  __wasi_fd_fdstat_get(f, &fst);
  write_str(f, "!", &n);
  __wasi_fd_tell(f, &off);
  printf("append flags=%u size=%llu tell=%llu\n", fst.fs_flags, (unsigned long long)size_of(f), (unsigned long long)off);
  e("set_flags_none", __wasi_fd_fdstat_set_flags(f, 0));
  __wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &off);
  write_str(f, "J", &n);
  __wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &off);
  read_str(f, buf, 100, &n);
  printf("overwrite %s\n", buf);
  e("set_size", __wasi_fd_filestat_set_size(f, 5));
  printf("size_after_truncate %llu\n", (unsigned long long)size_of(f));
  e("allocate", __wasi_fd_allocate(f, 10, 90));
  printf("size_after_allocate %llu\n", (unsigned long long)size_of(f));
  e("allocate_inside", __wasi_fd_allocate(f, 0, 10));
  printf("size_after_allocate_inside %llu\n", (unsigned long long)size_of(f));
  e("sync", __wasi_fd_sync(f));
  e("datasync", __wasi_fd_datasync(f));
  e("advise", __wasi_fd_advise(f, 0, 100, __WASI_ADVICE_SEQUENTIAL));
  e("advise_bad", __wasi_fd_advise(f, 0, 100, 9));
  {
    __wasi_filestat_t st;
    e("set_times", __wasi_fd_filestat_set_times(f, 1500000000ull * 1000000000ull, 1600000000ull * 1000000000ull,
                                                 __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(f, &st);
    printf("times %llu %llu\n", (unsigned long long)(st.atim / 1000000000ull), (unsigned long long)(st.mtim / 1000000000ull));
    e("set_mtime_only", __wasi_fd_filestat_set_times(f, 0, 1700000000ull * 1000000000ull, __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(f, &st);
    printf("times_mtime_only %llu %llu\n", (unsigned long long)(st.atim / 1000000000ull), (unsigned long long)(st.mtim / 1000000000ull));
    e("set_times_atim_and_now", __wasi_fd_filestat_set_times(f, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    e("set_times_mtim_and_now", __wasi_fd_filestat_set_times(f, 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    e("set_times_mtim_now", __wasi_fd_filestat_set_times(f, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    __wasi_fd_filestat_get(f, &st);
    printf("mtim_now_is_recent %d\n", st.mtim / 1000000000ull > 1700000000ull);
    // To the nanosecond (the host's utimensat through hyrun's addon; without it about a microsecond).
    e("set_times_ns", __wasi_fd_filestat_set_times(f, 1500000000123456789ull, 1600000000987654321ull,
                                                    __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_filestat_get(f, &st);
    printf("times_ns %llu %llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    {
      __wasi_timestamp_t earlier = st.mtim - 100;
      e("set_mtim_minus_100", __wasi_fd_filestat_set_times(f, 0, earlier, __WASI_FSTFLAGS_MTIM));
      __wasi_fd_filestat_get(f, &st);
      printf("mtim_minus_100 %d\n", st.mtim == earlier);
    }
    printf("filestat type=%u nlink=%llu size=%llu\n", st.filetype, (unsigned long long)st.nlink, (unsigned long long)st.size);
  }
  __wasi_fd_close(f);
  f = open_at(ROOT, "new.txt", 0, __WASI_OFLAGS_TRUNC, rw, 0, 0, &err);
  printf("open_trunc %u size=%llu\n", err, (unsigned long long)size_of(f));
  __wasi_fd_close(f);
  f = open_at(ROOT, "new.txt", 0, 0, __WASI_RIGHTS_FD_READ, 0, 0, &err);
  {
    __wasi_filestat_t st;
    e("filestat_without_right", __wasi_fd_filestat_get(f, &st));
  }
  e("set_size_without_right", __wasi_fd_filestat_set_size(f, 1));
  e("readdir_on_file", __wasi_fd_readdir(f, (uint8_t *)buf, sizeof buf, 0, &n));
  __wasi_fd_close(f);
  f = open_at(ROOT, "new.txt", 0, 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &err);
  e("read_on_writeonly", read_str(f, buf, 4, &n));
  __wasi_fd_close(f);
  f = open_at(ROOT, "new.txt", 0, __WASI_OFLAGS_CREAT, rw, 0, __WASI_FDFLAGS_APPEND, &err);
  write_str(f, "abc", &n);
  write_str(f, "def", &n);
  __wasi_fd_fdstat_get(f, &fst);
  printf("open_append flags=%u size=%llu\n", fst.fs_flags, (unsigned long long)size_of(f));
  __wasi_fd_close(f);

  // --- fd_renumber ---
  {
    __wasi_fd_t a = open_at(ROOT, "data.txt", 0, 0, ro, 0, 0, &err);
    __wasi_fd_t b = open_at(ROOT, "new.txt", 0, 0, ro, 0, 0, &err);
    e("renumber", __wasi_fd_renumber(a, b));
    read_str(b, buf, 3, &n);
    printf("renumbered_reads %s\n", buf);
    e("renumbered_old", __wasi_fd_close(a));
    e("renumber_badf", __wasi_fd_renumber(b, 99));
    __wasi_fd_close(b);
  }

  // --- directories: readdir ---
  __wasi_rights_t dr = __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_FILESTAT_GET;
  __wasi_fd_t d = open_at(ROOT, "sub", 0, __WASI_OFLAGS_DIRECTORY, dr, __WASI_RIGHTS_FD_READ, 0, &err);
  __wasi_fd_fdstat_get(d, &fst);
  printf("open_dir %u type=%u base=%llx inh=%llx\n", err, fst.fs_filetype, (unsigned long long)fst.fs_rights_base,
         (unsigned long long)fst.fs_rights_inheriting);
  {
    static uint8_t dbuf[4096];
    size_t used;
    err = __wasi_fd_readdir(d, dbuf, sizeof dbuf, 0, &used);
    char *names[16];
    int count = 0;
    __wasi_dircookie_t second = 0;
    for (size_t p = 0; p + sizeof(__wasi_dirent_t) <= used && count < 16;) {
      __wasi_dirent_t ent;
      memcpy(&ent, dbuf + p, sizeof ent);
      if (count == 0) second = ent.d_next;
      names[count] = strndup((char *)dbuf + p + sizeof ent, ent.d_namlen);
      char *typed = malloc(ent.d_namlen + 8);
      sprintf(typed, "%s:%u", names[count], ent.d_type);
      free(names[count]);
      names[count++] = typed;
      p += sizeof ent + ent.d_namlen;
    }
    qsort(names, count, sizeof names[0], cmp);
    printf("readdir %u", err);
    for (int i = 0; i < count; i++) printf(" %s", names[i]);
    printf("\n");
    size_t used2;
    err = __wasi_fd_readdir(d, dbuf, sizeof dbuf, second, &used2);
    printf("readdir_from_cookie %u %d\n", err, (int)(used - used2));
    err = __wasi_fd_readdir(d, dbuf, sizeof dbuf, 1000, &used2);
    printf("readdir_past_end %u %zu\n", err, used2);
    err = __wasi_fd_readdir(d, dbuf, 30, 0, &used2);
    printf("readdir_small %u %zu\n", err, used2);
  }
  // Rights handed down: the file gets at most the directory's inheriting rights (FD_READ).
  f = open_at(d, "a", 0, 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK, 0, 0, &err);
  __wasi_fd_fdstat_get(f, &fst);
  printf("inherited %u base=%llx\n", err, (unsigned long long)fst.fs_rights_base);
  e("inherited_write", write_str(f, "x", &n));
  __wasi_fd_close(f);
  // A directory descriptor is a capability for its own subtree: ".." may not leave it.
  open_at(d, "../data.txt", 0, 0, __WASI_RIGHTS_FD_READ, 0, 0, &err);
  e("open_dotdot_from_subdir", err);
  f = open_at(d, "./a", 0, 0, __WASI_RIGHTS_FD_READ, 0, 0, &err);
  e("open_below_subdir", err);
  __wasi_fd_close(f);
  e("mkdir_without_right", __wasi_path_create_directory(d, "x"));
  __wasi_fd_close(d);
  d = open_at(ROOT, "sub", 0, __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, 0, &err);
  open_at(d, "a", 0, 0, __WASI_RIGHTS_FD_READ, 0, 0, &err); e("open_without_path_open_right", err);
  __wasi_fd_close(d);
  d = open_at(ROOT, ".", 0, __WASI_OFLAGS_DIRECTORY, dr, 0, 0, &err); e("open_dot", err);
  __wasi_fd_close(d);

  // --- path_* ---
  e("mkdir", __wasi_path_create_directory(ROOT, "newdir"));
  e("mkdir_exists", __wasi_path_create_directory(ROOT, "newdir"));
  e("mkdir_under_file", __wasi_path_create_directory(ROOT, "data.txt/x"));
  e("mkdir_missing_parent", __wasi_path_create_directory(ROOT, "missing/x"));
  e("mkdir_trailing_slash", __wasi_path_create_directory(ROOT, "newdir2/"));
  e("mkdir_dot", __wasi_path_create_directory(ROOT, "."));
  {
    __wasi_filestat_t st;
    err = __wasi_path_filestat_get(ROOT, 0, "link-to-data", &st);
    printf("lstat_link %u type=%u size=%llu\n", err, st.filetype, (unsigned long long)st.size);
    err = __wasi_path_filestat_get(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link-to-data", &st);
    printf("stat_link %u type=%u size=%llu\n", err, st.filetype, (unsigned long long)st.size);
    e("stat_dangling", __wasi_path_filestat_get(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling", &st));
    err = __wasi_path_filestat_get(ROOT, 0, "dangling", &st);
    printf("lstat_dangling %u type=%u\n", err, st.filetype);
    err = __wasi_path_filestat_get(ROOT, 0, "sub", &st);
    printf("stat_dir %u type=%u\n", err, st.filetype);
    e("stat_missing", __wasi_path_filestat_get(ROOT, 0, "missing", &st));
    e("set_path_times", __wasi_path_filestat_set_times(ROOT, 0, "data.txt", 0, 1234567890ull * 1000000000ull, __WASI_FSTFLAGS_MTIM));
    __wasi_path_filestat_get(ROOT, 0, "data.txt", &st);
    printf("path_mtime %llu\n", (unsigned long long)(st.mtim / 1000000000ull));
    e("set_path_times_ns", __wasi_path_filestat_set_times(ROOT, 0, "sub/b", 1234567890000000001ull, 1234567890999999999ull,
                                                          __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_path_filestat_get(ROOT, 0, "sub/b", &st);
    printf("path_times_ns %llu %llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    e("set_path_times_bad", __wasi_path_filestat_set_times(ROOT, 0, "data.txt", 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    e("set_path_times_missing", __wasi_path_filestat_set_times(ROOT, 0, "missing", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));

    e("link", __wasi_path_link(ROOT, 0, "data.txt", ROOT, "hard.txt"));
    __wasi_path_filestat_get(ROOT, 0, "data.txt", &st);
    printf("nlink_after_link %llu\n", (unsigned long long)st.nlink);
    e("link_exists", __wasi_path_link(ROOT, 0, "data.txt", ROOT, "hard.txt"));
    e("link_dir", __wasi_path_link(ROOT, 0, "sub", ROOT, "subhard"));
    e("link_missing", __wasi_path_link(ROOT, 0, "missing", ROOT, "x"));
    e("link_symlink_nofollow", __wasi_path_link(ROOT, 0, "link-to-data", ROOT, "hardlink-of-link"));
    __wasi_path_filestat_get(ROOT, 0, "hardlink-of-link", &st);
    printf("hardlink_of_link_type %u\n", st.filetype);
    e("link_symlink_follow", __wasi_path_link(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link-to-data", ROOT, "hardlink-of-target"));
    __wasi_path_filestat_get(ROOT, 0, "hardlink-of-target", &st);
    printf("hardlink_of_target_type %u nlink=%llu\n", st.filetype, (unsigned long long)st.nlink);
  }
  memset(buf, 0, sizeof buf);
  err = __wasi_path_readlink(ROOT, "link-to-data", (uint8_t *)buf, 64, &n);
  printf("readlink %u %zu %s\n", err, n, buf);
  memset(buf, 0, sizeof buf);
  err = __wasi_path_readlink(ROOT, "link-to-data", (uint8_t *)buf, 4, &n);
  printf("readlink_short %u %zu %s\n", err, n, buf);
  e("readlink_file", __wasi_path_readlink(ROOT, "data.txt", (uint8_t *)buf, 64, &n));
  e("readlink_missing", __wasi_path_readlink(ROOT, "missing", (uint8_t *)buf, 64, &n));
  e("symlink", __wasi_path_symlink("sub/a", ROOT, "newlink"));
  memset(buf, 0, sizeof buf);
  __wasi_path_readlink(ROOT, "newlink", (uint8_t *)buf, 64, &n);
  printf("symlink_text %s\n", buf);
  e("symlink_exists", __wasi_path_symlink("x", ROOT, "data.txt"));
  // An absolute target is refused (as wasmtime does), and nothing is created.
  e("symlink_absolute", __wasi_path_symlink("/etc/passwd", ROOT, "abs-link"));
  {
    __wasi_filestat_t st;
    e("symlink_absolute_not_created", __wasi_path_filestat_get(ROOT, 0, "abs-link", &st));
  }
  e("rename", __wasi_path_rename(ROOT, "hard.txt", ROOT, "renamed.txt"));
  {
    __wasi_filestat_t st;
    e("rename_old_gone", __wasi_path_filestat_get(ROOT, 0, "hard.txt", &st));
  }
  e("rename_missing", __wasi_path_rename(ROOT, "missing", ROOT, "x"));
  e("rename_file_over_dir", __wasi_path_rename(ROOT, "renamed.txt", ROOT, "newdir"));
  e("rename_dir_into_itself", __wasi_path_rename(ROOT, "newdir", ROOT, "newdir/inner"));
  e("rename_dir", __wasi_path_rename(ROOT, "newdir", ROOT, "moved"));
  e("rename_dot", __wasi_path_rename(ROOT, ".", ROOT, "x"));
  e("rename_symlink", __wasi_path_rename(ROOT, "newlink", ROOT, "moved/link"));
  memset(buf, 0, sizeof buf);
  __wasi_path_readlink(ROOT, "moved/link", (uint8_t *)buf, 64, &n);
  printf("renamed_link_text %s\n", buf);
  e("unlink_link", __wasi_path_unlink_file(ROOT, "moved/link"));
  e("unlink", __wasi_path_unlink_file(ROOT, "renamed.txt"));
  e("unlink_missing", __wasi_path_unlink_file(ROOT, "renamed.txt"));
  e("unlink_dir", __wasi_path_unlink_file(ROOT, "moved"));
  e("unlink_trailing_slash", __wasi_path_unlink_file(ROOT, "data.txt/"));
  e("rmdir_nonempty", __wasi_path_remove_directory(ROOT, "sub"));
  e("rmdir_file", __wasi_path_remove_directory(ROOT, "data.txt"));
  e("rmdir_symlink", __wasi_path_remove_directory(ROOT, "link-to-data"));
  e("rmdir_dot", __wasi_path_remove_directory(ROOT, "."));
  e("rmdir", __wasi_path_remove_directory(ROOT, "moved"));
  e("rmdir_missing", __wasi_path_remove_directory(ROOT, "moved"));
  e("path_op_on_file_fd", __wasi_path_create_directory(1, "x"));
  return 0;
}
#endif
