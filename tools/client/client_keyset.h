/* client_keyset.h - the key hashes of requests in flight (pure).
 *
 * The batch command keeps one client-side rule: two requests on the same key
 * are never in flight together, so the server sees them in input order.
 * This set answers "is a request on this key hash in flight?" in O(1). It
 * compares 64-bit hashes only: a collision between two different keys just
 * delays the second request until the first is answered, which is safe.
 */
#ifndef CLIENT_KEYSET_H
#define CLIENT_KEYSET_H

#include <stdbool.h>
#include <stdint.h>

#include "we_compiler.h"

struct client_keyset {
	uint64_t *slots; /* 0 marks an empty slot; hash 0 is stored as 1 */
	uint32_t mask;   /* slots - 1; slots is a power of two >= 2 x capacity */
	uint32_t count;
	uint32_t capacity;
};

/* Room for `capacity` hashes at once. Returns 0 or -ENOMEM. */
int client_keyset_init(struct client_keyset *s, uint32_t capacity) we_must_check;
void client_keyset_fini(struct client_keyset *s);

bool client_keyset_contains(const struct client_keyset *s, uint64_t hash);
/* Add a hash that is not in the set; the set must not be full. */
void client_keyset_insert(struct client_keyset *s, uint64_t hash);
/* Remove a hash that is in the set. */
void client_keyset_remove(struct client_keyset *s, uint64_t hash);
void client_keyset_clear(struct client_keyset *s);

#endif
