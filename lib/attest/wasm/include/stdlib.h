/* stdlib.h — freestanding wasm32 build of lib/attest: no libc allocator (mbed
 * TLS allocates from its own buffer, see lib/attest/wasm/libc.c). */
#ifndef DG_WASM_STDLIB_H
#define DG_WASM_STDLIB_H
#include <stddef.h>
#endif
