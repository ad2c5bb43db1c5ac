// wasi:sockets from C against the raw canonical ABI (clang-14's wasi-libc is preview1 only), made a
// component with its WIT embedded (scripts/build-guests.mjs). One mode per run:
//   tcp-client IP PORT MESSAGE  connect, send MESSAGE, print what comes back until the peer closes
//   tcp-server IP PORT          bind, listen, print "listening PORT", accept one connection,
//                               answer "echo:" + what it sent (until it shuts down its side)
//   udp IP PORT MESSAGE         bind 127.0.0.1:0, send MESSAGE to IP:PORT, print the reply and its sender
//   udp-connected IP PORT MSG   the same through a stream connected to IP:PORT (datagrams without address)
//   tcp6-client PORT MESSAGE    tcp-client over IPv6, to [::1]:PORT
//   tcp-poll IP PORT            connect, send "ready", then poll the input stream together with clocks:
//                               prints which pollable was ready first, and reads without blocking
//   lookup NAME                 print every address NAME resolves to
//   options                     keep-alive and the options node cannot set, on a TCP socket
//   tcp-pingpong IP PORT N      connect, then N times: write one byte, block until one comes back
//                               (bench/socket-roundtrip.mjs: the cost of a blocking read round trip)
// A failed socket call prints "STEP: ERROR-CODE" on stderr and exits with 10 + the WIT error code's
// index (through wasi:cli/exit exit-with-code: the preview1 adapter would make any status 1).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef __wasi__
int main(void) { puts("comp_sockets calls wasi:sockets directly: Wasm only"); return 77; }
#else
#include <stdint.h>

#define IMPORT(module, name) __attribute__((import_module(module), import_name(name)))
#define SOCK "@0.2.12"

IMPORT("wasi:cli/exit" SOCK, "exit-with-code") void exit_with_code(uint8_t code);

IMPORT("wasi:sockets/instance-network" SOCK, "instance-network") int32_t instance_network(void);
IMPORT("wasi:sockets/network" SOCK, "[resource-drop]network") void drop_network(int32_t);
IMPORT("wasi:sockets/tcp-create-socket" SOCK, "create-tcp-socket") void create_tcp_socket(int32_t family, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.start-bind")
void tcp_start_bind(int32_t self, int32_t net, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                    int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.finish-bind") void tcp_finish_bind(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.start-connect")
void tcp_start_connect(int32_t self, int32_t net, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                       int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.finish-connect") void tcp_finish_connect(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.start-listen") void tcp_start_listen(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.finish-listen") void tcp_finish_listen(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.accept") void tcp_accept(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.local-address") void tcp_local_address(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.remote-address") void tcp_remote_address(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.subscribe") int32_t tcp_subscribe(int32_t self);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.shutdown") void tcp_shutdown(int32_t self, int32_t how, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.set-keep-alive-enabled") void tcp_set_keep_alive(int32_t self, int32_t on, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.keep-alive-enabled") void tcp_keep_alive(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.set-keep-alive-idle-time") void tcp_set_keep_alive_idle(int32_t self, int64_t ns, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.keep-alive-idle-time") void tcp_keep_alive_idle(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.set-hop-limit") void tcp_set_hop_limit(int32_t self, int32_t v, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[method]tcp-socket.receive-buffer-size") void tcp_receive_buffer_size(int32_t self, void *ret);
IMPORT("wasi:sockets/tcp" SOCK, "[resource-drop]tcp-socket") void drop_tcp(int32_t);

IMPORT("wasi:sockets/udp-create-socket" SOCK, "create-udp-socket") void create_udp_socket(int32_t family, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]udp-socket.start-bind")
void udp_start_bind(int32_t self, int32_t net, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                    int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]udp-socket.finish-bind") void udp_finish_bind(int32_t self, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]udp-socket.stream")
void udp_stream(int32_t self, int32_t some, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5,
                int32_t a6, int32_t a7, int32_t a8, int32_t a9, int32_t a10, int32_t a11, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]incoming-datagram-stream.receive") void udp_receive(int32_t self, int64_t max, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]incoming-datagram-stream.subscribe") int32_t udp_in_subscribe(int32_t self);
