/* test_netio.c - L2-L4 handling over bytes: ARP and ICMP answered in place,
 * every drop reason produced by a crafted frame, UDP located behind IP
 * options and in front of Ethernet padding, reply headers whose checksums
 * verify by an independent computation, and a mutation test. The hostile
 * network rules of netio.h each have a test: frames for other MACs, group
 * source MACs, martian source addresses, source port 0, ARP whose sender is
 * not the frame's source or is a probe, exact-size ARP replies, echo replies
 * without the request's IP options and within the MTU, oversize datagrams.
 *
 * Checksums are checked here with a deliberately plain RFC 1071 routine
 * (16-bit big-endian words, 32-bit sum, folded), not with netio's helpers.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "netio.h"
#include "we_test.h"

#define FRAME_CAP 2048
#define JUMBO_CAP 9100 /* a 9000-byte MTU frame and then some */

static const uint8_t self_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
#define SELF_IP "10.0.0.1"
#define PEER_IP "10.0.0.2"
#define PORT_BASE 9000
#define PORT_COUNT 4
#define PEER_PORT 40000

static uint32_t ip_be(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct netio_self make_self(void)
{
	struct netio_self s;

	memset(&s, 0, sizeof(s)); /* mtu and udp_payload_max: the defaults */
	memcpy(s.mac, self_mac, 6);
	s.ip_be = ip_be(SELF_IP);
	s.udp_port_base = PORT_BASE;
	s.udp_port_count = PORT_COUNT;
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Addresses are kept in network order: copied, never converted. */
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Plain ones' complement sum of big-endian 16-bit words, folded (not
 * complemented). A correct checksum makes it 0xffff. */
static uint16_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t ref_checksum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_sum(0, p, len);
}

/* Ones' complement sum over pseudo-header + UDP header + payload. */
static uint16_t ref_udp_sum(const uint8_t *ip, const uint8_t *udp, uint16_t udp_len)
{
	uint8_t pseudo[12];

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	wr16(pseudo + 10, udp_len);
	return ref_sum(ref_sum(0, pseudo, 12), udp, udp_len);
}

static void fix_ip_checksum(uint8_t *frame)
{
	uint8_t *ip = frame + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	wr16(ip + 10, 0);
	wr16(ip + 10, ref_checksum(ip, ihl));
}

/* Ethernet + IPv4 (options_len bytes of NOP options) + UDP + payload, with
 * `padding` zero bytes after the IP packet. Returns the frame length. */
static uint32_t build_udp(uint8_t *f, uint16_t dst_port, const void *payload, uint16_t plen,
			  unsigned options_len, unsigned padding)
{
	uint8_t *ip = f + 14;
	uint32_t ihl = 20 + options_len;
	uint8_t *udp = ip + ihl;
	uint16_t total = (uint16_t)(ihl + 8 + plen);

	memcpy(f, self_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	wr16(f + 12, 0x0800);
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	wr16(ip + 2, total);
	wr16(ip + 4, 0x1234);
	wr16(ip + 6, 0x4000);
	ip[8] = 61;
	ip[9] = 17;
	wr32(ip + 12, ip_be(PEER_IP));
	wr32(ip + 16, ip_be(SELF_IP));
	memset(ip + 20, 1, options_len); /* NOP options */
	wr16(udp, PEER_PORT);
	wr16(udp + 2, dst_port);
	wr16(udp + 4, (uint16_t)(8 + plen));
	wr16(udp + 6, 0); /* not verified on receive */
	memcpy(udp + 8, payload, plen);
	memset(udp + 8 + plen, 0, padding);
	fix_ip_checksum(f);
	return 14 + total + padding;
}

/* Ethernet + IPv4 + ICMP with data_len data bytes. options_len (0, or a
 * multiple of 4 from 8 to 40) bytes of IP options hold a loose source route
 * through 192.0.2.x, which a reply must not carry back. */
static uint32_t build_icmp_opt(uint8_t *f, uint8_t type, uint8_t code, uint16_t data_len,
			       unsigned options_len, unsigned padding)
{
	uint8_t *ip = f + 14;
	uint32_t ihl = 20 + options_len;
	uint8_t *icmp = ip + ihl;
	uint16_t total = (uint16_t)(ihl + 8 + data_len);

	memcpy(f, self_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	wr16(f + 12, 0x0800);
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | (ihl / 4));
	if (options_len) {
		ip[20] = 0x83; /* loose source and record route */
		ip[21] = (uint8_t)(options_len - 1);
		ip[22] = 4;
		for (unsigned a = 0; a < (options_len - 4) / 4; a++)
			wr32(ip + 23 + 4 * a, htonl(0xc0000200u + a + 1));
		ip[20 + options_len - 1] = 0; /* end of options */
	}
	wr16(ip + 2, total);
	wr16(ip + 4, 0x77);
	ip[8] = 64;
	ip[9] = 1;
	wr32(ip + 12, ip_be(PEER_IP));
	wr32(ip + 16, ip_be(SELF_IP));
	icmp[0] = type;
	icmp[1] = code;
	wr16(icmp + 2, 0);
	wr16(icmp + 4, 0xbeef); /* id */
	wr16(icmp + 6, 7);      /* sequence */
	for (unsigned i = 0; i < data_len; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + 3);
	wr16(icmp + 2, ref_checksum(icmp, 8u + data_len));
	memset(icmp + 8 + data_len, 0, padding);
	fix_ip_checksum(f);
	return 14 + total + padding;
}

static uint32_t build_icmp(uint8_t *f, uint8_t type, uint8_t code, uint16_t data_len,
			   unsigned padding)
{
	return build_icmp_opt(f, type, code, data_len, 0, padding);
}

static uint32_t build_arp(uint8_t *f, uint16_t oper, const char *target_ip)
{
	uint8_t *a = f + 14;

	memset(f, 0xff, 6); /* broadcast */
	memcpy(f + 6, peer_mac, 6);
	wr16(f + 12, 0x0806);
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, oper);
	memcpy(a + 8, peer_mac, 6);
	wr32(a + 14, ip_be(PEER_IP));
	memset(a + 18, 0, 6);
	wr32(a + 24, ip_be(target_ip));
	memset(f + 42, 0, 18); /* padded to the 60-byte minimum */
	return 60;
}

