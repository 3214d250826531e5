/* keyhash.c - make the secret of the shard-local key hash (see keyhash.h). */
#include "keyhash.h"

#include <errno.h>
#include <sys/random.h>

int keyhash_secret_init(struct keyhash_secret *s)
{
	size_t got = 0;

	while (got < sizeof(s->bytes)) {
		ssize_t n = getrandom(s->bytes + got, sizeof(s->bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

void keyhash_secret_from_seed(struct keyhash_secret *s, uint64_t seed)
{
	/* xxHash's own derivation of a full secret from a 64-bit seed. */
	XXH3_generateSecret_fromSeed(s->bytes, seed);
}
