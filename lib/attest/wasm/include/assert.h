/* assert.h — freestanding wasm32 build of lib/attest. */
#ifndef DG_WASM_ASSERT_H
#define DG_WASM_ASSERT_H
#define assert(x) ((void)0)
#endif