/* Classify a heap copy of exactly frame_len bytes (so ASan sees overreads)
 * and copy the possibly rewritten frame back. */
static enum netio_verdict classify_as(const struct netio_self *self, uint8_t *frame,
				      uint32_t frame_len, struct netio_udp *udp,
				      uint32_t *reply_len)
{
	uint8_t *copy = malloc(frame_len ? frame_len : 1);
	enum netio_verdict v;

	assert_non_null(copy);
	memcpy(copy, frame, frame_len);
	v = netio_classify(self, copy, frame_len, udp, reply_len);
	memcpy(frame, copy, frame_len);
	free(copy);
	return v;
}

static enum netio_verdict classify(uint8_t *frame, uint32_t frame_len, struct netio_udp *udp,
				   uint32_t *reply_len)
{
	struct netio_self self = make_self();

	return classify_as(&self, frame, frame_len, udp, reply_len);
}

/* Classify and expect a drop that leaves the frame as it was. */
static void expect_drop(uint8_t *f, uint32_t len, enum netio_verdict want, const char *what)
{
	uint8_t *orig = malloc(len ? len : 1);
	struct netio_udp udp;
	uint32_t reply_len = 0;
	enum netio_verdict v;

	assert_non_null(orig);
	memcpy(orig, f, len);
	v = classify(f, len, &udp, &reply_len);
	if (v != want)
		fail_msg("%s: got %s, want %s", what, netio_verdict_name(v),
			 netio_verdict_name(want));
	assert_memory_equal(f, orig, len);
	free(orig);
}

/* Overwrite the IPv4 source of a frame without IP options, checksum fixed. */
static void set_src_ip(uint8_t *f, const char *src)
{
	wr32(f + 14 + 12, ip_be(src));
	fix_ip_checksum(f);
}

/* A known header (the usual textbook example) checksums to 0xb861, and a
 * header holding its correct checksum sums to 0. */
static void test_checksum_vector(void **state)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(netio_ipv4_checksum(h, 20), 0xb861);
	assert_int_equal(ref_checksum(h, 20), 0xb861);
	wr16(h + 10, 0xb861);
	assert_int_equal(netio_ipv4_checksum(h, 20), 0);
	/* Odd lengths pad with a zero byte on the right. */
	for (uint32_t len = 1; len < 20; len++)
		assert_int_equal(netio_ipv4_checksum(h, len), ref_checksum(h, len));
}

/* An ARP request for our address becomes a correct reply in place, exactly
 * 14 + 28 bytes long: the request's padding to 60 bytes is not sent back. */
static void test_arp_request_answered(void **state)
{
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len = 0;
	uint32_t len = build_arp(f, 1, SELF_IP);
	const uint8_t *a = f + 14;

	(void)state;
	assert_int_equal(len, 60);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	assert_int_equal(reply_len, 42);
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 6, self_mac, 6);
	assert_int_equal(rd16(f + 12), 0x0806);
	assert_int_equal(rd16(a), 1);
	assert_int_equal(rd16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(rd16(a + 6), 2);
	assert_memory_equal(a + 8, self_mac, 6);
	assert_true(rd32(a + 14) == ip_be(SELF_IP));
	assert_memory_equal(a + 18, peer_mac, 6);
	assert_true(rd32(a + 24) == ip_be(PEER_IP));
}

/* ARP for another address, or an ARP reply, is ignored and left untouched. */
static void test_arp_ignored(void **state)
{
	uint8_t f[FRAME_CAP], orig[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len, len;

	(void)state;
	len = build_arp(f, 1, "10.0.0.9");
	memcpy(orig, f, len);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_DROP_ARP_IGNORED);
	assert_memory_equal(f, orig, len);
	len = build_arp(f, 2, SELF_IP);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_DROP_ARP_IGNORED);
}

/* Check an ICMP echo reply produced from build_icmp(..., data_len, ...). */
static void check_echo_reply(const uint8_t *f, uint32_t reply_len, uint16_t data_len)
{
	const uint8_t *ip = f + 14;
	const uint8_t *icmp = ip + 20;

	assert_int_equal(reply_len, 14 + 20 + 8 + data_len);
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 6, self_mac, 6);
	assert_int_equal(rd16(f + 12), 0x0800);
	assert_int_equal(ip[0], 0x45); /* no options */
	assert_int_equal(ip[9], 1);
	assert_int_equal(rd16(ip + 6) & 0x3fff, 0); /* not a fragment */
	assert_true(rd32(ip + 12) == ip_be(SELF_IP));
	assert_true(rd32(ip + 16) == ip_be(PEER_IP));
	assert_int_equal(rd16(ip + 2), 20 + 8 + data_len);
	assert_int_equal(ref_sum(0, ip, 20), 0xffff);
	assert_int_equal(icmp[0], 0);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(rd16(icmp + 4), 0xbeef);
	assert_int_equal(rd16(icmp + 6), 7);
	for (unsigned i = 0; i < data_len; i++)
		assert_int_equal(icmp[8 + i], (uint8_t)(i * 7 + 3));
	assert_int_equal(ref_sum(0, icmp, 8u + data_len), 0xffff);
}

/* ICMP echo requests (even and odd data, with Ethernet padding) get echo
 * replies whose IPv4 and ICMP checksums verify independently. */
static void test_icmp_echo_reply(void **state)
{
	static const uint16_t sizes[] = {0, 1, 7, 56, 1000, 1472};

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len = 0;
		unsigned pad = sizes[i] < 18 ? 18u - sizes[i] : 0;
		uint32_t len = build_icmp(f, 8, 0, sizes[i], pad);

		assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
		check_echo_reply(f, reply_len, sizes[i]);
	}
}

