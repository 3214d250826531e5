/* gen_corpus.c - write the fuzz harnesses' seed corpora.
 *
 * DESIGN: seeds are a handful of valid inputs in each harness's own format,
 * so the fuzzer starts past the checks that random bytes rarely pass: the
 * worked examples of docs/protocol.md section 12 (byte for byte, built with
 * the same encoder the specification quotes), each kind of decode error,
 * valid Ethernet/ARP/IPv4/ICMP/UDP frames for our address, and short
 * operation recipes for the shard and the whole frame path. Usage:
 *
 *   fuzz_gen_corpus DIR      writes DIR/{proto,netio,shard,frame_path}/NAME
 *
 * The committed corpus (tests/fuzz/corpus/) is this program's output; run
 * it again after changing a seed here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keyhash.h"
#include "netio.h"
#include "proto.h"

static const char *out_dir;

static void put(const char *harness, const char *name, const uint8_t *b, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, harness);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, harness, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---- datagrams ---------------------------------------------------------- */

struct dgram {
	uint8_t b[2048];
	uint32_t len;
};

struct ent {
	uint8_t op, flags, status;
	uint32_t opaque;
	const char *key;
	const char *value;
};

static void build(struct dgram *d, uint8_t flags, uint64_t echo, const struct ent *e, unsigned n)
{
	struct proto_writer w;

	proto_writer_init(&w, d->b, sizeof(d->b), flags, echo);
	for (unsigned i = 0; i < n; i++)
		proto_writer_append(&w, e[i].op, e[i].flags, e[i].status, e[i].opaque, e[i].key,
				    (uint32_t)strlen(e[i].key), e[i].value,
				    e[i].value ? (uint32_t)strlen(e[i].value) : 0);
	d->len = proto_writer_finish(&w);
}

/* The request datagrams the other seeds reuse. */
static struct dgram ex_put, ex_get2, ex_v2, ex_token, ex_tokflag, ex_errors, ex_big;

static void make_datagrams(void)
{
	static char big[PROTO_VALUE_MAX + 1];
	const struct ent put1[] = {{PROTO_OP_PUT, 0, 0, 10, "user:42", "hello"}};
	const struct ent get2[] = {{PROTO_OP_GET, 0, 0, 11, "user:42", NULL},
				   {PROTO_OP_GET, 0, 0, 12, "user:43", NULL}};
	const struct ent tok[] = {{PROTO_OP_TOKEN, 0, 0, 1, "t", NULL}};
	const struct ent errs[] = {
		{0, 0, 0, 1, "k", NULL},                        /* UNKNOWN_OP */
		{PROTO_OP_GET, 0x04, 0, 2, "k", NULL},          /* BAD_REQUEST (flag) */
		{PROTO_OP_QUANTUM_GET, 0, 0, 3, "k", NULL},     /* UNSUPPORTED */
		{PROTO_OP_GET, 0, 0, 4, "k", "v"},              /* BAD_REQUEST (value) */
		{PROTO_OP_PUT, PROTO_DUR_STRONG, 0, 5, "k", "v"}, /* UNSUPPORTED durability */
		{PROTO_OP_PING, 0, 0, 6, "p", NULL},
		{PROTO_OP_DELETE, 0, 0, 7, "user:42", NULL},
		{PROTO_OP_GET, 0, 0, 8, "", NULL},              /* KEY_TOO_LONG (empty) */
	};
	struct ent bigput[] = {{PROTO_OP_PUT, 0, 0, 9, "b", big}};
	uint8_t token[PROTO_TOKEN_SIZE];
	struct proto_writer w;

	memset(big, 'x', PROTO_VALUE_MAX);
	build(&ex_put, 0, 1, put1, 1);
	build(&ex_get2, 0, 2, get2, 2);
	build(&ex_v2, 0, 3, get2, 1);
	ex_v2.b[2] = 2; /* section 12.3: another version */
	build(&ex_token, 0, 4, tok, 1);
	build(&ex_errors, 0, 5, errs, sizeof(errs) / sizeof(errs[0]));
	build(&ex_big, 0, 6, bigput, 1);
	memset(token, 0xab, sizeof(token));
	proto_writer_init_token(&w, ex_tokflag.b, sizeof(ex_tokflag.b), 7, token);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "user:42", 7, NULL, 0);
	ex_tokflag.len = proto_writer_finish(&w);
}

