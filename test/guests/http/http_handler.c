// An HTTP handler (wasi:http/incoming-handler@0.2.12) written against the canonical ABI by hand: the
// imports are declared with their lowered signatures, results come back through a return area.
// Built by scripts/build-guests.mjs into build/guests/http_handler.component.wasm. Routes:
//   /hello          200 "hello from C\n"
//   /echo           streams the request body back chunk by chunk; the request's trailers come back
//                   as response trailers, plus x-echo-bytes (the body's length)
//   /status/NNN     status NNN (an invalid one answers 500 with the refusal)
//   /headers        tries header edits and says what each returned (ok, invalid-syntax, forbidden, immutable)
//   /counter        a per-instance counter: 1 on a fresh instance every time
//   /spin           writes "spinning\n", then never returns (a busy guest)
//   /handle         makes a fields resource it never drops and answers its handle number: the same
//                   number every time on a fresh instance
//   /grow           grows memory by 16 pages and answers its size in pages: the same every time on
//                   a fresh instance
//   /fetch          GET http://<x-target header> through wasi:http/outgoing-handler, answers its status and body
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define TYPES "wasi:http/types@0.2.12"
#define STREAMS "wasi:io/streams@0.2.12"

IMPORT(TYPES, "[constructor]fields") int32_t fields_new(void);
IMPORT(TYPES, "[method]fields.append") void fields_append(int32_t, const char *, size_t, const uint8_t *, size_t, uint8_t *ret);
IMPORT(TYPES, "[method]fields.get") void fields_get(int32_t, const char *, size_t, uint8_t *ret);
IMPORT(TYPES, "[method]fields.entries") void fields_entries(int32_t, uint8_t *ret);
IMPORT(TYPES, "[resource-drop]fields") void fields_drop(int32_t);
IMPORT(TYPES, "[method]incoming-request.path-with-query") void request_path(int32_t, uint8_t *ret);
IMPORT(TYPES, "[method]incoming-request.headers") int32_t request_headers(int32_t);
IMPORT(TYPES, "[method]incoming-request.consume") void request_consume(int32_t, uint8_t *ret);
IMPORT(TYPES, "[resource-drop]incoming-request") void request_drop(int32_t);
IMPORT(TYPES, "[method]incoming-body.stream") void incoming_body_stream(int32_t, uint8_t *ret);
IMPORT(TYPES, "[static]incoming-body.finish") int32_t incoming_body_finish(int32_t);
IMPORT(TYPES, "[method]future-trailers.subscribe") int32_t future_trailers_subscribe(int32_t);
IMPORT(TYPES, "[method]future-trailers.get") void future_trailers_get(int32_t, uint8_t *ret);
IMPORT(TYPES, "[resource-drop]future-trailers") void future_trailers_drop(int32_t);
IMPORT(TYPES, "[constructor]outgoing-response") int32_t response_new(int32_t headers);
IMPORT(TYPES, "[method]outgoing-response.set-status-code") int32_t response_set_status(int32_t, int32_t);
IMPORT(TYPES, "[method]outgoing-response.body") void response_body(int32_t, uint8_t *ret);
IMPORT(TYPES, "[method]outgoing-body.write") void outgoing_body_write(int32_t, uint8_t *ret);
IMPORT(TYPES, "[static]outgoing-body.finish") void outgoing_body_finish(int32_t, int32_t has_trailers, int32_t trailers, uint8_t *ret);
IMPORT(TYPES, "[static]response-outparam.set") void outparam_set(int32_t, int32_t is_err, int32_t, int32_t, int64_t, int32_t, int32_t, int32_t, int32_t);
IMPORT(TYPES, "[constructor]outgoing-request") int32_t outgoing_request_new(int32_t headers);
IMPORT(TYPES, "[method]outgoing-request.set-authority") int32_t outgoing_request_set_authority(int32_t, int32_t, const char *, size_t);
IMPORT(TYPES, "[method]outgoing-request.set-path-with-query") int32_t outgoing_request_set_path(int32_t, int32_t, const char *, size_t);
IMPORT(TYPES, "[method]outgoing-request.set-scheme") int32_t outgoing_request_set_scheme(int32_t, int32_t, int32_t, const char *, size_t);
IMPORT(TYPES, "[method]future-incoming-response.subscribe") int32_t future_response_subscribe(int32_t);
IMPORT(TYPES, "[method]future-incoming-response.get") void future_response_get(int32_t, uint8_t *ret);
IMPORT(TYPES, "[resource-drop]future-incoming-response") void future_response_drop(int32_t);
IMPORT(TYPES, "[method]incoming-response.status") int32_t incoming_response_status(int32_t);
IMPORT(TYPES, "[method]incoming-response.consume") void incoming_response_consume(int32_t, uint8_t *ret);
IMPORT(TYPES, "[resource-drop]incoming-response") void incoming_response_drop(int32_t);
IMPORT(TYPES, "[resource-drop]incoming-body") void incoming_body_drop(int32_t);
IMPORT("wasi:http/outgoing-handler@0.2.12", "handle") void outgoing_handle(int32_t request, int32_t has_options, int32_t options, uint8_t *ret);
IMPORT("wasi:io/poll@0.2.12", "[method]pollable.block") void pollable_block(int32_t);
IMPORT("wasi:io/poll@0.2.12", "[resource-drop]pollable") void pollable_drop(int32_t);
IMPORT(STREAMS, "[method]input-stream.blocking-read") void input_blocking_read(int32_t, int64_t, uint8_t *ret);
IMPORT(STREAMS, "[resource-drop]input-stream") void input_drop(int32_t);
IMPORT(STREAMS, "[method]output-stream.blocking-write-and-flush") void output_write(int32_t, const uint8_t *, size_t, uint8_t *ret);
IMPORT(STREAMS, "[resource-drop]output-stream") void output_drop(int32_t);

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size; (void)align;
  return realloc(old, new_size);
}