IMPORT("wasi:sockets/udp" SOCK, "[method]outgoing-datagram-stream.check-send") void udp_check_send(int32_t self, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[method]outgoing-datagram-stream.send") void udp_send(int32_t self, void *list, int32_t len, void *ret);
IMPORT("wasi:sockets/udp" SOCK, "[resource-drop]udp-socket") void drop_udp(int32_t);
IMPORT("wasi:sockets/udp" SOCK, "[resource-drop]incoming-datagram-stream") void drop_udp_in(int32_t);
IMPORT("wasi:sockets/udp" SOCK, "[resource-drop]outgoing-datagram-stream") void drop_udp_out(int32_t);

IMPORT("wasi:sockets/ip-name-lookup" SOCK, "resolve-addresses") void resolve_addresses(int32_t net, const char *name, int32_t len, void *ret);
IMPORT("wasi:sockets/ip-name-lookup" SOCK, "[method]resolve-address-stream.resolve-next-address") void resolve_next(int32_t self, void *ret);
IMPORT("wasi:sockets/ip-name-lookup" SOCK, "[method]resolve-address-stream.subscribe") int32_t resolve_subscribe(int32_t self);
IMPORT("wasi:sockets/ip-name-lookup" SOCK, "[resource-drop]resolve-address-stream") void drop_resolve(int32_t);

IMPORT("wasi:io/poll" SOCK, "[method]pollable.block") void pollable_block(int32_t self);
IMPORT("wasi:io/poll" SOCK, "poll") void poll_list(const int32_t *pollables, int32_t len, void *ret);
IMPORT("wasi:clocks/monotonic-clock" SOCK, "subscribe-duration") int32_t subscribe_duration(int64_t ns);
IMPORT("wasi:io/streams" SOCK, "[method]input-stream.read") void stream_read(int32_t self, int64_t len, void *ret);
IMPORT("wasi:io/streams" SOCK, "[method]input-stream.subscribe") int32_t input_subscribe(int32_t self);
IMPORT("wasi:io/streams" SOCK, "[method]output-stream.check-write") void check_write(int32_t self, void *ret);
IMPORT("wasi:io/streams" SOCK, "[method]output-stream.write") void stream_write(int32_t self, const void *p, int32_t len, void *ret);
IMPORT("wasi:io/streams" SOCK, "[method]output-stream.subscribe") int32_t output_subscribe(int32_t self);
IMPORT("wasi:io/poll" SOCK, "[resource-drop]pollable") void drop_pollable(int32_t);
IMPORT("wasi:io/streams" SOCK, "[method]input-stream.blocking-read") void blocking_read(int32_t self, int64_t len, void *ret);
IMPORT("wasi:io/streams" SOCK, "[method]output-stream.blocking-write-and-flush") void blocking_write(int32_t self, const void *p, int32_t len, void *ret);
IMPORT("wasi:io/streams" SOCK, "[resource-drop]input-stream") void drop_in(int32_t);
IMPORT("wasi:io/streams" SOCK, "[resource-drop]output-stream") void drop_out(int32_t);

// The glue allocates returned lists (read data, datagrams) in guest memory with this.
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size, size_t align, size_t size) {
  (void)old_size; (void)align;
  return realloc(old, size);
}

static const char *CODES[] = {
  "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout", "concurrency-conflict",
  "not-in-progress", "would-block", "invalid-state", "new-socket-limit", "address-not-bindable", "address-in-use",
  "remote-unreachable", "connection-refused", "connection-reset", "connection-aborted", "datagram-too-large",
  "name-unresolvable", "temporary-resolver-failure", "permanent-resolver-failure",
};
enum { WOULD_BLOCK = 8 };

static _Alignas(8) uint8_t ret[64];