static void seeds_proto(void)
{
	const struct ent put_ok[] = {{PROTO_OP_PUT, 0, WE_STATUS_OK, 10, "", NULL}};
	const struct ent get_ok[] = {{PROTO_OP_GET, 0, WE_STATUS_OK, 11, "", "hello"}};
	const struct ent get_nf[] = {{PROTO_OP_GET, 0, WE_STATUS_NOT_FOUND, 12, "", NULL}};
	struct dgram d;
	struct proto_writer w;

	put("proto", "12.1-put-request", ex_put.b, ex_put.len);
	build(&d, PROTO_F_RESPONSE, 1, put_ok, 1);
	put("proto", "12.1-put-response", d.b, d.len);
	put("proto", "12.2-get2-request", ex_get2.b, ex_get2.len);
	build(&d, PROTO_F_RESPONSE, 2, get_ok, 1);
	put("proto", "12.2-get-response-worker2", d.b, d.len);
	build(&d, PROTO_F_RESPONSE, 2, get_nf, 1);
	put("proto", "12.2-get-response-worker1", d.b, d.len);
	put("proto", "12.3-version2-request", ex_v2.b, ex_v2.len);
	proto_writer_init(&w, d.b, PROTO_HDR_SIZE, PROTO_F_RESPONSE, 3);
	proto_writer_set_status(&w, WE_STATUS_BAD_VERSION);
	d.len = proto_writer_finish(&w);
	put("proto", "12.3-bad-version-reply", d.b, d.len);
	put("proto", "token-op-request", ex_token.b, ex_token.len);
	put("proto", "token-flag-request", ex_tokflag.b, ex_tokflag.len);
	put("proto", "entry-errors-request", ex_errors.b, ex_errors.len);
	put("proto", "put-1443-request", ex_big.b, ex_big.len);
	{
		/* A jumbo datagram (decoded normally, section 6): a 1444-byte
		 * value is VALUE_TOO_LARGE, nothing else is wrong with it. */
		static char v[PROTO_VALUE_MAX + 2];
		const struct ent jumbo[] = {{PROTO_OP_PUT, 0, 0, 1, "j", v}};

		memset(v, 'j', PROTO_VALUE_MAX + 1);
		build(&d, 0, 8, jumbo, 1);
		put("proto", "jumbo-value-too-large", d.b, d.len);
	}
	memcpy(d.b, ex_put.b, ex_put.len);
	d.b[7] = 1; /* reserved byte: MALFORMED */
	put("proto", "reserved-set-request", d.b, ex_put.len);
	memcpy(d.b, ex_put.b, ex_put.len);
	d.b[3] = PROTO_F_AUTH; /* UNSUPPORTED */
	put("proto", "auth-flag-request", d.b, ex_put.len);
}

/* ---- frames -------------------------------------------------------------- */

static const uint8_t self_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

/* A UDP frame from 10.0.0.2:40000 to 10.0.0.1:port. */
static uint32_t udp_frame(uint8_t *f, uint16_t port, const struct dgram *d)
{
	struct netio_udp u = {0};

	memcpy(u.dst_mac, self_mac, 6);
	memcpy(u.src_mac, peer_mac, 6);
	u.dst_ip_be = 0x0100000a;
	u.src_ip_be = 0x0200000a;
	u.dst_port = port;
	u.src_port = 40000;
	memcpy(f + NETIO_UDP_HEADROOM, d->b, d->len);
	return netio_write_udp_copy(f, &u, d->len, true);
}

static uint32_t arp_request(uint8_t *f)
{
	static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x02, 10, 0, 0, 2,
					0, 0, 0, 0, 0, 0, 10, 0, 0, 1};

	memset(f, 0xff, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, arp, sizeof(arp));
	memset(f + 42, 0, 18); /* Ethernet padding to 60 bytes */
	return 60;
}

/* An ICMP echo request with `opt` bytes of IPv4 options (checksums right). */
static uint32_t icmp_echo(uint8_t *f, unsigned opt)
{
	uint8_t *ip = f + NETIO_ETH_HDR;
	uint32_t ihl = 20 + opt, data = 16, total = ihl + 8 + data;
	uint8_t *icmp = ip + ihl;
	uint16_t c;

	memcpy(f, self_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, total);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, (const uint8_t[]){10, 0, 0, 2}, 4);
	memcpy(ip + 16, (const uint8_t[]){10, 0, 0, 1}, 4);
	if (opt)
		ip[20] = 1; /* NOP options */
	memset(ip + 21, 1, opt > 1 ? opt - 1 : 0);
	icmp[0] = 8;
	icmp[5] = 0x2a;
	icmp[7] = 1;
	for (unsigned i = 0; i < data; i++)
		icmp[8 + i] = (uint8_t)i;
	c = netio_ipv4_checksum(icmp, 8 + data);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	c = netio_ipv4_checksum(ip, ihl);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return NETIO_ETH_HDR + total;
}