/* A UDP datagram to each of our ports is located and described. */
static void test_udp_located(void **state)
{
	(void)state;
	for (uint16_t port = PORT_BASE; port < PORT_BASE + PORT_COUNT; port++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len;
		uint32_t len = build_udp(f, port, "WE-payload", 10, 0, 0);

		assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
		assert_int_equal(udp.payload_off, 14 + 20 + 8);
		assert_int_equal(udp.payload_len, 10);
		assert_memory_equal(f + udp.payload_off, "WE-payload", 10);
		assert_int_equal(udp.dst_port, port);
		assert_int_equal(udp.src_port, PEER_PORT);
		assert_true(udp.src_ip_be == ip_be(PEER_IP));
		assert_true(udp.dst_ip_be == ip_be(SELF_IP));
		assert_memory_equal(udp.src_mac, peer_mac, 6);
		assert_memory_equal(udp.dst_mac, self_mac, 6);
	}
}

/* IP options move the UDP header; the payload is still found. */
static void test_udp_with_ip_options(void **state)
{
	(void)state;
	for (unsigned opt = 4; opt <= 40; opt += 4) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len;
		uint32_t len = build_udp(f, PORT_BASE + 1, "abcdefg", 7, opt, 0);

		assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
		assert_int_equal(udp.payload_off, 14 + 20 + opt + 8);
		assert_int_equal(udp.payload_len, 7);
		assert_memory_equal(f + udp.payload_off, "abcdefg", 7);
		assert_int_equal(udp.src_port, PEER_PORT);
	}
}

/* Ethernet padding after the IPv4 packet is not part of the payload. */
static void test_udp_ethernet_padding(void **state)
{
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len;
	uint32_t len = build_udp(f, PORT_BASE, "xy", 2, 0, 16);

	(void)state;
	assert_int_equal(len, 60);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
	assert_int_equal(udp.payload_len, 2);
	/* Non-zero trailing bytes (some NICs leave garbage) change nothing. */
	memset(f + len - 16, 0xee, 16);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
	assert_int_equal(udp.payload_len, 2);
}

/* Offsets of fields in the base frames (no IP options). */
#define IP_AT(x) (14 + (x))
#define L4_AT(x) (14 + 20 + (x))

/* A base frame with one field overwritten (big-endian, 1 or 2 bytes) and
 * perhaps cut short: the smallest change that triggers each drop reason. */
static const struct drop_case {
	const char *name;
	char base;       /* 'u': UDP "x" to PORT_BASE, 'i': ICMP echo request with
			  * 8 data bytes, 'a': ARP request for our address,
			  * 'U': UDP with 1473 payload bytes, 'I': ICMP echo
			  * request with 1473 data bytes (a 1501-byte reply) */
	uint16_t at;     /* field offset, 0 for none */
	uint8_t width;
	uint16_t value;
	bool fix_ip;     /* recompute the IPv4 checksum after the change */
	int32_t len;     /* > 0: frame length; < 0: bytes cut off; 0: as built */
	enum netio_verdict expect;
} drop_cases[] = {
	{"frame shorter than Ethernet", 'u', 0, 0, 0, false, 13, NETIO_DROP_TRUNCATED},
	{"Ethernet destination another host", 'u', 5, 1, 3, false, 0, NETIO_DROP_ETH_NOT_FOR_US},
	{"Ethernet destination multicast", 'u', 0, 1, 0x03, false, 0, NETIO_DROP_ETH_NOT_FOR_US},
	{"Ethernet source multicast", 'u', 6, 1, 0x03, false, 0, NETIO_DROP_ETH_SRC_GROUP},
	{"frame shorter than IPv4 header", 'u', 0, 0, 0, false, 33, NETIO_DROP_TRUNCATED},
	{"IHL beyond frame", 'u', IP_AT(0), 1, 0x4f, false, 54, NETIO_DROP_TRUNCATED},
	{"total length beyond frame", 'u', 0, 0, 0, false, -1, NETIO_DROP_TRUNCATED},
	{"ARP cut short", 'a', 0, 0, 0, false, 41, NETIO_DROP_TRUNCATED},
	{"VLAN tag", 'u', 12, 2, 0x8100, false, 0, NETIO_DROP_NOT_IPV4},
	{"IPv6", 'u', 12, 2, 0x86dd, false, 0, NETIO_DROP_NOT_IPV4},
	{"ARP for 10.0.0.3", 'a', 14 + 27, 1, 3, false, 0, NETIO_DROP_ARP_IGNORED},
	{"ARP reply", 'a', 14 + 6, 2, 2, false, 0, NETIO_DROP_ARP_IGNORED},
	{"ARP hardware length 8", 'a', 14 + 4, 1, 8, false, 0, NETIO_DROP_ARP_IGNORED},
	{"ARP sender MAC not the source", 'a', 14 + 13, 1, 9, false, 0, NETIO_DROP_ARP_BAD_SENDER},
	{"ARP sender 0.0.0.2 (0/8)", 'a', 14 + 14, 2, 0, false, 0, NETIO_DROP_ARP_BAD_SENDER},
	{"IP version 6", 'u', IP_AT(0), 1, 0x65, true, 0, NETIO_DROP_IP_BAD_HEADER},
	{"IHL 4", 'u', IP_AT(0), 1, 0x44, false, 0, NETIO_DROP_IP_BAD_HEADER},
	{"total length below IHL", 'u', IP_AT(2), 2, 19, true, 0, NETIO_DROP_IP_BAD_HEADER},
	{"IPv4 checksum", 'u', IP_AT(8), 1, 60, false, 0, NETIO_DROP_IP_BAD_CHECKSUM},
	{"destination 10.0.0.99", 'u', IP_AT(19), 1, 99, true, 0, NETIO_DROP_IP_NOT_FOR_US},
	{"more fragments", 'u', IP_AT(6), 2, 0x2000, true, 0, NETIO_DROP_IP_FRAGMENT},
	{"fragment offset", 'u', IP_AT(6), 2, 0x4000 | 185, true, 0, NETIO_DROP_IP_FRAGMENT},
	{"TCP", 'u', IP_AT(9), 1, 6, true, 0, NETIO_DROP_IP_PROTO},
	{"UDP from 127.0.0.2", 'u', IP_AT(12), 1, 127, true, 0, NETIO_DROP_IP_MARTIAN_SRC},
	{"ICMP from 224.0.0.2", 'i', IP_AT(12), 1, 224, true, 0, NETIO_DROP_IP_MARTIAN_SRC},
	{"ICMP echo reply", 'i', L4_AT(0), 1, 0, false, 0, NETIO_DROP_ICMP_NOT_ECHO},
	{"ICMP echo code 1", 'i', L4_AT(1), 1, 1, false, 0, NETIO_DROP_ICMP_NOT_ECHO},
	{"ICMP shorter than 8", 'i', IP_AT(2), 2, 20 + 4, true, 0, NETIO_DROP_ICMP_NOT_ECHO},
	{"ICMP checksum", 'i', L4_AT(9), 1, 0x4a, false, 0, NETIO_DROP_ICMP_NOT_ECHO},
	{"ICMP reply above 1500", 'I', 0, 0, 0, false, 0, NETIO_DROP_ICMP_TOO_LARGE},
	{"UDP length beyond IP", 'u', L4_AT(4), 2, 8 + 4, false, 0, NETIO_DROP_UDP_BAD_LENGTH},
	{"UDP length short of IP", 'u', L4_AT(4), 2, 8, false, 0, NETIO_DROP_UDP_BAD_LENGTH},
	{"UDP header cut", 'u', IP_AT(2), 2, 20 + 6, true, 0, NETIO_DROP_UDP_BAD_LENGTH},
	{"UDP source port 0", 'u', L4_AT(0), 2, 0, false, 0, NETIO_DROP_UDP_SRC_PORT_ZERO},
	{"UDP payload 1473", 'U', 0, 0, 0, false, 0, NETIO_DROP_UDP_TOO_LARGE},
	{"port below base", 'u', L4_AT(2), 2, PORT_BASE - 1, false, 0, NETIO_DROP_UDP_PORT_CLOSED},
	{"port base+count", 'u', L4_AT(2), 2, PORT_BASE + PORT_COUNT, false, 0,
	 NETIO_DROP_UDP_PORT_CLOSED},
	{"port 0", 'u', L4_AT(2), 2, 0, false, 0, NETIO_DROP_UDP_PORT_CLOSED},
	{"port 65535", 'u', L4_AT(2), 2, 65535, false, 0, NETIO_DROP_UDP_PORT_CLOSED},
};

