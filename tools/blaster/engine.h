/* engine.h - what moves the blaster's datagrams.
 *
 * An engine opens its I/O once, asks for the address token (native runs,
 * handshake.h), then runs phases: it loops over blaster.h's
 * calls (prepare, send, sent/failed, receive, expire, tick) until
 * blaster_state() says DONE. engine_kernel.c uses UDP sockets with
 * sendmmsg/recvmmsg; a DPDK engine (memif, af_packet, a NIC) adds a file with
 * its own struct engine and one line in main.c's table.
 */
#ifndef BLASTER_ENGINE_H
#define BLASTER_ENGINE_H

#include <stddef.h>

#include "blaster.h"
#include "handshake.h"
#include "options.h"
#include "we_compiler.h"

struct engine {
	const char *name;
	/* Returns 0, or a negative errno with err holding a sentence. */
	int (*open)(void **ctx, const struct options *o, char *err, size_t err_len);
	/* Returns 0 when the phase ran to DONE, or a negative errno for an I/O
	 * failure that ended it early (err says what). */
	int (*run_phase)(void *ctx, struct blaster *b, char *err, size_t err_len);
	/* The address-token handshake of a native run (h already begun on the
	 * monotonic clock): send h's tries when due, hand every datagram that
	 * arrives to handshake_rx(), until h->state leaves WAITING or the time
	 * runs out (then h->state is still WAITING). Returns 0, or a negative
	 * errno for an I/O failure (err says what). */
	int (*handshake)(void *ctx, struct handshake *h, char *err, size_t err_len);
	/* A sentence about what the engine saw that may explain a silent
	 * target (e.g. ICMP port unreachable), or NULL. */
	const char *(*diagnose)(void *ctx);
	void (*close)(void *ctx);
};

extern const struct engine engine_kernel;
extern const struct engine engine_dpdk;

#endif
