/* keyhash.c - make the secret of the shard-local key hash (see keyhash.h). */
#include "keyhash.h"

#include "we_random.h"

int keyhash_secret_init(struct keyhash_secret *s)
{
	return we_random_bytes(s->bytes, sizeof(s->bytes));
}

void keyhash_secret_from_seed(struct keyhash_secret *s, uint64_t seed)
{
	/* xxHash's own derivation of a full secret from a 64-bit seed. */
	XXH3_generateSecret_fromSeed(s->bytes, seed);
}