// The return area: the largest result here is an option<result<result<_, error-code>>> (56 bytes, align 8).
static _Alignas(8) uint8_t ret[64];
static int counter;

#define U32(off) (*(uint32_t *)(ret + (off)))

static const char *HEADER_ERRORS[] = { "invalid-syntax", "forbidden", "immutable" };

/** fields.append; "ok" or the header-error's name. */
static const char *append(int32_t fields, const char *name, const char *value) {
  fields_append(fields, name, strlen(name), (const uint8_t *)value, strlen(value), ret);
  return ret[0] == 0 ? "ok" : HEADER_ERRORS[ret[1]];
}

/** The first value of a header as a NUL-terminated string (malloc'd), or NULL. */
static char *header(int32_t fields, const char *name) {
  fields_get(fields, name, strlen(name), ret);
  if (U32(4) == 0) return NULL;
  uint8_t **values = (uint8_t **)(uintptr_t)U32(0);
  size_t len = ((uint32_t *)values)[1];
  char *out = malloc(len + 1);
  memcpy(out, values[0], len);
  out[len] = 0;
  return out;
}

static void write_all(int32_t out, const uint8_t *data, size_t len) {
  while (len > 0) {
    size_t n = len > 4096 ? 4096 : len;
    output_write(out, data, n, ret);
    if (ret[0] != 0) return;
    data += n;
    len -= n;
  }
}

/** Sends a response with `status`, `headers` (consumed), and `body`; finishes it with `trailers` (or none). */
static void respond(int32_t outparam, int status, int32_t headers, const char *body, int32_t trailers) {
  int32_t response = response_new(headers);
  if (response_set_status(response, status) != 0) {
    response_set_status(response, 500);
    body = "status refused\n";
  }
  response_body(response, ret);
  int32_t body_handle = (int32_t)U32(4);
  outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
  outgoing_body_write(body_handle, ret);
  int32_t stream = (int32_t)U32(4);
  write_all(stream, (const uint8_t *)body, strlen(body));
  output_drop(stream);
  outgoing_body_finish(body_handle, trailers >= 0, trailers >= 0 ? trailers : 0, ret);
}