static void fail(const char *step, uint8_t code) {
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", step, code < sizeof CODES / sizeof *CODES ? CODES[code] : "?");
  fflush(stderr);
  exit_with_code(10 + code);
}
// result<_, error-code> and result<handle, error-code>: the error code sits right after the flag / at 4.
static void check_unit(const char *step) { if (ret[0]) fail(step, ret[1]); }
static int32_t handle_or_fail(const char *step) { if (ret[0]) fail(step, ret[4]); return *(int32_t *)(ret + 4); }

static void block_on(int32_t pollable) { pollable_block(pollable); drop_pollable(pollable); }

/** An IPv4 socket address from "a.b.c.d" and a port, as the 12 flat values of ip-socket-address. */
typedef struct { int32_t v[12]; } flat_addr;
static flat_addr ipv4(const char *ip, int port) {
  flat_addr f = {{0}};
  unsigned a, b, c, d;
  if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) { fprintf(stderr, "bad IPv4 address %s\n", ip); exit_with_code(2); }
  f.v[0] = 0; f.v[1] = port; f.v[2] = a; f.v[3] = b; f.v[4] = c; f.v[5] = d;
  return f;
}
#define FLAT(f) f.v[0], f.v[1], f.v[2], f.v[3], f.v[4], f.v[5], f.v[6], f.v[7], f.v[8], f.v[9], f.v[10], f.v[11]

/** Prints an ip-socket-address stored at p (variant: tag at 0, payload at 4). */
static void print_addr(const uint8_t *p) {
  if (p[0] == 0) printf("%u.%u.%u.%u:%u", p[6], p[7], p[8], p[9], *(const uint16_t *)(p + 4));
  else {
    // ipv6-socket-address: port at 4, flow-info at 8, the eight groups at 12, scope-id at 28.
    const uint16_t *g = (const uint16_t *)(p + 12);
    printf("[%x:%x:%x:%x:%x:%x:%x:%x]:%u", g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], *(const uint16_t *)(p + 4));
  }
}

static int32_t new_tcp_of(int family) { create_tcp_socket(family, ret); return handle_or_fail("create-tcp-socket"); }
static int32_t new_tcp(void) { return new_tcp_of(0); }

/** [::1]:port as the 12 flat values of ip-socket-address. */
static flat_addr ipv6_loopback(int port) {
  flat_addr f = {{0}};
  f.v[0] = 1; f.v[1] = port; f.v[10] = 1;
  return f;
}

/** Reads until the peer closes; prints it all after `label`. */
static void read_all(int32_t in, const char *label) {
  printf("%s", label);
  for (;;) {
    blocking_read(in, 4096, ret);
    if (ret[0]) break; // closed (or failed): the end
    uint8_t *data = *(uint8_t **)(ret + 4);
    int32_t len = *(int32_t *)(ret + 8);
    fwrite(data, 1, len, stdout);
    free(data);
  }
  printf("\n");
}

static void write_all(int32_t out, const char *text) {
  blocking_write(out, text, (int32_t)strlen(text), ret);
  if (ret[0]) { fflush(stdout); fprintf(stderr, "write: stream error %d\n", ret[4]); exit_with_code(3); }
}

static int tcp_client(int32_t net, const char *ip, int port, const char *message) {
  int v6 = ip == NULL;
  int32_t s = new_tcp_of(v6);
  flat_addr a = v6 ? ipv6_loopback(port) : ipv4(ip, port);
  tcp_start_connect(s, net, FLAT(a), ret);
  check_unit("start-connect");
  for (;;) {
    tcp_finish_connect(s, ret);
    if (!ret[0]) break;
    if (ret[4] != WOULD_BLOCK) fail("finish-connect", ret[4]);
    block_on(tcp_subscribe(s));
  }
  int32_t in = *(int32_t *)(ret + 4), out = *(int32_t *)(ret + 8);
  tcp_remote_address(s, ret);
  if (ret[0]) fail("remote-address", ret[4]);
  printf("connected to "); print_addr(ret + 4); printf("\n");
  if (v6) {
    tcp_local_address(s, ret);
    if (ret[0]) fail("local-address", ret[4]);
    printf("from "); print_addr(ret + 4); printf("\n");
  }
  write_all(out, message);
  tcp_shutdown(s, 1 /* send */, ret);
  check_unit("shutdown");
  read_all(in, "received: ");
  drop_in(in); drop_out(out); drop_tcp(s);
  return 0;
}