static uint32_t make_drop_frame(uint8_t *f, const struct drop_case *dc)
{
	uint32_t len;

	static const uint8_t big[1473];

	if (dc->base == 'u')
		len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
	else if (dc->base == 'U')
		len = build_udp(f, PORT_BASE, big, sizeof(big), 0, 0);
	else if (dc->base == 'i')
		len = build_icmp(f, 8, 0, 8, 0);
	else if (dc->base == 'I')
		len = build_icmp(f, 8, 0, 1473, 0);
	else
		len = build_arp(f, 1, SELF_IP);
	if (dc->width == 1)
		f[dc->at] = (uint8_t)dc->value;
	else if (dc->width == 2)
		wr16(f + dc->at, dc->value);
	if (dc->fix_ip)
		fix_ip_checksum(f);
	if (dc->len > 0)
		len = (uint32_t)dc->len;
	else
		len = (uint32_t)((int32_t)len + dc->len);
	return len;
}

/* Each crafted frame gets its drop reason, and together the frames cover
 * every reason in NETIO_DROP_LIST. */
static void test_every_drop_reason(void **state)
{
	bool seen[NETIO_VERDICT_COUNT] = {false};

	(void)state;
	for (unsigned i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len;
		uint32_t len = make_drop_frame(f, &drop_cases[i]);
		enum netio_verdict v = classify(f, len, &udp, &reply_len);

		if (v != drop_cases[i].expect)
			fail_msg("%s: got %s, want %s", drop_cases[i].name, netio_verdict_name(v),
				 netio_verdict_name(drop_cases[i].expect));
		seen[v] = true;
	}
	for (int v = NETIO_DROP_FIRST; v < NETIO_VERDICT_COUNT; v++)
		if (!seen[v])
			fail_msg("no test frame for drop reason %s",
				 netio_verdict_name((enum netio_verdict)v));
}

/* Check the Ethernet/IPv4/UDP headers of a frame built by a writer. */
static void check_udp_headers(const uint8_t *f, uint32_t frame_len, uint16_t plen,
			      bool with_checksum)
{
	const uint8_t *ip = f + 14;
	const uint8_t *udp = ip + 20;

	assert_int_equal(frame_len, 42u + plen);
	assert_int_equal(rd16(f + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(rd16(ip + 2), 28 + plen);
	assert_int_equal(rd16(ip + 4), 0);
	assert_int_equal(rd16(ip + 6), 0x4000);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 17);
	assert_int_equal(ref_sum(0, ip, 20), 0xffff);
	assert_int_equal(rd16(udp + 4), 8 + plen);
	if (with_checksum) {
		assert_int_not_equal(rd16(udp + 6), 0);
		assert_int_equal(ref_udp_sum(ip, udp, (uint16_t)(8 + plen)), 0xffff);
	} else {
		assert_int_equal(rd16(udp + 6), 0);
	}
}

/* A reply is addressed back to the sender (MACs, addresses, ports swapped),
 * and its IPv4 and UDP checksums verify by the reference computation, for
 * even and odd payloads; without a checksum the field is 0. The reply,
 * seen from the peer's side, classifies as its UDP datagram. */
static void test_write_udp_reply(void **state)
{
	static const uint16_t sizes[] = {0, 1, 2, 3, 17, 1000, 1471, 1472};

	(void)state;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int csum = 0; csum <= 1; csum++) {
			uint8_t f[FRAME_CAP], out[FRAME_CAP];
			struct netio_udp req, back;
			struct netio_self peer = {.mtu = 0};
			uint32_t reply_len, len = build_udp(f, PORT_BASE + 2, "q", 1, 8, 0);
			uint16_t plen = sizes[i];

			assert_int_equal(classify(f, len, &req, &reply_len), NETIO_UDP);
			for (unsigned j = 0; j < plen; j++)
				out[NETIO_UDP_HEADROOM + j] = (uint8_t)(j * 13 + i);
			len = netio_write_udp_reply(out, &req, plen, csum);
			check_udp_headers(out, len, plen, csum);
			assert_memory_equal(out, peer_mac, 6);
			assert_memory_equal(out + 6, self_mac, 6);
			assert_true(rd32(out + 26) == ip_be(SELF_IP));
			assert_true(rd32(out + 30) == ip_be(PEER_IP));
			assert_int_equal(rd16(out + 34), PORT_BASE + 2);
			assert_int_equal(rd16(out + 36), PEER_PORT);

			memcpy(peer.mac, peer_mac, 6);
			peer.ip_be = ip_be(PEER_IP);
			peer.udp_port_base = PEER_PORT;
			peer.udp_port_count = 1;
			assert_int_equal(netio_classify(&peer, out, len, &back, &reply_len),
					 NETIO_UDP);
			assert_int_equal(back.payload_off, NETIO_UDP_HEADROOM);
			assert_int_equal(back.payload_len, plen);
			assert_int_equal(back.src_port, PORT_BASE + 2);
		}
	}
}

