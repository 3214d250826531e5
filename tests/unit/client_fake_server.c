/* client_fake_server.c - a small stand-in for the data plane, for client tests.
 *
 * DESIGN: one open-addressing map (linear probing, tombstones) holds keys
 * and malloc'd values; one function answers a request datagram the way
 * docs/protocol.md says the server does: entries in order, GET values
 * copied, a full reply sent and a new one started with the same echo,
 * header-only replies for datagram errors, no reply to what is not a
 * request. Address tokens follow section 14 in the fake's chosen mode: a
 * handshake is answered by whichever worker gets it; the budget of an
 * unvalidated datagram is 3 times its bytes, spent by its header once and
 * by each answer's 12 bytes plus value, in request order, and an answer
 * with a value that would pass it goes out NEED_TOKEN without the value.
 * Faults are counters-driven, so every run is reproducible. In
 * socket mode a single thread polls every worker port and a pipe that stops
 * it; everything it touches belongs to that thread until it is joined.
 */
#include "client_fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "keyhash.h"
#include "proto.h"

#define FAKE_TABLE_SLOTS (1u << 15)

struct fake_entry {
	uint8_t state; /* 0 empty, 1 used, 2 deleted */
	uint8_t key_len;
	uint8_t key[PROTO_KEY_MAX];
	uint8_t *value;
	uint32_t value_len;
};

int fake_server_init(struct fake_server *f, const struct fake_server_cfg *cfg)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	if (cfg->n_workers == 0 || cfg->n_workers > FAKE_WORKERS_MAX)
		return -EINVAL;
	region_map_init_default(&f->map, cfg->n_workers);
	f->table = calloc(FAKE_TABLE_SLOTS, sizeof(*f->table));
	if (!f->table)
		return -ENOMEM;
	f->table_mask = FAKE_TABLE_SLOTS - 1;
	fake_server_new_token(f);
	for (unsigned i = 0; i < FAKE_WORKERS_MAX; i++)
		f->fds[i] = -1;
	f->stop_pipe[0] = f->stop_pipe[1] = -1;
	return 0;
}

void fake_server_new_token(struct fake_server *f)
{
	f->token_epoch++;
	memset(f->token, 0x5a, sizeof(f->token));
	memcpy(f->token, &f->token_epoch, sizeof(f->token_epoch));
}

void fake_server_fini(struct fake_server *f)
{
	if (f->running)
		fake_server_stop(f);
	for (uint32_t i = 0; f->table && i <= f->table_mask; i++)
		free(f->table[i].value);
	free(f->table);
	f->table = NULL;
}

/* The slot holding key, or the first reusable slot (*found false). */
static struct fake_entry *fake_find(const struct fake_server *f, const uint8_t *key,
				    uint8_t key_len, bool *found)
{
	uint32_t i = (uint32_t)(keyhash(key, key_len) >> 20) & f->table_mask;
	struct fake_entry *reuse = NULL;

	for (uint32_t n = 0; n <= f->table_mask; n++, i = (i + 1) & f->table_mask) {
		struct fake_entry *e = &f->table[i];

		if (e->state == 0) {
			*found = false;
			return reuse ? reuse : e;
		}
		if (e->state == 2) {
			if (!reuse)
				reuse = e;
			continue;
		}
		if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
			*found = true;
			return e;
		}
	}
	*found = false;
	return reuse;
}

bool fake_server_lookup(const struct fake_server *f, const uint8_t *key, uint8_t key_len,
			const uint8_t **value, uint32_t *value_len)
{
	bool found;
	struct fake_entry *e = fake_find(f, key, key_len, &found);

	if (!found)
		return false;
	*value = e->value;
	*value_len = e->value_len;
	return true;
}

uint64_t fake_server_count(const struct fake_server *f)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i <= f->table_mask; i++)
		n += f->table[i].state == 1;
	return n;
}

