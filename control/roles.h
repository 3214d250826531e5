/* roles.h - who may do what on the admin socket (no I/O but name lookups).
 *
 *   roles_parse       roles.c  "0:admin,1000:operate,@wheel:observe,alice:observe" -> table
 *   roles_of          roles.c  a peer's role from its uid and groups
 *   role_name         roles.c  "observe" | "operate" | "admin" | "none"
 *   role_from_name    roles.c  the reverse
 *
 * Roles are ordered: observe < operate < admin; a command needs one and a
 * peer holding it or a higher one may run it. Entries name a uid (number
 * or user name) or a group (@gid or @name). A uid entry decides for that
 * uid; otherwise the highest role among the peer's matching groups counts.
 * The uid running warp-control and root are admin unless a uid entry
 * lists them otherwise; everyone else not matched has no role (every
 * request is denied).
 */
#ifndef CONTROL_ROLES_H
#define CONTROL_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "we_compiler.h"

enum role { ROLE_NONE, ROLE_OBSERVE, ROLE_OPERATE, ROLE_ADMIN };

#define ROLES_MAX 64

struct role_entry {
	bool group; /* id is a gid */
	unsigned id;
	enum role role;
};

struct roles {
	struct role_entry e[ROLES_MAX];
	unsigned n;
	uid_t self; /* the uid running warp-control */
};

/* spec may be NULL or "" (only self and root). 0, or -EINVAL with the
 * entry at fault named in err. */
int roles_parse(struct roles *r, const char *spec, uid_t self, char *err,
		size_t err_len) we_must_check;
/* groups: the peer's gids (primary first); n may be 0. */
enum role roles_of(const struct roles *r, uid_t uid, const gid_t *groups, size_t n);
const char *role_name(enum role role);
/* ROLE_NONE when name is not a role. */
enum role role_from_name(const char *name);

#endif