static int tcp_pingpong(int32_t net, const char *ip, int port, long n) {
  int32_t s = new_tcp();
  flat_addr a = ipv4(ip, port);
  tcp_start_connect(s, net, FLAT(a), ret);
  check_unit("start-connect");
  for (;;) {
    tcp_finish_connect(s, ret);
    if (!ret[0]) break;
    if (ret[4] != WOULD_BLOCK) fail("finish-connect", ret[4]);
    block_on(tcp_subscribe(s));
  }
  int32_t in = *(int32_t *)(ret + 4), out = *(int32_t *)(ret + 8);
  for (long i = 0; i < n; i++) {
    write_all(out, "x");
    blocking_read(in, 1, ret);
    if (ret[0]) { fprintf(stderr, "pingpong: closed after %ld\n", i); exit_with_code(3); }
    free(*(uint8_t **)(ret + 4));
  }
  printf("%ld round trips\n", n);
  drop_in(in); drop_out(out); drop_tcp(s);
  return 0;
}

/** Polls [a, b]; returns the index of the first ready one (the list comes back in guest memory). */
static int first_ready(int32_t a, int32_t b) {
  int32_t list[2] = {a, b};
  poll_list(list, 2, ret);
  uint32_t *ready = *(uint32_t **)(ret + 0);
  int32_t n = *(int32_t *)(ret + 4);
  int first = n > 0 ? (int)ready[0] : -1;
  free(ready);
  return first;
}

static int tcp_poll(int32_t net, const char *ip, int port) {
  int32_t s = new_tcp();
  flat_addr a = ipv4(ip, port);
  tcp_start_connect(s, net, FLAT(a), ret);
  check_unit("start-connect");
  for (;;) {
    tcp_finish_connect(s, ret);
    if (!ret[0]) break;
    if (ret[4] != WOULD_BLOCK) fail("finish-connect", ret[4]);
    block_on(tcp_subscribe(s));
  }
  int32_t in = *(int32_t *)(ret + 4), out = *(int32_t *)(ret + 8);
  // Nothing sent yet, so nothing to read: a non-blocking read is empty.
  stream_read(in, 16, ret);
  printf("read before data: %s %d bytes\n", ret[0] ? "error" : "ok", ret[0] ? -1 : *(int32_t *)(ret + 8));
  // Nothing will come until we speak: the clock's 1 ms wins.
  int32_t readable = input_subscribe(in);
  int32_t soon = subscribe_duration(1000000);
  printf("first ready: %s\n", first_ready(readable, soon) == 1 ? "clock" : "socket");
  drop_pollable(soon);
  // The output side: check-write, then a plain write and its pollable.
  int32_t writable = output_subscribe(out);
  block_on(writable);
  check_write(out, ret);
  if (ret[0]) { fprintf(stderr, "check-write failed\n"); exit_with_code(3); }
  printf("check-write > 0: %s\n", *(uint64_t *)(ret + 8) > 0 ? "yes" : "no");
  stream_write(out, "ready", 5, ret);
  if (ret[0]) { fprintf(stderr, "write failed\n"); exit_with_code(3); }
  // The peer answers "ready" with data: now the socket wins against a clock far away.
  int32_t late = subscribe_duration(60000000000LL);
  printf("first ready: %s\n", first_ready(readable, late) == 0 ? "socket" : "clock");
  drop_pollable(late);
  drop_pollable(readable);
  stream_read(in, 64, ret);
  if (ret[0]) { fprintf(stderr, "read failed\n"); exit_with_code(3); }
  printf("read: %.*s\n", *(int32_t *)(ret + 8), *(char **)(ret + 4));
  drop_in(in); drop_out(out); drop_tcp(s);
  return 0;
}

