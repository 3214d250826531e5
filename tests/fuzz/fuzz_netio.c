/* fuzz_netio.c - frame classification (lib/netio.c) against its contract.
 *
 * DESIGN: the input's first byte is a control byte, the rest one Ethernet
 * frame. Control bit 0 makes the harness write a correct IPv4 header
 * checksum into the frame, bit 1 a correct ICMP checksum, before the frame
 * is classified: a fuzzer cannot guess a 16-bit checksum, and without these
 * almost every mutation would stop at the checksum tests. The frame sits in
 * a buffer of exactly its length, so a sanitizer build catches any read past
 * the end. Self: 02:00:00:00:00:01, 10.0.0.1, UDP ports 9000..9003.
 *
 * Invariants of the code as it stands (always checked):
 *   - the verdict is a known one; a drop and a NETIO_UDP leave the frame
 *     untouched (only replies are written in place);
 *   - NETIO_UDP: the payload lies inside the frame, right after the IPv4
 *     header (with its options) and the UDP header; the port is one of ours,
 *     the destination is our address, the header checksum verifies, it is
 *     not a fragment, and the addresses and ports reported are the frame's;
 *     the reply netio_write_udp_reply() builds for it goes from our MAC to
 *     the sender's and classifies, at the client, as a datagram with the
 *     same payload and a verifying UDP sum;
 *   - NETIO_REPLY_IN_PLACE: the reply is no longer than the frame (no
 *     growth); an ARP reply answers a request for our address, from our MAC
 *     and address to the requester's; an ICMP echo reply answers an echo
 *     request to our address, carries identifier, sequence and data
 *     unchanged, and its IPv4 and ICMP checksums verify (checked with an
 *     independent RFC 1071 sum here, and with netio_ipv4_checksum());
 *   - netio_ipv4_checksum() and netio_udp_checksum() agree with that
 *     independent sum over arbitrary bytes.
 *
 * Invariants of the hardened rules (netio.h, "The network is assumed
 * hostile"), checked the same way:
 *   - nothing is accepted or answered unless the Ethernet destination is our
 *     MAC or broadcast, and never from a group (multicast/broadcast) source
 *     MAC: no reply goes to a group address;
 *   - nothing is accepted or answered from a martian source: 0/8, 127/8,
 *     224/4, 240/4 (broadcast included) or our own address; for ARP, the
 *     sender IP, and the sender MAC must be the Ethernet source;
 *   - an ARP reply is exactly 42 bytes (no padding echoed);
 *   - an echo reply has a plain 20-byte IPv4 header (no options echoed) and
 *     fits the MTU (1500);
 *   - no accepted UDP payload exceeds 1472 bytes, none comes from port 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "netio.h"

static const struct netio_self fuzz_self = {
	.mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
	.ip_be = 0x0100000a, /* 10.0.0.1 in network byte order on little-endian */
	.udp_port_base = 9000,
	.udp_port_count = 4,
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 over big-endian 16-bit words, an odd last byte as the high
 * half of a word. */
static uint32_t ref_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += be16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Fold and complement: the value to store in the field, 0 over correct bytes. */
static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ref_checksum(const uint8_t *p, uint32_t len)
{
	return ref_fold(ref_add(0, p, len));
}

static bool ip_is_martian(const uint8_t *ip4)
{
	return ip4[0] == 0 || ip4[0] == 127 || ip4[0] >= 224 ||
	       memcmp(ip4, &fuzz_self.ip_be, 4) == 0;
}

/* Our MAC or broadcast: the only Ethernet destinations we accept. */
static bool eth_dst_ok(const uint8_t *mac)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	return memcmp(mac, fuzz_self.mac, 6) == 0 || memcmp(mac, bcast, 6) == 0;
}

static void fix_checksums(uint8_t ctl, uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + NETIO_ETH_HDR;
	uint32_t ihl, total;

	if (len < NETIO_ETH_HDR + 20 || be16(f + 12) != 0x0800)
		return;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || NETIO_ETH_HDR + ihl > len)
		return;
	total = be16(ip + 2);
	if ((ctl & 2) && ip[9] == 1 && total >= ihl + 8 && NETIO_ETH_HDR + total <= len) {
		uint8_t *icmp = ip + ihl;

		icmp[2] = icmp[3] = 0;
		uint16_t c = ref_checksum(icmp, total - ihl);
		icmp[2] = (uint8_t)(c >> 8);
		icmp[3] = (uint8_t)c;
	}
	if (ctl & 1) {
		ip[10] = ip[11] = 0;
		uint16_t c = ref_checksum(ip, ihl);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	}
}