static void echo(int32_t request, int32_t outparam) {
  request_consume(request, ret);
  int32_t in_body = (int32_t)U32(4);
  incoming_body_stream(in_body, ret);
  int32_t in = (int32_t)U32(4);
  int32_t response = response_new(fields_new());
  response_body(response, ret);
  int32_t out_body = (int32_t)U32(4);
  outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
  outgoing_body_write(out_body, ret);
  int32_t out = (int32_t)U32(4);
  uint64_t total = 0;
  for (;;) {
    input_blocking_read(in, 65536, ret);
    if (ret[0] != 0) break; // closed (or failed): the end of the body
    uint8_t *data = (uint8_t *)(uintptr_t)U32(4);
    size_t len = U32(8);
    write_all(out, data, len);
    total += len;
    free(data);
  }
  input_drop(in);
  output_drop(out);
  // The request's trailers, copied into the response's, plus the body's length.
  int32_t future = incoming_body_finish(in_body);
  int32_t ready = future_trailers_subscribe(future);
  pollable_block(ready);
  pollable_drop(ready);
  future_trailers_get(future, ret);
  int32_t trailers = fields_new();
  if (ret[0] == 1 && ret[8] == 0 && ret[16] == 0 && ret[24] == 1) {
    int32_t got = (int32_t)U32(28);
    fields_entries(got, ret);
    uint32_t *entries = (uint32_t *)(uintptr_t)U32(0);
    size_t n = U32(4);
    for (size_t i = 0; i < n; i++) {
      uint32_t *e = entries + 4 * i;
      char name[256], value[1024];
      size_t nl = e[1] < 255 ? e[1] : 255, vl = e[3] < 1023 ? e[3] : 1023;
      memcpy(name, (void *)(uintptr_t)e[0], nl); name[nl] = 0;
      memcpy(value, (void *)(uintptr_t)e[2], vl); value[vl] = 0;
      append(trailers, name, value);
    }
    fields_drop(got);
  }
  future_trailers_drop(future);
  char count[32];
  size_t k = sizeof count;
  count[--k] = 0;
  do { count[--k] = '0' + total % 10; total /= 10; } while (total > 0);
  append(trailers, "x-echo-bytes", count + k);
  outgoing_body_finish(out_body, 1, trailers, ret);
}

static void headers_route(int32_t request, int32_t outparam) {
  static char body[512];
  int32_t h = fields_new();
  const char *ok = append(h, "x-ok", "yes");
  const char *forbidden = append(h, "connection", "close");
  const char *bad_name = append(h, "bad name", "x");
  const char *bad_value = append(h, "x-bad-value", "a\r\nb");
  int32_t in = request_headers(request);
  const char *immutable = append(in, "x-more", "1");
  char *given = header(in, "x-in");
  fields_drop(in);
  if (given != NULL) append(h, "x-in-echo", given);
  body[0] = 0;
  const char *parts[] = { "x-ok=", ok, " connection=", forbidden, " bad-name=", bad_name, " bad-value=", bad_value, " immutable=", immutable, "\n" };
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) strcat(body, parts[i]);
  respond(outparam, 200, h, body, -1);
}

/** 502 with `what` and the error code's index (below 100) as the body. */
static void respond_error_code(int32_t outparam, const char *what, int code) {
  static char msg[64];
  strcpy(msg, what);
  size_t l = strlen(msg);
  if (code >= 10) msg[l++] = '0' + code / 10;
  msg[l++] = '0' + code % 10;
  msg[l++] = '\n';
  msg[l] = 0;
  respond(outparam, 502, fields_new(), msg, -1);
}