/* A reply written over the request's own frame is correctly addressed
 * even when its netio_udp lies in the header bytes being overwritten. */
static void test_write_udp_reply_in_place(void **state)
{
	union {
		uint8_t b[FRAME_CAP];
		uint32_t align;
	} u;
	uint8_t *f = u.b;
	struct netio_udp local, *req = (struct netio_udp *)(void *)(f + 4);
	uint32_t reply_len, len = build_udp(f, PORT_BASE, "ping!", 5, 0, 0);

	(void)state;
	assert_true(sizeof(*req) <= NETIO_UDP_HEADROOM - 4);
	assert_int_equal(classify(f, len, &local, &reply_len), NETIO_UDP);
	*req = local;
	len = netio_write_udp_reply(f, req, 5, true);
	check_udp_headers(f, len, 5, true);
	assert_memory_equal(f, peer_mac, 6);
	assert_memory_equal(f + 6, self_mac, 6);
	assert_true(rd32(f + 30) == ip_be(PEER_IP));
	assert_memory_equal(f + NETIO_UDP_HEADROOM, "ping!", 5);
	assert_int_equal(rd16(f + 34), PORT_BASE);
	assert_int_equal(rd16(f + 36), PEER_PORT);
}

/* A copy keeps the original addressing (nothing swapped) and is accepted
 * again by the same classifier, on the same port. */
static void test_write_udp_copy(void **state)
{
	uint8_t f[FRAME_CAP], out[FRAME_CAP];
	struct netio_udp req, again;
	uint32_t reply_len, len = build_udp(f, PORT_BASE + 3, "fwd", 3, 12, 0);

	(void)state;
	assert_int_equal(classify(f, len, &req, &reply_len), NETIO_UDP);
	memcpy(out + NETIO_UDP_HEADROOM, "forwarded", 9);
	len = netio_write_udp_copy(out, &req, 9, true);
	check_udp_headers(out, len, 9, true);
	assert_memory_equal(out, self_mac, 6);
	assert_memory_equal(out + 6, peer_mac, 6);
	assert_int_equal(classify(out, len, &again, &reply_len), NETIO_UDP);
	assert_int_equal(again.src_port, PEER_PORT);
	assert_int_equal(again.dst_port, PORT_BASE + 3);
	assert_true(again.src_ip_be == req.src_ip_be);
	assert_true(again.dst_ip_be == req.dst_ip_be);
	assert_memory_equal(out + again.payload_off, "forwarded", 9);
}

/* A datagram whose checksum computes to 0 is sent with 0xffff (0 would
 * mean "no checksum"), and still verifies. */
static void test_udp_checksum_zero_sent_as_ffff(void **state)
{
	uint8_t f[FRAME_CAP], out[FRAME_CAP];
	struct netio_udp req;
	uint32_t reply_len, len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
	uint16_t c;

	(void)state;
	assert_int_equal(classify(f, len, &req, &reply_len), NETIO_UDP);
	memset(out + NETIO_UDP_HEADROOM, 0, 2);
	len = netio_write_udp_reply(out, &req, 2, true);
	c = rd16(out + 40);
	/* Putting the checksum itself in the payload makes the sum 0xffff,
	 * whose complement is 0. */
	wr16(out + NETIO_UDP_HEADROOM, c);
	len = netio_write_udp_reply(out, &req, 2, true);
	assert_int_equal(rd16(out + 40), 0xffff);
	check_udp_headers(out, len, 2, true);
	assert_int_equal(netio_udp_checksum(out + 14, out + 34, 10), 0);
}

/* ---- the hostile network (the rules in netio.h) --------------------------- */

/* A frame for another host's MAC or for a group (what a promiscuous port
 * delivers) is dropped whatever it carries, and left as it was. A MAC that
 * differs from ours in any one byte, in either half of the comparison, is
 * another host's; so is an address one bit short of broadcast. */