static uint8_t fake_execute(struct fake_server *f, const struct proto_request *r,
			    const uint8_t **value, uint32_t *value_len)
{
	struct fake_entry *e;
	bool found;

	*value = NULL;
	*value_len = 0;
	if (r->op == PROTO_OP_PING) {
		f->stats.pings++;
		return WE_STATUS_OK;
	}
	if (r->op == PROTO_OP_TOKEN) {
		if (f->cfg.token_mode == FAKE_TOKEN_OLD)
			return WE_STATUS_UNKNOWN_OP;
		f->stats.tokens_issued++;
		*value = f->token;
		*value_len = sizeof(f->token);
		return WE_STATUS_OK;
	}
	e = fake_find(f, r->key, r->key_len, &found);
	switch (r->op) {
	case PROTO_OP_GET:
		f->stats.gets++;
		if (!found)
			return WE_STATUS_NOT_FOUND;
		*value = e->value;
		*value_len = e->value_len;
		return WE_STATUS_OK;
	case PROTO_OP_PUT: {
		uint8_t *copy = malloc(r->value_len ? r->value_len : 1);

		f->stats.puts++;
		if (!e || !copy) {
			free(copy);
			return WE_STATUS_NO_SPACE;
		}
		memcpy(copy, r->value, r->value_len);
		free(e->value);
		e->value = copy;
		e->value_len = r->value_len;
		e->key_len = r->key_len;
		memcpy(e->key, r->key, r->key_len);
		e->state = 1;
		return WE_STATUS_OK;
	}
	case PROTO_OP_DELETE:
		f->stats.deletes++;
		if (!found)
			return WE_STATUS_NOT_FOUND;
		free(e->value);
		e->value = NULL;
		e->state = 2;
		return WE_STATUS_OK;
	}
	return WE_STATUS_UNKNOWN_OP;
}

struct reply {
	struct fake_server *f;
	uint16_t worker;
	fake_emit_fn *emit;
	void *ctx;
	uint64_t echo;
	struct proto_writer w;
	uint8_t buf[PROTO_PAYLOAD_MAX];
};

static void reply_open(struct reply *rp)
{
	proto_writer_init(&rp->w, rp->buf, sizeof(rp->buf), PROTO_F_RESPONSE, rp->echo);
}

static void reply_send(struct reply *rp)
{
	uint32_t len;

	if (rp->w.count == 0 && rp->buf[6] == 0)
		return;
	len = proto_writer_finish(&rp->w);
	rp->f->stats.replies++;
	rp->emit(rp->ctx, rp->worker, rp->buf, len);
	if (rp->f->cfg.dup_every && ++rp->f->reply_seq % rp->f->cfg.dup_every == 0)
		rp->emit(rp->ctx, rp->worker, rp->buf, len);
	reply_open(rp);
}

static void reply_add(struct reply *rp, uint8_t op, uint8_t status, uint32_t opaque,
		      const uint8_t *value, uint32_t value_len)
{
	if (!proto_writer_fits(&rp->w, 0, value_len))
		reply_send(rp);
	proto_writer_append(&rp->w, op, 0, status, opaque, NULL, 0, value, value_len);
	if (rp->f->cfg.split_replies)
		reply_send(rp);
}

/* A datagram of TOKEN entries only: the client's handshake. */
static bool is_handshake(const struct proto_request *reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (reqs[i].op != PROTO_OP_TOKEN)
			return false;
	return n > 0;
}

static void fake_handshake(struct fake_server *f, struct reply *rp,
			   const struct proto_request *reqs, unsigned n)
{
	f->stats.token_requests++;
	if (f->cfg.silent || f->cfg.token_silent)
		return;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *value;
		uint32_t value_len;
		uint8_t status = fake_execute(f, &reqs[i], &value, &value_len);

		reply_add(rp, reqs[i].op, status, reqs[i].opaque, value, value_len);
	}
	reply_send(rp);
}

/* Whether an answer with value_len bytes of value is withheld from an
 * unvalidated datagram; *spent counts the bytes it has been sent. */
