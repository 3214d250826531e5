/* we_random.h - bytes from the kernel's random source, for secrets drawn at
 * start (the bucket-hash secret, the address-token key). Not for hot paths. */
#ifndef WE_RANDOM_H
#define WE_RANDOM_H

#include <stddef.h>

#include "we_compiler.h"

/* Fill buf[0..len) with getrandom(2) bytes. 0, or a negative errno. */
int we_random_bytes(void *buf, size_t len) we_must_check;

#endif
