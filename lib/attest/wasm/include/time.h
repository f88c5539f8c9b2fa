/* time.h — freestanding wasm32 build of lib/attest: no clock (the verifier is
 * given the time). */
#ifndef DG_WASM_TIME_H
#define DG_WASM_TIME_H
typedef long long time_t;
#endif