static void seeds_netio(void)
{
	uint8_t f[2048];
	uint32_t len;

	/* Byte 0 is the harness's control byte (0: checksums as they are). */
	len = udp_frame(f + 1, 9002, &ex_put);
	f[0] = 0;
	put("netio", "udp-12.1-put", f, len + 1);
	len = udp_frame(f + 1, 9000, &ex_big);
	put("netio", "udp-1472-payload", f, len + 1);
	len = arp_request(f + 1);
	put("netio", "arp-request-padded", f, len + 1);
	len = icmp_echo(f + 1, 0);
	put("netio", "icmp-echo", f, len + 1);
	len = icmp_echo(f + 1, 8);
	put("netio", "icmp-echo-ip-options", f, len + 1);
	len = udp_frame(f + 1, 9005, &ex_put);
	f[0] = 1;
	put("netio", "udp-closed-port", f, len + 1);
}

/* ---- recipes -------------------------------------------------------------- */

static void seeds_shard(void)
{
	/* capacity, arena, keys; then op (0/3 put, 1 get, 2 delete), key, and
	 * for a PUT value length (u16) and fill byte. */
	static const uint8_t basic[] = {8, 4, 4, 0, 1, 5, 0, 'a', 1, 1, 2, 1, 1, 1, 3, 2, 200, 0, 'b',
					1, 2};
	static const uint8_t fill[] = {2, 0, 63, 0, 1, 0, 2, 1, 0, 2, 0, 2, 0, 2, 2, 0, 3, 0, 2, 3,
				       0, 4, 0, 2, 4, 0, 5, 0, 2, 5, 2, 1, 2, 2, 0, 1, 0x80, 1, 9};
	static const uint8_t big[] = {0, 63, 3, 0, 0, 0xff, 0x07, 1, 0, 1, 0xa3, 0x05, 2, 1, 0, 2, 0,
				      0, 0, 0xff, 0x07, 3};

	put("shard", "put-get-delete", basic, sizeof(basic));
	put("shard", "fill-to-no-space", fill, sizeof(fill));
	put("shard", "large-values", big, sizeof(big));
}

/* One frame-path record: type 0 (built frame), ctrl, length, payload. */
static size_t rec(uint8_t *p, uint8_t ctrl, const struct dgram *d)
{
	p[0] = 0;
	p[1] = ctrl;
	p[2] = (uint8_t)d->len;
	p[3] = (uint8_t)(d->len >> 8);
	memcpy(p + 4, d->b, d->len);
	return 4 + d->len;
}

static void seeds_frame_path(void)
{
	static uint8_t b[8192];
	const struct ent mixed[] = {
		{PROTO_OP_PUT, 0, 0, 0, "alpha", "one"}, {PROTO_OP_PUT, 0, 0, 0, "beta", "two"},
		{PROTO_OP_PUT, 0, 0, 0, "gamma", "three"}, {PROTO_OP_GET, 0, 0, 0, "alpha", NULL},
		{PROTO_OP_GET, 0, 0, 0, "beta", NULL}, {PROTO_OP_DELETE, 0, 0, 0, "gamma", NULL},
		{PROTO_OP_GET, 0, 0, 0, "gamma", NULL}, {PROTO_OP_PING, 0, 0, 0, "p", NULL},
	};
	struct dgram m;
	size_t n;

	build(&m, 0, 0, mixed, sizeof(mixed) / sizeof(mixed[0]));
	/* byte 0: 3 workers (bit 0), validation off, ring of 8; byte 1: shard. */
	n = 0;
	b[n++] = 0x1d;
	b[n++] = 0x40;
	n += rec(b + n, 2 << 2 | 2, &ex_put);  /* 12.1 to port 9002, queue 2 */
	n += rec(b + n, 2 << 2 | 2, &ex_get2); /* 12.2 to 9002: one entry forwarded */
	b[n++] = 2;                             /* a round */
	n += rec(b + n, 0, &m);                 /* mixed batch to 9000 */
	n += rec(b + n, 1 << 2 | 0, &m);        /* to 9001 via queue 0: steered */
	put("frame_path", "worked-example-3-workers", b, n);

	/* Validation on, ring of 1: forwarding refusals, NEED_TOKEN. */
	n = 0;
	b[n++] = 0x02;
	b[n++] = 0x10;
	n += rec(b + n, 0, &ex_big);
	n += rec(b + n, 0, &m);
	n += rec(b + n, 1, &ex_token);
	n += rec(b + n, 0x10, &ex_tokflag); /* this epoch's token */
	n += rec(b + n, 0x20, &ex_tokflag); /* the previous epoch's */
	n += rec(b + n, 0x30, &ex_tokflag); /* expired */
	b[n++] = 3; /* region move */
	b[n++] = 1;
	n += rec(b + n, 0, &m);
	n += rec(b + n, 0, &ex_errors);
	n += rec(b + n, 0, &ex_v2);
	put("frame_path", "validation-moves-errors", b, n);
}