static bool withhold(struct fake_server *f, bool validated, uint32_t budget, uint32_t *spent,
		     uint32_t value_len)
{
	if (validated || value_len == 0 || *spent + PROTO_ENTRY_HDR_SIZE + value_len <= budget) {
		*spent += PROTO_ENTRY_HDR_SIZE + value_len;
		return false;
	}
	*spent += PROTO_ENTRY_HDR_SIZE;
	f->stats.withheld++;
	return true;
}

void fake_server_handle(struct fake_server *f, uint16_t worker, const uint8_t *buf, uint32_t len,
			fake_emit_fn *emit, void *ctx)
{
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	struct reply rp = { .f = f, .worker = worker, .emit = emit, .ctx = ctx };
	struct reply fwd = rp;
	enum proto_decode_result r;
	const uint8_t *token;
	uint32_t budget = PROTO_AMPLIFICATION_MAX * len, spent = PROTO_HDR_SIZE;
	bool validated;
	unsigned n;

	r = proto_decode_batch(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n);
	rp.echo = fwd.echo = hdr.echo;
	reply_open(&rp);
	reply_open(&fwd);
	token = r == PROTO_DECODE_OK ? proto_batch_token(buf, &hdr) : NULL;
	if (r == PROTO_DECODE_OK && !token && is_handshake(reqs, n)) {
		fake_handshake(f, &rp, reqs, n);
		return;
	}
	f->stats.requests++;
	if (f->cfg.token_mode_after && f->stats.requests == f->cfg.token_mode_after + 1)
		f->cfg.token_mode = f->cfg.token_mode_next;
	if (f->cfg.silent || (f->cfg.drop_every && f->stats.requests % f->cfg.drop_every == 0)) {
		f->stats.dropped++;
		return;
	}
	if (token && f->cfg.token_mode == FAKE_TOKEN_OLD) {
		/* An older decoder knows no TOKEN flag. */
		f->stats.flag_refused++;
		proto_writer_set_status(&rp.w, WE_STATUS_UNSUPPORTED);
		reply_send(&rp);
		return;
	}
	validated = f->cfg.token_mode != FAKE_TOKEN_VALIDATE ||
		    (token && memcmp(token, f->token, sizeof(f->token)) == 0);
	if (r == PROTO_DECODE_OK && token && memcmp(token, f->token, sizeof(f->token)) == 0)
		f->stats.with_token++;
	else if (r == PROTO_DECODE_OK && token)
		f->stats.bad_token++;
	else if (r == PROTO_DECODE_OK)
		f->stats.without_token++;
	if (f->cfg.token_change_every && f->stats.requests % f->cfg.token_change_every == 0)
		fake_server_new_token(f);
	if (r != PROTO_DECODE_OK) {
		f->stats.invalid++;
		if (proto_decode_reply_status(r) != WE_STATUS_OK) {
			proto_writer_set_status(&rp.w, proto_decode_reply_status(r));
			reply_send(&rp);
		}
		return;
	}
	if (n > f->stats.max_batch)
		f->stats.max_batch = n;
	for (unsigned i = 0; i < n; i++) {
		const struct proto_request *q = &reqs[i];
		struct reply *out = &rp;
		const uint8_t *value;
		uint32_t value_len;
		uint8_t status;

		f->stats.entries++;
		if (q->status != WE_STATUS_OK) {
			reply_add(&rp, q->op, q->status, q->opaque, NULL, 0);
			continue;
		}
		if (q->op != PROTO_OP_PING &&
		    region_map_owner_of_hash(&f->map, keyhash(q->key, q->key_len)) != worker) {
			f->stats.misdirected++;
			if (f->cfg.forward_apart)
				out = &fwd;
		}
		if (q->op != PROTO_OP_PING && f->cfg.busy_every &&
		    ++f->entry_seq % f->cfg.busy_every == 0) {
			f->stats.busy++;
			reply_add(out, q->op, WE_STATUS_BUSY, q->opaque, NULL, 0);
			continue;
		}
		status = fake_execute(f, q, &value, &value_len);
		if (withhold(f, validated, budget, &spent, value_len)) {
			reply_add(out, q->op, WE_STATUS_NEED_TOKEN, q->opaque, NULL, 0);
			continue;
		}
		if (q->op == PROTO_OP_GET && status == WE_STATUS_OK && value_len > 0 &&
		    f->cfg.corrupt_every && ++f->hit_seq % f->cfg.corrupt_every == 0) {
			uint8_t garbled[PROTO_PAYLOAD_MAX];

			memcpy(garbled, value, value_len);
			garbled[value_len / 2] ^= 0x10;
			f->stats.corrupted++;
			reply_add(out, q->op, status, q->opaque, garbled, value_len);
			continue;
		}
		reply_add(out, q->op, status, q->opaque, value, value_len);
	}
	/* "Forwarded" answers arrive first here: the client must not care. */
	reply_send(&fwd);
	reply_send(&rp);
}

