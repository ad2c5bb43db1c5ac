// poll_oneoff on stdin (a pipe): prints `timeout` when nothing arrives within argv[1] ms, and
// `data N [text]` / `eof hangup=H` as input comes; line-buffered so the test can follow along.
#ifdef __wasi__
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  unsigned long long ms = argc > 1 ? strtoull(argv[1], 0, 10) : 300;
  for (int round = 0; round < 50; round++) {
    __wasi_subscription_t sub[2];
    __wasi_event_t ev[2];
    memset(sub, 0, sizeof sub);
    sub[0].userdata = 1;
    sub[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    sub[0].u.u.fd_read.file_descriptor = 0;
    sub[1].userdata = 2;
    sub[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    sub[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub[1].u.u.clock.timeout = ms * 1000000ull;
    __wasi_size_t n = 0;
    if (__wasi_poll_oneoff(sub, ev, 2, &n) != 0) { puts("poll failed"); return 1; }
    int got_fd = 0;
    for (unsigned i = 0; i < n; i++) if (ev[i].userdata == 1) got_fd = 1;
    if (!got_fd) { puts("timeout"); continue; }
    char buf[256];
    ssize_t r = read(0, buf, sizeof buf - 1);
    if (r <= 0) {
      int hang = 0;
      for (unsigned i = 0; i < n; i++) if (ev[i].userdata == 1) hang = (ev[i].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) != 0;
      printf("eof hangup=%d\n", hang);
      return 0;
    }
    buf[r] = 0;
    printf("data %zd [%s]\n", r, buf);
  }
  return 2;
}
#else
#include <stdio.h>
int main(void) { puts("wasi only"); return 0; }
#endif