/* netio's checksum helpers against the reference, over any bytes. */
static void check_checksum_helpers(const uint8_t *p, uint32_t len)
{
	uint32_t n = len < 60 ? len : 60;

	FUZZ_CHECK(netio_ipv4_checksum(p, n) == ref_checksum(p, n),
		   "netio_ipv4_checksum over %u bytes: %#x, RFC 1071 says %#x", n,
		   netio_ipv4_checksum(p, n), ref_checksum(p, n));
	if (len >= 28) {
		uint32_t udp_len = len - 20;
		uint32_t sum = ref_add(0, p + 12, 8) + 17 + udp_len;

		if (udp_len <= 0xffff)
			FUZZ_CHECK(netio_udp_checksum(p, p + 20, udp_len) ==
					   ref_fold(ref_add(sum, p + 20, udp_len)),
				   "netio_udp_checksum disagrees with RFC 768/1071");
	}
}

static void check_udp(const uint8_t *f, uint32_t len, const struct netio_udp *u)
{
	const uint8_t *ip = f + NETIO_ETH_HDR;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	struct netio_self client;
	struct netio_udp cu;
	uint8_t *reply;
	uint32_t reply_len, rl = 0;

	FUZZ_CHECK(be16(f + 12) == 0x0800, "UDP verdict for ethertype %#x", be16(f + 12));
	FUZZ_CHECK(u->payload_off == NETIO_ETH_HDR + ihl + NETIO_UDP_HDR,
		   "payload_off %u, headers end at %u", u->payload_off, NETIO_ETH_HDR + ihl + 8);
	FUZZ_CHECK(u->payload_off >= NETIO_UDP_HEADROOM && u->payload_off <= len &&
			   u->payload_len <= len - u->payload_off,
		   "payload [%u, +%u) outside a %u-byte frame", u->payload_off, u->payload_len, len);
	FUZZ_CHECK((ip[0] >> 4) == 4 && ihl >= 20 && ref_checksum(ip, ihl) == 0,
		   "accepted an IPv4 header that is not valid");
	FUZZ_CHECK(ip[9] == 17 && (be16(ip + 6) & 0x3fff) == 0, "accepted a non-UDP or fragment");
	FUZZ_CHECK(be16(ip + 2) == ihl + NETIO_UDP_HDR + u->payload_len &&
			   be16(ip + ihl + 4) == NETIO_UDP_HDR + u->payload_len,
		   "payload_len %u disagrees with the IPv4/UDP lengths", u->payload_len);
	FUZZ_CHECK(u->dst_port >= 9000 && u->dst_port < 9004 && u->dst_port == be16(ip + ihl + 2) &&
			   u->src_port == be16(ip + ihl),
		   "ports reported %u -> %u", u->src_port, u->dst_port);
	FUZZ_CHECK(u->dst_ip_be == fuzz_self.ip_be && memcmp(ip + 16, &u->dst_ip_be, 4) == 0 &&
			   memcmp(ip + 12, &u->src_ip_be, 4) == 0,
		   "addresses reported are not the frame's, or not ours");
	/* The reply goes from our own MAC (udp->dst_mac), even for a datagram
	 * that came to the broadcast address, back to the frame's source. */
	FUZZ_CHECK(memcmp(u->dst_mac, fuzz_self.mac, 6) == 0 && memcmp(u->src_mac, f + 6, 6) == 0,
		   "MACs reported are not ours and the frame's source");
	FUZZ_CHECK(!ip_is_martian(ip + 12), "accepted UDP from %u.%u.%u.%u",
		 ip[12], ip[13], ip[14], ip[15]);
	FUZZ_CHECK(eth_dst_ok(f), "accepted UDP sent to another MAC");
	FUZZ_CHECK(u->src_port != 0, "accepted UDP from port 0");
	FUZZ_CHECK((u->src_mac[0] & 1) == 0,
		 "accepted UDP from group MAC %02x:..., the reply would go to a group", u->src_mac[0]);
	FUZZ_CHECK(u->payload_len <= 1472, "accepted a %u-byte UDP payload",
		 u->payload_len);

	/* The reply as the worker builds it, checked where the client is. */
	reply = malloc(NETIO_UDP_HEADROOM + u->payload_len);
	FUZZ_CHECK(reply != NULL, "out of memory");
	memcpy(reply + NETIO_UDP_HEADROOM, f + u->payload_off, u->payload_len);
	reply_len = netio_write_udp_reply(reply, u, u->payload_len, true);
	FUZZ_CHECK(reply_len == NETIO_UDP_HEADROOM + u->payload_len, "reply frame length %u",
		   reply_len);
	FUZZ_CHECK(memcmp(reply, u->src_mac, 6) == 0 && memcmp(reply + 6, fuzz_self.mac, 6) == 0,
		   "the reply goes from %02x:%02x:%02x:%02x:%02x:%02x, not from our MAC to the sender",
		   reply[6], reply[7], reply[8], reply[9], reply[10], reply[11]);
	memset(&client, 0, sizeof(client)); /* mtu and udp_payload_max: the defaults */
	memcpy(client.mac, u->src_mac, 6);
	client.ip_be = u->src_ip_be;
	client.udp_port_base = u->src_port;
	client.udp_port_count = 1;
	/* The client, classifying with the same rules, accepts it. */
	{
		enum netio_verdict v = netio_classify(&client, reply, reply_len, &cu, &rl);

		FUZZ_CHECK(v == NETIO_UDP, "our reply is dropped at the client: %s",
			   netio_verdict_name(v));
		FUZZ_CHECK(cu.payload_len == u->payload_len && cu.src_port == u->dst_port &&
				   cu.src_ip_be == fuzz_self.ip_be &&
				   memcmp(reply + cu.payload_off, f + u->payload_off, u->payload_len) == 0,
			   "the reply does not carry the payload from our address and port");
	}
	FUZZ_CHECK(ref_fold(ref_add(ref_add(0, reply + 26, 8) + 17 + 8 + u->payload_len,
				    reply + 34, 8 + u->payload_len)) == 0,
		   "the reply's UDP checksum does not verify");
	free(reply);
}