struct sock_emit {
	int fd;
	struct sockaddr_in to;
};

static void sock_emit(void *ctx, uint16_t worker, const uint8_t *buf, uint32_t len)
{
	struct sock_emit *se = ctx;

	(void)worker;
	(void)!sendto(se->fd, buf, len, 0, (const struct sockaddr *)&se->to, sizeof(se->to));
}

static void *fake_thread(void *arg)
{
	struct fake_server *f = arg;
	struct pollfd pfd[FAKE_WORKERS_MAX + 1];
	uint8_t buf[2048];
	unsigned n = f->cfg.n_workers;

	for (unsigned i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = f->fds[i], .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = f->stop_pipe[0], .events = POLLIN };
	for (;;) {
		if (poll(pfd, n + 1, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[n].revents)
			break;
		for (unsigned i = 0; i < n; i++) {
			struct sock_emit se = { .fd = f->fds[i] };
			socklen_t tl = sizeof(se.to);
			ssize_t got;

			if (!(pfd[i].revents & POLLIN))
				continue;
			got = recvfrom(f->fds[i], buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&se.to, &tl);
			if (got >= 0)
				fake_server_handle(f, (uint16_t)i, buf, (uint32_t)got, sock_emit,
						   &se);
		}
	}
	return NULL;
}

static void close_fds(struct fake_server *f)
{
	for (unsigned i = 0; i < FAKE_WORKERS_MAX; i++) {
		if (f->fds[i] >= 0)
			close(f->fds[i]);
		f->fds[i] = -1;
	}
	for (unsigned i = 0; i < 2; i++) {
		if (f->stop_pipe[i] >= 0)
			close(f->stop_pipe[i]);
		f->stop_pipe[i] = -1;
	}
}

/* Bind every worker port at base; false if any is taken. */
static bool bind_ports(struct fake_server *f, uint16_t base)
{
	for (unsigned i = 0; i < f->cfg.n_workers; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)(base + i)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		f->fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (f->fds[i] < 0 || bind(f->fds[i], (struct sockaddr *)&a, sizeof(a)) != 0) {
			close_fds(f);
			return false;
		}
	}
	return true;
}

int fake_server_start(struct fake_server *f)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int rc;

	for (unsigned attempt = 0; attempt < 64; attempt++) {
		uint16_t base = (uint16_t)(20000 + rand_r(&seed) % 30000);

		if (!bind_ports(f, base))
			continue;
		if (pipe(f->stop_pipe) != 0) {
			rc = -errno;
			close_fds(f);
			return rc;
		}
		f->port_base = base;
		rc = pthread_create(&f->thread, NULL, fake_thread, f);
		if (rc) {
			close_fds(f);
			return -rc;
		}
		f->running = true;
		return 0;
	}
	return -EADDRINUSE;
}

void fake_server_stop(struct fake_server *f)
{
	if (!f->running)
		return;
	(void)!write(f->stop_pipe[1], "x", 1);
	pthread_join(f->thread, NULL);
	f->running = false;
	close_fds(f);
}
