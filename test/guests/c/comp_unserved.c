// Imports interfaces hyrun does not serve (a wasi:http one, as a command, and a made-up one): a
// component made of it must be refused before it runs (scripts/build-guests.mjs embeds its WIT).
#include <stdio.h>
#ifndef __wasi__
int main(void) { puts("comp_unserved is Wasm only"); return 77; }
#else
#include <stdint.h>
__attribute__((import_module("wasi:http/types@0.2.0"), import_name("ping"))) uint32_t http_ping(void);
__attribute__((import_module("acme:made/up@1.0.0"), import_name("hello"))) uint32_t made_up_hello(void);

int main(void) {
  printf("%u %u\n", http_ping(), made_up_hello());
  return 0;
}
#endif