static void check_arp(const uint8_t *req, const uint8_t *f, uint32_t len, uint32_t reply_len)
{
	const uint8_t *qa = req + NETIO_ETH_HDR, *ra = f + NETIO_ETH_HDR;

	FUZZ_CHECK(reply_len >= 42, "ARP reply of %u bytes", reply_len);
	FUZZ_CHECK(be16(qa) == 1 && be16(qa + 2) == 0x0800 && qa[4] == 6 && qa[5] == 4 &&
			   be16(qa + 6) == 1 && memcmp(qa + 24, &fuzz_self.ip_be, 4) == 0,
		   "answered an ARP that is not a request for our address");
	FUZZ_CHECK(be16(ra + 6) == 2 && memcmp(ra, qa, 6) == 0, "ARP reply header");
	FUZZ_CHECK(memcmp(ra + 8, fuzz_self.mac, 6) == 0 && memcmp(ra + 14, &fuzz_self.ip_be, 4) == 0,
		   "ARP reply does not give our MAC and address");
	FUZZ_CHECK(memcmp(ra + 18, qa + 8, 6) == 0 && memcmp(ra + 24, qa + 14, 4) == 0,
		   "ARP reply not addressed to the requester");
	FUZZ_CHECK(memcmp(f, qa + 8, 6) == 0 && memcmp(f + 6, fuzz_self.mac, 6) == 0,
		   "ARP reply's Ethernet addresses");
	FUZZ_CHECK(memcmp(qa + 8, req + 6, 6) == 0 && !ip_is_martian(qa + 14),
		   "answered an ARP whose sender is not the frame's source, or martian");
	FUZZ_CHECK(reply_len == 42, "ARP reply of %u bytes for a %u-byte frame",
		 reply_len, len);
}

