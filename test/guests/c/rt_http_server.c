// A tiny HTTP/1.1 server for WASI preview1 sockets: finds the preopened listening socket by scanning
// fds for SOCKET_STREAM, then serves argv[1] requests (default 3) one connection at a time with
// sock_accept / sock_recv / sock_send, answering with the request line echoed back, and exits.
#ifdef __wasi__
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) return fd;
  }
  return -1;
}

static int send_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    __wasi_ciovec_t iov = { (const uint8_t *)p, len };
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_sock_send(fd, &iov, 1, 0, &n);
    if (e != 0) return e;
    p += n;
    len -= n;
  }
  return 0;
}

int main(int argc, char **argv) {
  int requests = argc > 1 ? atoi(argv[1]) : 3;
  int lfd = find_listener();
  if (lfd < 0) { fprintf(stderr, "no listening socket\n"); return 2; }
  printf("listening on fd %d\n", lfd);
  fflush(stdout);
  for (int served = 0; served < requests; served++) {
    __wasi_fd_t conn;
    __wasi_errno_t e = __wasi_sock_accept(lfd, 0, &conn);
    if (e != 0) { fprintf(stderr, "accept: %d\n", e); return 3; }
    static char req[65536];
    size_t have = 0;
    // Read until the end of the headers.
    while (have < sizeof req - 1) {
      __wasi_iovec_t iov = { (uint8_t *)req + have, sizeof req - 1 - have };
      __wasi_size_t n = 0;
      __wasi_roflags_t ro = 0;
      e = __wasi_sock_recv(conn, &iov, 1, 0, &n, &ro);
      if (e != 0) { fprintf(stderr, "recv: %d\n", e); return 4; }
      if (n == 0) break;
      have += n;
      req[have] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[have] = 0;
    char *eol = strstr(req, "\r\n");
    if (eol) *eol = 0;
    char body[70000];
    int blen = snprintf(body, sizeof body, "request %d: %s\n", served + 1, req);
    char head[256];
    int hlen = snprintf(head, sizeof head,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", blen);
    if (send_all(conn, head, hlen) || send_all(conn, body, blen)) { fprintf(stderr, "send failed\n"); return 5; }
    __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR);
    __wasi_fd_close(conn);
    printf("served %d\n", served + 1);
    fflush(stdout);
  }
  return 0;
}
#else
#include <stdio.h>
// The native build (every C guest gets one) has no preview1 calls to make.
int main(void) { puts("wasi only"); return 0; }
#endif