static void test_eth_destination_not_ours(void **state)
{
	static const uint8_t others[][6] = {
		{0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, /* byte 0, group bit set */
		{0x02, 0x00, 0x00, 0x80, 0x00, 0x01}, /* byte 3 */
		{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}, /* byte 4 */
		{0x02, 0x00, 0x00, 0x00, 0x00, 0x81}, /* byte 5 */
		{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, /* IPv4 multicast */
		{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, /* IPv6 multicast */
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe},
		{0xff, 0xff, 0xff, 0x7f, 0xff, 0xff},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		uint8_t f[FRAME_CAP];
		char what[64];
		uint32_t len;

		snprintf(what, sizeof(what), "UDP to MAC #%u", i);
		len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
		memcpy(f, others[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_NOT_FOR_US, what);
		snprintf(what, sizeof(what), "ICMP to MAC #%u", i);
		len = build_icmp(f, 8, 0, 8, 0);
		memcpy(f, others[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_NOT_FOR_US, what);
		snprintf(what, sizeof(what), "ARP to MAC #%u", i);
		len = build_arp(f, 1, SELF_IP);
		memcpy(f, others[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_NOT_FOR_US, what);
	}
}

/* Our MAC and broadcast are both accepted, for every kind of frame: a UDP
 * datagram or echo request sent to broadcast is served (the answer goes to
 * the unicast source), and an ARP request sent unicast to our MAC (a
 * neighbour refreshing its cache) is answered like a broadcast one. */
static void test_eth_destination_ours_or_broadcast(void **state)
{
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len = 0, len;

	(void)state;
	len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
	memset(f, 0xff, 6);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
	assert_memory_equal(udp.src_mac, peer_mac, 6);

	len = build_icmp(f, 8, 0, 8, 0);
	memset(f, 0xff, 6);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	check_echo_reply(f, reply_len, 8);

	len = build_arp(f, 1, SELF_IP);
	memcpy(f, self_mac, 6);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	assert_int_equal(reply_len, 42);
	assert_memory_equal(f, peer_mac, 6);
}

/* No answer is ever sent to a group address: a frame whose Ethernet source
 * has the group bit set (broadcast, IPv4 or IPv6 multicast, any odd first
 * octet) is dropped, UDP, ICMP or ARP, and left as it was. For ARP the
 * sender hardware address is set to the same group, so only the group rule
 * can refuse it. (peer_mac, 02:..., is a locally administered unicast
 * address, accepted by every other test.) */
static void test_eth_source_group(void **state)
{
	static const uint8_t groups[][6] = {
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
		{0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
		{0x03, 0x00, 0x00, 0x00, 0x00, 0x02},
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		uint8_t f[FRAME_CAP];
		char what[64];
		uint32_t len;

		snprintf(what, sizeof(what), "UDP from group MAC #%u", i);
		len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
		memcpy(f + 6, groups[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_SRC_GROUP, what);
		snprintf(what, sizeof(what), "ICMP from group MAC #%u", i);
		len = build_icmp(f, 8, 0, 8, 0);
		memcpy(f + 6, groups[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_SRC_GROUP, what);
		snprintf(what, sizeof(what), "ARP from group MAC #%u", i);
		len = build_arp(f, 1, SELF_IP);
		memcpy(f + 6, groups[i], 6);
		memcpy(f + 14 + 8, groups[i], 6);
		expect_drop(f, len, NETIO_DROP_ETH_SRC_GROUP, what);
	}
}

static const char *const martian_ips[] = {
	"0.0.0.0",   "0.255.255.255",   "127.0.0.1",       "127.255.255.255", "224.0.0.1",
	"224.0.0.0", "239.255.255.255", "240.0.0.1",       "254.1.2.3",       "255.255.255.255",
	SELF_IP,
};
/* The neighbours of each martian range, and another host on our subnet. */
static const char *const sane_ips[] = {
	"1.0.0.0", "126.255.255.255", "128.0.0.0", "223.255.255.255", "10.0.0.3",
};

/* UDP and ICMP from a martian source (0/8, 127/8, multicast, 240/4 with the
 * limited broadcast, our own address) are dropped unanswered; the addresses
 * just outside each range are served. */
static void test_martian_sources(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(martian_ips) / sizeof(martian_ips[0]); i++) {
		uint8_t f[FRAME_CAP];
		char what[64];
		uint32_t len;

		snprintf(what, sizeof(what), "UDP from %s", martian_ips[i]);
		len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
		set_src_ip(f, martian_ips[i]);
		expect_drop(f, len, NETIO_DROP_IP_MARTIAN_SRC, what);
		snprintf(what, sizeof(what), "ICMP from %s", martian_ips[i]);
		len = build_icmp(f, 8, 0, 8, 0);
		set_src_ip(f, martian_ips[i]);
		expect_drop(f, len, NETIO_DROP_IP_MARTIAN_SRC, what);
	}
	for (unsigned i = 0; i < sizeof(sane_ips) / sizeof(sane_ips[0]); i++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len = 0, len;

		len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
		set_src_ip(f, sane_ips[i]);
		assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
		assert_true(udp.src_ip_be == ip_be(sane_ips[i]));
		len = build_icmp(f, 8, 0, 8, 0);
		set_src_ip(f, sane_ips[i]);
		assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
		assert_true(rd32(f + 14 + 16) == ip_be(sane_ips[i]));
	}
}

/* A datagram from UDP source port 0 has nowhere to be answered: dropped,
 * also behind IP options; source port 1 is served. */
static void test_udp_source_port_zero(void **state)
{
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len, len;

	(void)state;
	len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
	wr16(f + 34, 0);
	expect_drop(f, len, NETIO_DROP_UDP_SRC_PORT_ZERO, "source port 0");
	len = build_udp(f, PORT_BASE, "x", 1, 8, 0);
	wr16(f + 34 + 8, 0);
	expect_drop(f, len, NETIO_DROP_UDP_SRC_PORT_ZERO, "source port 0 behind options");
	len = build_udp(f, PORT_BASE, "x", 1, 0, 0);
	wr16(f + 34, 1);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
	assert_int_equal(udp.src_port, 1);
}

/* ARP is answered only to the station that asks: a request whose sender
 * hardware address is not its Ethernet source (it would have us teach a
 * third host's cache, or answer to an address the sender made up) is
 * dropped and left as it was. When both name the same unicast station, the
 * reply goes there. */
static void test_arp_sender_mac_must_be_source(void **state)
{
	static const uint8_t third[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len = 0, len;

	(void)state;
	len = build_arp(f, 1, SELF_IP);
	memcpy(f + 14 + 8, third, 6);
	expect_drop(f, len, NETIO_DROP_ARP_BAD_SENDER, "sender MAC a third host");
	len = build_arp(f, 1, SELF_IP);
	memcpy(f + 6, third, 6);
	expect_drop(f, len, NETIO_DROP_ARP_BAD_SENDER, "Ethernet source a third host");
	len = build_arp(f, 1, SELF_IP);
	f[14 + 8 + 5] ^= 0x01; /* the 16-bit half of the comparison */
	expect_drop(f, len, NETIO_DROP_ARP_BAD_SENDER, "sender MAC last byte");

	len = build_arp(f, 1, SELF_IP);
	memcpy(f + 6, third, 6);
	memcpy(f + 14 + 8, third, 6);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	assert_memory_equal(f, third, 6);
	assert_memory_equal(f + 14 + 18, third, 6);
}

/* ARP requests from a martian sender address get no answer: RFC 5227 probes
 * (sender 0.0.0.0), loopback, multicast, the limited broadcast, our own
 * address. Another host of the subnet is answered, at its address. */
static void test_arp_martian_sender(void **state)
{
	uint8_t f[FRAME_CAP];
	struct netio_udp udp;
	uint32_t reply_len = 0, len;

	(void)state;
	for (unsigned i = 0; i < sizeof(martian_ips) / sizeof(martian_ips[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "ARP from %s", martian_ips[i]);
		len = build_arp(f, 1, SELF_IP);
		wr32(f + 14 + 14, ip_be(martian_ips[i]));
		expect_drop(f, len, NETIO_DROP_ARP_BAD_SENDER, what);
	}
	len = build_arp(f, 1, SELF_IP);
	wr32(f + 14 + 14, ip_be("10.0.0.3"));
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	assert_true(rd32(f + 14 + 24) == ip_be("10.0.0.3"));
}

/* The ARP reply is exactly 42 bytes whatever followed the request: nothing
 * of a request's padding or trailing garbage is sent back, and a request of
 * exactly 42 bytes (no padding, as memif delivers it) is answered too. */
static void test_arp_reply_exact_size(void **state)
{
	static const uint32_t lens[] = {42, 43, 60, 1000};

	(void)state;
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len = 0;

		build_arp(f, 1, SELF_IP);
		memset(f + 42, 0xa5, sizeof(f) - 42);
		assert_int_equal(classify(f, lens[i], &udp, &reply_len), NETIO_REPLY_IN_PLACE);
		assert_int_equal(reply_len, 42);
		assert_int_equal(rd16(f + 14 + 6), 2);
		assert_memory_equal(f, peer_mac, 6);
	}
}

/* An echo request with IP options (a loose source route) is answered with a
 * plain 20-byte IPv4 header: the route is not sent back, the ICMP message
 * follows the 20-byte header, the reply is that much shorter, and both
 * checksums verify. */
static void test_icmp_echo_options_not_echoed(void **state)
{
	static const unsigned options[] = {8, 12, 20, 40};
	static const uint16_t sizes[] = {0, 1, 56, 1000};

	(void)state;
	for (unsigned o = 0; o < sizeof(options) / sizeof(options[0]); o++) {
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint8_t f[FRAME_CAP];
			struct netio_udp udp;
			uint32_t reply_len = 0;
			uint32_t len = build_icmp_opt(f, 8, 0, sizes[i], options[o], 0);

			assert_int_equal(len, 14 + 20 + options[o] + 8 + sizes[i]);
			assert_int_equal(classify(f, len, &udp, &reply_len),
					 NETIO_REPLY_IN_PLACE);
			check_echo_reply(f, reply_len, sizes[i]);
		}
	}
}

/* An echo reply never exceeds the MTU. Default 1500: a 1472-byte echo is
 * answered, 1473 bytes dropped, a jumbo echo dropped. A configured MTU moves
 * the limit both ways. The limit is on the reply, which drops the options,
 * so a 1540-byte request with 40 bytes of options gets its 1500-byte reply. */
static void test_icmp_echo_mtu(void **state)
{
	struct netio_self self = make_self();
	uint8_t *f = malloc(JUMBO_CAP);
	struct netio_udp udp;
	uint32_t reply_len = 0, len;

	(void)state;
	assert_non_null(f);
	len = build_icmp(f, 8, 0, 1473, 0);
	expect_drop(f, len, NETIO_DROP_ICMP_TOO_LARGE, "1473 bytes, default MTU");
	len = build_icmp(f, 8, 0, 8000, 0);
	expect_drop(f, len, NETIO_DROP_ICMP_TOO_LARGE, "8000 bytes, default MTU");
	len = build_icmp_opt(f, 8, 0, 1472, 40, 0);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	check_echo_reply(f, reply_len, 1472);

	self.mtu = 576;
	len = build_icmp(f, 8, 0, 576 - 28, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	check_echo_reply(f, reply_len, 576 - 28);
	len = build_icmp(f, 8, 0, 576 - 27, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len),
			 NETIO_DROP_ICMP_TOO_LARGE);

	self.mtu = 9000;
	len = build_icmp(f, 8, 0, 8000, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len), NETIO_REPLY_IN_PLACE);
	check_echo_reply(f, reply_len, 8000);
	free(f);
}

/* The largest accepted UDP payload is the protocol's 1472 bytes by default,
 * also when a jumbo frame (9000-byte MTU) or a datagram the kernel
 * reassembled brings more; udp_payload_max moves the limit both ways. */
static void test_udp_payload_max(void **state)
{
	struct netio_self self = make_self();
	uint8_t *f = malloc(JUMBO_CAP), *payload = malloc(8972);
	struct netio_udp udp;
	uint32_t reply_len, len;

	(void)state;
	assert_non_null(f);
	assert_non_null(payload);
	for (unsigned i = 0; i < 8972; i++)
		payload[i] = (uint8_t)(i * 31 + 5);
	len = build_udp(f, PORT_BASE, payload, 1472, 0, 0);
	assert_int_equal(classify(f, len, &udp, &reply_len), NETIO_UDP);
	assert_int_equal(udp.payload_len, 1472);
	len = build_udp(f, PORT_BASE, payload, 1473, 0, 0);
	expect_drop(f, len, NETIO_DROP_UDP_TOO_LARGE, "1473 bytes");
	len = build_udp(f, PORT_BASE, payload, 1473, 40, 0);
	expect_drop(f, len, NETIO_DROP_UDP_TOO_LARGE, "1473 bytes behind options");
	len = build_udp(f, PORT_BASE, payload, 8972, 0, 0);
	expect_drop(f, len, NETIO_DROP_UDP_TOO_LARGE, "8972 bytes (jumbo)");

	self.udp_payload_max = 100;
	len = build_udp(f, PORT_BASE, payload, 100, 0, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len), NETIO_UDP);
	len = build_udp(f, PORT_BASE, payload, 101, 0, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len), NETIO_DROP_UDP_TOO_LARGE);

	self.udp_payload_max = 8972;
	len = build_udp(f, PORT_BASE, payload, 8972, 0, 0);
	assert_int_equal(classify_as(&self, f, len, &udp, &reply_len), NETIO_UDP);
	assert_int_equal(udp.payload_len, 8972);
	assert_memory_equal(f + udp.payload_off, payload, 8972);
	free(payload);
	free(f);
}

/* Names exist for every verdict. */
static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(netio_verdict_name(NETIO_UDP), "UDP");
	assert_string_equal(netio_verdict_name(NETIO_DROP_UDP_PORT_CLOSED), "UDP_PORT_CLOSED");
	for (int v = 0; v < NETIO_VERDICT_COUNT; v++)
		assert_string_not_equal(netio_verdict_name((enum netio_verdict)v), "?");
	assert_string_equal(netio_verdict_name(NETIO_VERDICT_COUNT), "?");
}

/* Random mutations of valid UDP, ICMP and ARP frames never make the
 * classifier read past the frame (ASan), a located payload always lies
 * inside the frame and inside the IPv4 packet, and a reply is never longer
 * than the frame it replaces. */
static void test_mutation_fuzz(void **state)
{
	uint64_t seed = we_test_seed(__func__, (uint64_t)time(0));
	uint64_t rng = seed;
	unsigned hits[NETIO_VERDICT_COUNT] = {0};

	(void)state;
	for (unsigned it = 0; it < 30000; it++) {
		uint8_t f[FRAME_CAP];
		struct netio_udp udp;
		uint32_t reply_len = 0, len;
		enum netio_verdict v;

		switch (we_test_rand(&rng) % 3) {
		case 0:
			len = build_udp(f, (uint16_t)(PORT_BASE + we_test_rand(&rng) % 6),
					"payload", 7, (unsigned)(we_test_rand(&rng) % 3) * 4,
					(unsigned)(we_test_rand(&rng) % 20));
			break;
		case 1:
			len = build_icmp(f, 8, 0, (uint16_t)(we_test_rand(&rng) % 100), 0);
			break;
		default:
			len = build_arp(f, 1, SELF_IP);
			break;
		}
		for (unsigned m = we_test_rand(&rng) % 4; m; m--) {
			uint64_t r = we_test_rand(&rng);

			if (r % 3 == 0)
				len = (uint32_t)(we_test_rand(&rng) % (len + 1));
			else if (len)
				f[we_test_rand(&rng) % len] ^= (uint8_t)(1u << (r >> 8) % 8);
			if (r % 5 == 0 && len > 34)
				fix_ip_checksum(f); /* let mutations get past the checksum */
		}
		v = classify(f, len, &udp, &reply_len);
		hits[v]++;
		if (v == NETIO_UDP) {
			if (udp.payload_off + udp.payload_len > len ||
			    udp.payload_off + udp.payload_len > 14u + rd16(f + 16))
				fail_msg("WE_TEST_SEED=%llu iteration %u: payload outside frame",
					 (unsigned long long)seed, it);
			/* Only what can be answered is accepted. */
			if ((udp.src_mac[0] & 1) || udp.src_port == 0 || udp.payload_len > 1472 ||
			    f[14 + 12] == 0 || f[14 + 12] == 127 || f[14 + 12] >= 224)
				fail_msg("WE_TEST_SEED=%llu iteration %u: unanswerable datagram "
					 "accepted", (unsigned long long)seed, it);
		} else if (v == NETIO_REPLY_IN_PLACE) {
			if (reply_len > len || reply_len < 42)
				fail_msg("WE_TEST_SEED=%llu iteration %u: reply_len %u of %u",
					 (unsigned long long)seed, it, reply_len, len);
			/* Never to a group; ARP exactly 42 bytes; echo without
			 * options and within the MTU. */
			if ((f[0] & 1) ||
			    (rd16(f + 12) == 0x0806 ? reply_len != 42
						    : f[14] != 0x45 || reply_len > 14 + 1500 ||
							      reply_len != 14u + rd16(f + 16)))
				fail_msg("WE_TEST_SEED=%llu iteration %u: bad reply",
					 (unsigned long long)seed, it);
		}
	}
	if (hits[NETIO_UDP] == 0 || hits[NETIO_REPLY_IN_PLACE] == 0)
		fail_msg("WE_TEST_SEED=%llu: the mutations never left a frame valid",
			 (unsigned long long)seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vector),
		cmocka_unit_test(test_arp_request_answered),
		cmocka_unit_test(test_arp_ignored),
		cmocka_unit_test(test_icmp_echo_reply),
		cmocka_unit_test(test_udp_located),
		cmocka_unit_test(test_udp_with_ip_options),
		cmocka_unit_test(test_udp_ethernet_padding),
		cmocka_unit_test(test_every_drop_reason),
		cmocka_unit_test(test_write_udp_reply),
		cmocka_unit_test(test_write_udp_reply_in_place),
		cmocka_unit_test(test_write_udp_copy),
		cmocka_unit_test(test_udp_checksum_zero_sent_as_ffff),
		cmocka_unit_test(test_eth_destination_not_ours),
		cmocka_unit_test(test_eth_destination_ours_or_broadcast),
		cmocka_unit_test(test_eth_source_group),
		cmocka_unit_test(test_martian_sources),
		cmocka_unit_test(test_udp_source_port_zero),
		cmocka_unit_test(test_arp_sender_mac_must_be_source),
		cmocka_unit_test(test_arp_martian_sender),
		cmocka_unit_test(test_arp_reply_exact_size),
		cmocka_unit_test(test_icmp_echo_options_not_echoed),
		cmocka_unit_test(test_icmp_echo_mtu),
		cmocka_unit_test(test_udp_payload_max),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_mutation_fuzz),
	};

	return cmocka_run_group_tests_name("netio", tests, NULL, NULL);
}