static void check_icmp(const uint8_t *req, const uint8_t *f, uint32_t reply_len)
{
	const uint8_t *qip = req + NETIO_ETH_HDR, *rip = f + NETIO_ETH_HDR;
	uint32_t qihl = (uint32_t)(qip[0] & 0x0f) * 4, rihl = (uint32_t)(rip[0] & 0x0f) * 4;
	uint32_t icmp_len = be16(qip + 2) - qihl;
	const uint8_t *ricmp = rip + rihl;

	FUZZ_CHECK(qip[9] == 1 && memcmp(qip + 16, &fuzz_self.ip_be, 4) == 0,
		   "answered an IPv4 packet that is not ICMP to us");
	FUZZ_CHECK(icmp_len >= 8 && qip[qihl] == 8 && qip[qihl + 1] == 0 &&
			   ref_checksum(qip + qihl, icmp_len) == 0,
		   "answered something other than a valid echo request");
	FUZZ_CHECK((rip[0] >> 4) == 4 && rihl >= 20 && reply_len >= NETIO_ETH_HDR + rihl,
		   "echo reply's IPv4 header");
	FUZZ_CHECK(ref_checksum(rip, rihl) == 0 && netio_ipv4_checksum(rip, rihl) == 0,
		   "echo reply's IPv4 header checksum does not verify");
	FUZZ_CHECK(NETIO_ETH_HDR + (uint32_t)be16(rip + 2) == reply_len &&
			   be16(rip + 2) == rihl + icmp_len,
		   "echo reply length %u, IPv4 total %u, ICMP %u", reply_len, be16(rip + 2),
		   icmp_len);
	FUZZ_CHECK(rip[9] == 1 && memcmp(rip + 12, &fuzz_self.ip_be, 4) == 0 &&
			   memcmp(rip + 16, qip + 12, 4) == 0,
		   "echo reply not from us to the requester");
	FUZZ_CHECK((be16(rip + 6) & 0x3fff) == 0 && rip[8] != 0, "echo reply fragment or TTL 0");
	FUZZ_CHECK(ricmp[0] == 0 && ricmp[1] == 0 && ref_checksum(ricmp, icmp_len) == 0 &&
			   netio_ipv4_checksum(ricmp, icmp_len) == 0,
		   "echo reply's ICMP header or checksum");
	FUZZ_CHECK(memcmp(ricmp + 4, qip + qihl + 4, icmp_len - 4) == 0,
		   "echo reply changed identifier, sequence or data");
	FUZZ_CHECK(memcmp(f, req + 6, 6) == 0 && memcmp(f + 6, fuzz_self.mac, 6) == 0,
		   "echo reply's Ethernet addresses");
	FUZZ_CHECK(!ip_is_martian(qip + 12), "echo reply to %u.%u.%u.%u", qip[12],
		 qip[13], qip[14], qip[15]);
	FUZZ_CHECK(be16(rip + 2) <= 1500, "echo reply of %u bytes passes the MTU", be16(rip + 2));
	FUZZ_CHECK(rihl == 20, "echo reply echoes %u bytes of IPv4 options",
		 rihl - 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netio_udp u;
	uint32_t len, reply_len = 0;
	uint8_t *f, *orig;
	enum netio_verdict v;

	if (size < 1 || size > 9000 + 1)
		return 0;
	len = (uint32_t)size - 1;
	f = malloc(len ? len : 1);
	orig = malloc(len ? len : 1);
	FUZZ_CHECK(f != NULL && orig != NULL, "out of memory");
	memcpy(f, data + 1, len);
	fix_checksums(data[0], f, len);
	memcpy(orig, f, len);
	check_checksum_helpers(f, len);

	v = netio_classify(&fuzz_self, f, len, &u, &reply_len);
	FUZZ_CHECK(v < NETIO_VERDICT_COUNT && strcmp(netio_verdict_name(v), "?") != 0,
		   "unknown verdict %d", (int)v);
	if (v != NETIO_REPLY_IN_PLACE)
		FUZZ_CHECK(memcmp(f, orig, len) == 0, "verdict %s modified the frame",
			   netio_verdict_name(v));
	if (v == NETIO_UDP) {
		check_udp(f, len, &u);
	} else if (v == NETIO_REPLY_IN_PLACE) {
		FUZZ_CHECK(reply_len >= NETIO_ETH_HDR && reply_len <= len,
			   "reply of %u bytes for a %u-byte frame (growth)", reply_len, len);
		FUZZ_CHECK(memcmp(f + 12, orig + 12, 2) == 0, "reply changed the ethertype");
		FUZZ_CHECK(eth_dst_ok(orig), "answered a frame sent to another MAC");
		FUZZ_CHECK((f[0] & 1) == 0, "reply to group MAC %02x:%02x:...", f[0], f[1]);
		if (be16(f + 12) == 0x0806)
			check_arp(orig, f, len, reply_len);
		else
			check_icmp(orig, f, reply_len);
	}
	free(f);
	free(orig);
	return 0;
}
