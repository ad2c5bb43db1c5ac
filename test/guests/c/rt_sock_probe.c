// Walks through the preview1 socket calls on the preopened listener, step by step with a test
// client that follows the lines printed here (each line is flushed before the guest waits).
#ifdef __wasi__
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static int find_listener(void) {
  for (int fd = 0; fd < 64; fd++) {
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) return fd;
  }
  return -1;
}

static int recv_some(int fd, char *buf, size_t len, __wasi_riflags_t flags) {
  __wasi_iovec_t iov = { (uint8_t *)buf, len };
  __wasi_size_t n = 0;
  __wasi_roflags_t ro = 0;
  __wasi_errno_t e = __wasi_sock_recv(fd, &iov, 1, flags, &n, &ro);
  if (e != 0) return -(int)e;
  buf[n] = 0;
  return (int)n;
}

static int poll_one(int fd, int type, __wasi_event_t *ev) {
  __wasi_subscription_t sub[2];
  memset(sub, 0, sizeof sub);
  sub[0].userdata = 100;
  sub[0].u.tag = type;
  sub[0].u.u.fd_read.file_descriptor = fd;
  sub[1].userdata = 200;
  sub[1].u.tag = __WASI_EVENTTYPE_CLOCK;
  sub[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub[1].u.u.clock.timeout = 20000000000ull;
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(sub, ev, 2, &n);
  return e ? -(int)e : (int)n;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int lfd = find_listener();
  __wasi_fdstat_t st;
  __wasi_fd_fdstat_get(lfd, &st);
  printf("listener %d type %d accept_right %d\n", lfd, st.fs_filetype, (st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT) != 0);

  __wasi_fd_fdstat_set_flags(lfd, __WASI_FDFLAGS_NONBLOCK);
  __wasi_fd_t conn = 0;
  printf("accept_nonblock %d\n", __wasi_sock_accept(lfd, 0, &conn));
  __wasi_fd_fdstat_set_flags(lfd, 0);

  __wasi_event_t ev;
  printf("ready\n");  // the client connects now
  int n = poll_one(lfd, __WASI_EVENTTYPE_FD_READ, &ev);
  printf("poll_listener %d %llu %d\n", n, (unsigned long long)ev.userdata, ev.type);
  __wasi_errno_t e = __wasi_sock_accept(lfd, 0, &conn);
  __wasi_fd_fdstat_get(conn, &st);
  printf("accepted %d type %d\n", e, st.fs_filetype);

  char buf[256];
  printf("peek %d %s\n", recv_some(conn, buf, 5, __WASI_RIFLAGS_RECV_PEEK), buf);
  printf("recv %d %s\n", recv_some(conn, buf, 5, 0), buf);
  printf("waitall_start\n");  // the client now sends " world" in pieces
  printf("waitall %d [%s]\n", recv_some(conn, buf, 6, __WASI_RIFLAGS_RECV_WAITALL), buf);

  __wasi_fd_fdstat_set_flags(conn, __WASI_FDFLAGS_NONBLOCK);
  printf("recv_nonblock %d\n", recv_some(conn, buf, 10, 0));
  __wasi_fd_fdstat_set_flags(conn, 0);

  n = poll_one(conn, __WASI_EVENTTYPE_FD_WRITE, &ev);
  printf("poll_write %d %llu %d\n", n, (unsigned long long)ev.userdata, ev.type);
  ssize_t w = write(conn, "pong\n", 5);  // fd_write on a socket
  printf("wrote %zd\n", w);
  printf("shutdown %d\n", __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR));

  // The client answers the half-close with "bye" and closes: read to EOF with fd_read.
  char all[64];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(conn, all + have, sizeof all - 1 - have);
    if (r <= 0) break;
    have += r;
  }
  all[have] = 0;
  printf("read_to_eof [%s]\n", all);
  n = poll_one(conn, __WASI_EVENTTYPE_FD_READ, &ev);
  printf("poll_eof %d %llu hangup %d\n", n, (unsigned long long)ev.userdata, (ev.fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) != 0);
  printf("close %d\n", __wasi_fd_close(conn));
  printf("recv_closed %d\n", recv_some(conn, buf, 5, 0));
  printf("recv_stdout %d\n", recv_some(1, buf, 5, 0));
  printf("shutdown_bad %d\n", __wasi_sock_shutdown(lfd, 0));
  return 0;
}
#else
#include <stdio.h>
int main(void) { puts("wasi only"); return 0; }
#endif
