/* roles.c - the admin socket's allow-list (see roles.h).
 *
 * DESIGN: names are resolved once, when the list is parsed, so a check is
 * a scan of at most ROLES_MAX entries with no lookups.
 */
#include "roles.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"none", "observe", "operate", "admin"};

const char *role_name(enum role role)
{
	return (unsigned)role < 4 ? role_names[role] : "none";
}

enum role role_from_name(const char *name)
{
	for (unsigned i = 1; i < 4; i++)
		if (strcmp(name, role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

/* A decimal id or a name looked up; false when neither. */
static bool who_id(const char *who, bool group, unsigned *id)
{
	char *end;
	unsigned long v;

	if (*who >= '0' && *who <= '9') {
		errno = 0;
		v = strtoul(who, &end, 10);
		if (*end != 0 || errno != 0 || v > 0xfffffffeul)
			return false;
		*id = (unsigned)v;
		return true;
	}
	if (group) {
		struct group *g = getgrnam(who);

		if (g == NULL)
			return false;
		*id = (unsigned)g->gr_gid;
	} else {
		struct passwd *p = getpwnam(who);

		if (p == NULL)
			return false;
		*id = (unsigned)p->pw_uid;
	}
	return true;
}

static int parse_entry(struct roles *r, char *item, char *err, size_t err_len)
{
	char *colon = strrchr(item, ':');
	struct role_entry e = {0};
	const char *who = item;

	if (colon == NULL || colon == item || colon[1] == 0) {
		snprintf(err, err_len, "--allow: '%.64s' is not WHO:ROLE (e.g. 1000:operate)", item);
		return -EINVAL;
	}
	*colon = 0;
	e.role = role_from_name(colon + 1);
	if (e.role == ROLE_NONE) {
		snprintf(err, err_len, "--allow: '%.64s' is not a role (observe|operate|admin)",
			 colon + 1);
		return -EINVAL;
	}
	if (*who == '@') {
		e.group = true;
		who++;
	}
	if (*who == 0 || !who_id(who, e.group, &e.id)) {
		snprintf(err, err_len, "--allow: '%.64s' is not a %s id or a known %s name", who,
			 e.group ? "group" : "user", e.group ? "group" : "user");
		return -EINVAL;
	}
	if (r->n == ROLES_MAX) {
		snprintf(err, err_len, "--allow: more than %d entries", ROLES_MAX);
		return -EINVAL;
	}
	r->e[r->n++] = e;
	return 0;
}

int roles_parse(struct roles *r, const char *spec, uid_t self, char *err, size_t err_len)
{
	char *copy, *save = NULL;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->self = self;
	if (spec == NULL || *spec == 0)
		return 0;
	copy = strdup(spec);
	if (copy == NULL) {
		snprintf(err, err_len, "--allow: out of memory");
		return -ENOMEM;
	}
	for (char *item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		rc = parse_entry(r, item, err, err_len);
	}
	free(copy);
	return rc;
}

enum role roles_of(const struct roles *r, uid_t uid, const gid_t *groups, size_t n)
{
	enum role best = ROLE_NONE;

	for (unsigned i = 0; i < r->n; i++)
		if (!r->e[i].group && r->e[i].id == (unsigned)uid)
			return r->e[i].role;
	if (uid == 0 || uid == r->self)
		return ROLE_ADMIN;
	for (unsigned i = 0; i < r->n; i++) {
		if (!r->e[i].group || r->e[i].role <= best)
			continue;
		for (size_t g = 0; g < n; g++)
			if (r->e[i].id == (unsigned)groups[g])
				best = r->e[i].role;
	}
	return best;
}
