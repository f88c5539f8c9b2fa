/* stdio.h — freestanding wasm32 build of lib/attest: no I/O. mbed TLS includes
 * this header; its printing goes to dg_mbedtls_* (lib/attest/wasm/libc.c). */
#ifndef DG_WASM_STDIO_H
#define DG_WASM_STDIO_H
#include <stdarg.h>
#include <stddef.h>
typedef struct dg_wasm_file FILE;
#endif