static int tcp_server(int32_t net, const char *ip, int port) {
  int32_t s = new_tcp();
  flat_addr a = ipv4(ip, port);
  tcp_start_bind(s, net, FLAT(a), ret);
  check_unit("start-bind");
  tcp_finish_bind(s, ret);
  check_unit("finish-bind");
  tcp_start_listen(s, ret);
  check_unit("start-listen");
  tcp_finish_listen(s, ret);
  check_unit("finish-listen");
  tcp_local_address(s, ret);
  if (ret[0]) fail("local-address", ret[4]);
  printf("listening %u\n", *(uint16_t *)(ret + 8));
  fflush(stdout);
  for (;;) {
    tcp_accept(s, ret);
    if (!ret[0]) break;
    if (ret[4] != WOULD_BLOCK) fail("accept", ret[4]);
    block_on(tcp_subscribe(s));
  }
  int32_t c = *(int32_t *)(ret + 4), in = *(int32_t *)(ret + 8), out = *(int32_t *)(ret + 12);
  tcp_remote_address(c, ret);
  if (ret[0]) fail("remote-address", ret[4]);
  printf("accepted from "); print_addr(ret + 4); printf("\n");
  // Read what the client sends until it shuts down its side, then answer and close.
  char got[4096];
  size_t n = 0;
  for (;;) {
    blocking_read(in, sizeof got - n - 1, ret);
    if (ret[0]) break;
    uint8_t *data = *(uint8_t **)(ret + 4);
    int32_t len = *(int32_t *)(ret + 8);
    memcpy(got + n, data, len);
    n += len;
    free(data);
    if (n >= sizeof got - 1) break;
  }
  got[n] = 0;
  printf("request: %s\n", got);
  write_all(out, "echo:");
  write_all(out, got);
  drop_in(in); drop_out(out); drop_tcp(c); drop_tcp(s);
  return 0;
}

static int udp(int32_t net, const char *ip, int port, const char *message, int connected) {
  create_udp_socket(0, ret);
  int32_t s = handle_or_fail("create-udp-socket");
  flat_addr local = ipv4("127.0.0.1", 0);
  udp_start_bind(s, net, FLAT(local), ret);
  check_unit("udp start-bind");
  udp_finish_bind(s, ret);
  check_unit("udp finish-bind");
  flat_addr remote = ipv4(ip, port);
  if (connected) udp_stream(s, 1, FLAT(remote), ret);
  else udp_stream(s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ret);
  if (ret[0]) fail("udp stream", ret[4]);
  int32_t in = *(int32_t *)(ret + 4), out = *(int32_t *)(ret + 8);
  udp_check_send(out, ret);
  if (ret[0]) fail("check-send", ret[8]);
  // list<outgoing-datagram>: data (ptr, len) at 0, option<ip-socket-address> at 8 (flag), address at 12.
  _Alignas(4) uint8_t dgram[44] = {0};
  *(const char **)(dgram + 0) = message;
  *(int32_t *)(dgram + 4) = (int32_t)strlen(message);
  dgram[8] = connected ? 0 : 1;
  uint8_t *addr = dgram + 12;
  unsigned a, b, c, d;
  sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d);
  addr[0] = 0;
  *(uint16_t *)(addr + 4) = (uint16_t)port;
  addr[6] = a; addr[7] = b; addr[8] = c; addr[9] = d;
  udp_send(out, dgram, 1, ret);
  if (ret[0]) fail("udp send", ret[8]);
  printf("sent %u datagram\n", (unsigned)*(uint64_t *)(ret + 8));
  for (;;) {
    udp_receive(in, 4, ret);
    if (ret[0]) fail("udp receive", ret[4]);
    uint8_t *list = *(uint8_t **)(ret + 4);
    int32_t count = *(int32_t *)(ret + 8);
    if (count > 0) {
      uint8_t *data = *(uint8_t **)(list + 0);
      int32_t len = *(int32_t *)(list + 4);
      printf("reply from "); print_addr(list + 8); printf(": %.*s\n", len, data);
      break;
    }
    block_on(udp_in_subscribe(in));
  }
  drop_udp_in(in); drop_udp_out(out); drop_udp(s);
  return 0;
}

