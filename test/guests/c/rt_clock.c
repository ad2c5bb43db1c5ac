// Exercises clocks, random_get and poll_oneoff through the raw preview1 calls and prints facts
// (one `key value...` per line) for the test to check.
#ifdef __wasi__
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static __wasi_timestamp_t t(__wasi_clockid_t id) {
  __wasi_timestamp_t v = 0;
  __wasi_errno_t e = __wasi_clock_time_get(id, 1, &v);
  return e == 0 ? v : 0;
}

static __wasi_errno_t sleep_for(__wasi_timestamp_t ns, int abstime, __wasi_size_t *nevents, __wasi_event_t *ev) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.userdata = 0x1234567890abcdefull;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = abstime ? t(__WASI_CLOCKID_MONOTONIC) + ns : ns;
  sub.u.u.clock.flags = abstime ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
  return __wasi_poll_oneoff(&sub, ev, 1, nevents);
}

static unsigned char big[1 << 20];

int main(void) {
  for (int id = 0; id < 4; id++) {
    __wasi_timestamp_t res = 0;
    __wasi_errno_t e = __wasi_clock_res_get(id, &res);
    printf("res %d %d %llu\n", id, e, (unsigned long long)res);
  }
  __wasi_timestamp_t v;
  printf("bad_clock_time %d\n", __wasi_clock_time_get(4, 1, &v));
  printf("bad_clock_res %d\n", __wasi_clock_res_get(99, &v));
  printf("realtime %llu\n", (unsigned long long)t(__WASI_CLOCKID_REALTIME));

  // Monotonic never goes back.
  __wasi_timestamp_t prev = t(__WASI_CLOCKID_MONOTONIC);
  int backwards = 0;
  for (int i = 0; i < 100000; i++) {
    __wasi_timestamp_t cur = t(__WASI_CLOCKID_MONOTONIC);
    if (cur < prev) backwards++;
    prev = cur;
  }
  printf("monotonic_backwards %d\n", backwards);

  // CPU time grows with work.
  __wasi_timestamp_t c0 = t(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
  volatile unsigned long x = 0;
  for (unsigned long i = 0; i < 300000000ul; i++) x += i;
  __wasi_timestamp_t c1 = t(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
  printf("cputime_delta %llu\n", (unsigned long long)(c1 - c0));

  // random_get: two draws differ; a 1 MiB draw uses every byte value.
  unsigned char a[32], b[32];
  printf("random_err %d %d\n", __wasi_random_get(a, sizeof a), __wasi_random_get(b, sizeof b));
  printf("random_a ");
  for (int i = 0; i < 32; i++) printf("%02x", a[i]);
  printf("\nrandom_b ");
  for (int i = 0; i < 32; i++) printf("%02x", b[i]);
  printf("\n");
  __wasi_random_get(big, sizeof big);
  int seen[256] = {0}, distinct = 0;
  for (unsigned i = 0; i < sizeof big; i++) if (!seen[big[i]]++) distinct++;
  printf("random_distinct %d\n", distinct);

  // poll_oneoff sleeps: relative 200 ms, absolute 100 ms ahead.
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  memset(&ev, 0xff, sizeof ev);
  __wasi_timestamp_t s0 = t(__WASI_CLOCKID_MONOTONIC);
  __wasi_errno_t e1 = sleep_for(200000000ull, 0, &n, &ev);
  __wasi_timestamp_t s1 = t(__WASI_CLOCKID_MONOTONIC);
  printf("sleep_rel %d %u %llu %d %d %llx\n", e1, n, (unsigned long long)(s1 - s0), ev.error, ev.type, (unsigned long long)ev.userdata);
  e1 = sleep_for(100000000ull, 1, &n, &ev);
  __wasi_timestamp_t s2 = t(__WASI_CLOCKID_MONOTONIC);
  printf("sleep_abs %d %u %llu\n", e1, n, (unsigned long long)(s2 - s1));
  printf("poll_zero %d\n", __wasi_poll_oneoff(0, &ev, 0, &n));

  // An fd subscription on stdout (ready at once) together with a long clock: the fd wins.
  __wasi_subscription_t subs[2];
  __wasi_event_t evs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 10000000000ull;
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[1].u.u.fd_write.file_descriptor = 1;
  __wasi_errno_t e2 = __wasi_poll_oneoff(subs, evs, 2, &n);
  printf("poll_stdout %d %u %llu %d\n", e2, n, (unsigned long long)evs[0].userdata, evs[0].type);
  // A bad fd gives an event carrying BADF.
  subs[1].u.u.fd_write.file_descriptor = 77;
  e2 = __wasi_poll_oneoff(subs, evs, 2, &n);
  printf("poll_badf %d %u %llu %d\n", e2, n, (unsigned long long)evs[0].userdata, evs[0].error);
  printf("sched_yield %d\n", __wasi_sched_yield());
  return 0;
}
#else
#include <stdio.h>
// The native build (every C guest gets one) has no preview1 calls to make.
int main(void) { puts("wasi only"); return 0; }
#endif
