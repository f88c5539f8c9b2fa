/* rpc_http.h — the emulator's JSON-RPC (rpc.h) over HTTP on 127.0.0.1.
 *
 * nemu_server_start(w, port) serves POST / until nemu_server_stop; port 0 picks
 * a free port (nemu_server_port tells which). While the server runs, only its
 * thread may use the world.
 */
#ifndef NEMU_RPC_HTTP_H
#define NEMU_RPC_HTTP_H

#include "emu.h"
#include "rpc.h"

typedef struct nemu_server nemu_server;

nemu_server *nemu_server_start(nemu *w, int port, const nemu_rpc_opts *o);
int nemu_server_port(const nemu_server *s);
void nemu_server_stop(nemu_server *s);

#endif