/* A key "<prefix><n>" whose region the default map of `workers` gives to
 * worker `owner`. */
static const char *key_owned_by(const char *prefix, unsigned workers, unsigned owner)
{
	static char keys[8][32];
	static unsigned next;
	char *k = keys[next++ % 8];

	for (unsigned n = 0;; n++) {
		snprintf(k, 32, "%s%u", prefix, n);
		if (keyhash_region(keyhash(k, strlen(k))) % workers == owner)
			return k;
	}
}

/* Paths the first seeds do not reach: the hop limit, split replies and
 * withheld values (NEED_TOKEN). */
static void seeds_frame_path_deep(void)
{
	static uint8_t b[8192];
	static char v700[701];
	struct dgram d;
	size_t n;

	/* Hop limit, 2 workers: a datagram for port 9001 arrives on queue 0
	 * and is steered to worker 1 (hop 1), which forwards its entry to the
	 * owner, worker 0 (hop 2); the region moves before worker 0 runs it,
	 * so it is answered WRONG_OWNER. */
	{
		const char *k = key_owned_by("hop", 2, 0);
		const struct ent e[] = {{PROTO_OP_PUT, 0, 0, 0, k, "v"}};

		build(&d, 0, 0, e, 1);
		n = 0;
		b[n++] = 0x1c; /* 2 workers, validation off, ring of 8 */
		b[n++] = 0x40;
		n += rec(b + n, 1 << 2 | 0, &d);
		b[n++] = 2; /* round: steer, forward */
		b[n++] = 3; /* region move: r -> (r + 1) mod 2 */
		b[n++] = 1;
		put("frame_path", "hop-limit-after-move", b, n);
	}

	/* Raw frames through the workers: ARP and ICMP answered in place, a
	 * UDP frame with a zero IPv4 checksum that the harness fixes (ctrl bit
	 * 2), one to a closed port. */
	{
		uint8_t f[256];
		uint32_t len;

		n = 0;
		b[n++] = 0x1d;
		b[n++] = 0x10;
		len = arp_request(f);
		b[n++] = 1, b[n++] = 0, b[n++] = (uint8_t)len, b[n++] = 0;
		memcpy(b + n, f, len), n += len;
		len = icmp_echo(f, 4);
		b[n++] = 1, b[n++] = 1, b[n++] = (uint8_t)len, b[n++] = 0;
		memcpy(b + n, f, len), n += len;
		len = udp_frame(f, 9001, &ex_put);
		f[NETIO_ETH_HDR + 10] = f[NETIO_ETH_HDR + 11] = 0;
		b[n++] = 1, b[n++] = 4 | 2, b[n++] = (uint8_t)len, b[n++] = 0;
		memcpy(b + n, f, len), n += len;
		len = udp_frame(f, 9100, &ex_put);
		b[n++] = 1, b[n++] = 0, b[n++] = (uint8_t)len, b[n++] = 0;
		memcpy(b + n, f, len), n += len;
		put("frame_path", "raw-arp-icmp-udp", b, n);
	}

	/* Split reply, then NEED_TOKEN: three 700-byte values on worker 0, read
	 * back in one datagram (answers of 3 x 712 bytes need two replies);
	 * with validation on, the same read without a token is withheld. */
	memset(v700, 'v', 700);
	for (unsigned pass = 0; pass < 2; pass++) {
		const char *k[3] = {key_owned_by("big", 2, 0), key_owned_by("big1", 2, 0),
				    key_owned_by("big2", 2, 0)};
		const struct ent gets[] = {{PROTO_OP_GET, 0, 0, 0, k[0], NULL},
					   {PROTO_OP_GET, 0, 0, 0, k[1], NULL},
					   {PROTO_OP_GET, 0, 0, 0, k[2], NULL}};

		n = 0;
		b[n++] = pass ? 0x1e : 0x1c; /* 2 workers, validation off/on */
		b[n++] = 0xc0;               /* the largest arena */
		for (unsigned i = 0; i < 3; i++) {
			const struct ent put1[] = {{PROTO_OP_PUT, 0, 0, 0, k[i], v700}};

			build(&d, 0, 0, put1, 1);
			n += rec(b + n, 0, &d);
		}
		b[n++] = 2;
		build(&d, 0, 0, gets, 3);
		n += rec(b + n, 0, &d);
		put("frame_path", pass ? "need-token-withheld" : "split-reply", b, n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 64;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
		perror(out_dir);
		return 1;
	}
	make_datagrams();
	seeds_proto();
	seeds_netio();
	seeds_shard();
	seeds_frame_path();
	seeds_frame_path_deep();
	return 0;
}