static void fetch(int32_t request, int32_t outparam) {
  int32_t in = request_headers(request);
  char *target = header(in, "x-target");
  fields_drop(in);
  if (target == NULL) { respond(outparam, 400, fields_new(), "x-target missing\n", -1); return; }
  char *slash = strchr(target, '/');
  const char *path = slash ? slash : "/";
  size_t authority_len = slash ? (size_t)(slash - target) : strlen(target);
  int32_t out = outgoing_request_new(fields_new());
  outgoing_request_set_scheme(out, 1, 0, "", 0);
  outgoing_request_set_authority(out, 1, target, authority_len);
  outgoing_request_set_path(out, 1, path, strlen(path));
  outgoing_handle(out, 0, 0, ret);
  if (ret[0] != 0) {
    respond_error_code(outparam, "outbound refused: error-code ", ret[8]);
    return;
  }
  int32_t future = (int32_t)U32(8);
  int32_t ready = future_response_subscribe(future);
  pollable_block(ready);
  pollable_drop(ready);
  future_response_get(future, ret);
  future_response_drop(future);
  if (!(ret[0] == 1 && ret[8] == 0 && ret[16] == 0)) {
    respond_error_code(outparam, "outbound failed: error-code ", ret[24]);
    return;
  }
  int32_t response = (int32_t)U32(24);
  int status = incoming_response_status(response);
  incoming_response_consume(response, ret);
  int32_t body = (int32_t)U32(4);
  incoming_body_stream(body, ret);
  int32_t stream = (int32_t)U32(4);
  size_t len = 0, cap = 1024;
  char *text = malloc(cap);
  for (;;) {
    input_blocking_read(stream, 65536, ret);
    if (ret[0] != 0) break;
    size_t n = U32(8);
    if (len + n + 1 > cap) text = realloc(text, cap = (len + n + 1) * 2);
    memcpy(text + len, (void *)(uintptr_t)U32(4), n);
    len += n;
  }
  text[len] = 0;
  input_drop(stream);
  incoming_body_drop(body);
  incoming_response_drop(response);
  respond(outparam, status, fields_new(), text, -1);
}

/** 200 with the number and a newline as the body. */
static void respond_number(int32_t outparam, int n) {
  char text[16];
  size_t k = sizeof text;
  text[--k] = 0;
  text[--k] = '\n';
  do { text[--k] = '0' + n % 10; n /= 10; } while (n > 0);
  respond(outparam, 200, fields_new(), text + k, -1);
}

static int starts_with(const char *s, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(s, prefix, n) == 0;
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.12#handle"))) void handle(int32_t request, int32_t outparam) {
  request_path(request, ret);
  const char *path = ret[0] ? (const char *)(uintptr_t)U32(4) : "/";
  size_t len = ret[0] ? U32(8) : 1;
  counter++;
  if (starts_with(path, len, "/echo")) echo(request, outparam);
  else if (starts_with(path, len, "/headers")) headers_route(request, outparam);
  else if (starts_with(path, len, "/fetch")) fetch(request, outparam);
  else if (starts_with(path, len, "/status/")) {
    int status = 0;
    for (size_t i = 8; i < len && path[i] >= '0' && path[i] <= '9'; i++) status = status * 10 + (path[i] - '0');
    respond(outparam, status, fields_new(), "status\n", -1);
  } else if (starts_with(path, len, "/counter")) {
    respond_number(outparam, counter);
  } else if (starts_with(path, len, "/spin")) {
    // Says so first, so that a client knows the guest is running, then never returns.
    int32_t response = response_new(fields_new());
    response_body(response, ret);
    int32_t body_handle = (int32_t)U32(4);
    outparam_set(outparam, 0, response, 0, 0, 0, 0, 0, 0);
    outgoing_body_write(body_handle, ret);
    write_all((int32_t)U32(4), (const uint8_t *)"spinning\n", 9);
    for (volatile int i = 0;; i++) {}
  } else if (starts_with(path, len, "/handle")) {
    respond_number(outparam, fields_new());
  } else if (starts_with(path, len, "/grow")) {
    __builtin_wasm_memory_grow(0, 16);
    respond_number(outparam, (int)__builtin_wasm_memory_size(0));
  } else if (starts_with(path, len, "/hello")) {
    int32_t h = fields_new();
    append(h, "content-type", "text/plain");
    respond(outparam, 200, h, "hello from C\n", -1);
  } else respond(outparam, 404, fields_new(), "not found\n", -1);
  request_drop(request);
}