static int lookup(int32_t net, const char *name) {
  resolve_addresses(net, name, (int32_t)strlen(name), ret);
  int32_t stream = handle_or_fail("resolve-addresses");
  int found = 0;
  for (;;) {
    resolve_next(stream, ret);
    // result<option<ip-address>, error-code>: flag at 0, then at 2 the option (flag), at 4 the address (tag), at 6 its bytes.
    if (ret[0]) {
      if (ret[2] != WOULD_BLOCK) fail("resolve-next-address", ret[2]);
      block_on(resolve_subscribe(stream));
      continue;
    }
    if (!ret[2]) break;
    if (ret[4] == 0) printf("address %u.%u.%u.%u\n", ret[6], ret[7], ret[8], ret[9]);
    else {
      const uint16_t *g = (const uint16_t *)(ret + 6);
      printf("address %x:%x:%x:%x:%x:%x:%x:%x\n", g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
    }
    found++;
  }
  drop_resolve(stream);
  printf("%d addresses\n", found);
  return 0;
}

static int options(void) {
  int32_t s = new_tcp();
  tcp_keep_alive(s, ret);
  if (ret[0]) fail("keep-alive-enabled", ret[1]);
  printf("keep-alive %d\n", ret[1]);
  tcp_set_keep_alive(s, 1, ret);
  check_unit("set-keep-alive-enabled");
  tcp_keep_alive(s, ret);
  printf("keep-alive %d\n", ret[1]);
  tcp_set_keep_alive_idle(s, 30000000000LL, ret);
  check_unit("set-keep-alive-idle-time");
  tcp_keep_alive_idle(s, ret);
  printf("keep-alive-idle-time %llu s\n", (unsigned long long)(*(uint64_t *)(ret + 8) / 1000000000ULL));
  tcp_set_keep_alive_idle(s, 0, ret);
  printf("set-keep-alive-idle-time 0: %s\n", ret[0] ? CODES[ret[1]] : "ok");
  tcp_set_hop_limit(s, 10, ret);
  printf("set-hop-limit: %s\n", ret[0] ? CODES[ret[1]] : "ok");
  tcp_receive_buffer_size(s, ret);
  printf("receive-buffer-size: %s\n", ret[0] ? CODES[ret[8]] : "ok");
  tcp_finish_bind(s, ret);
  printf("finish-bind before start-bind: %s\n", ret[0] ? CODES[ret[1]] : "ok");
  tcp_start_listen(s, ret);
  printf("start-listen unbound: %s\n", ret[0] ? CODES[ret[1]] : "ok");
  drop_tcp(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: comp_sockets MODE ARGS...\n"); return 2; }
  const char *mode = argv[1];
  int32_t net = instance_network();
  int rc = 2;
  if (!strcmp(mode, "tcp-client") && argc == 5) rc = tcp_client(net, argv[2], atoi(argv[3]), argv[4]);
  else if (!strcmp(mode, "tcp6-client") && argc == 4) rc = tcp_client(net, NULL, atoi(argv[2]), argv[3]);
  else if (!strcmp(mode, "tcp-server") && argc == 4) rc = tcp_server(net, argv[2], atoi(argv[3]));
  else if (!strcmp(mode, "udp") && argc == 5) rc = udp(net, argv[2], atoi(argv[3]), argv[4], 0);
  else if (!strcmp(mode, "udp-connected") && argc == 5) rc = udp(net, argv[2], atoi(argv[3]), argv[4], 1);
  else if (!strcmp(mode, "tcp-poll") && argc == 4) rc = tcp_poll(net, argv[2], atoi(argv[3]));
  else if (!strcmp(mode, "lookup") && argc == 3) rc = lookup(net, argv[2]);
  else if (!strcmp(mode, "options")) rc = options();
  else if (!strcmp(mode, "tcp-pingpong") && argc == 5) rc = tcp_pingpong(net, argv[2], atoi(argv[3]), atol(argv[4]));
  else fprintf(stderr, "comp_sockets: unknown mode or arguments\n");
  drop_network(net);
  fflush(stdout);
  return rc;
}
#endif
