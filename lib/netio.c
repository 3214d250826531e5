/* netio.c - Ethernet, ARP, IPv4, ICMP echo and UDP over plain bytes.
 *
 * DESIGN: the worker owns the mbufs and the NIC queue; this file only looks
 * at and writes bytes, so every path is unit-tested without EAL. A received
 * frame is classified once: a UDP datagram for one of our ports (located,
 * not modified), an ARP request or ICMP echo request for our address
 * (answered in place, in the same buffer, so the worker just transmits it),
 * or a drop whose reason the worker counts. Every length the frame claims is
 * checked against the bytes actually received before it is used; a hostile
 * frame is a drop, never an assertion.
 *
 * Nothing is answered that could make us an amplifier or a reflector: no
 * reply goes to a group MAC or to a martian source address (see netio.h), an
 * ARP reply is exactly 42 bytes, an echo reply never carries the request's IP
 * options and never exceeds the MTU. The checks on the UDP path are compares
 * on words already loaded (the destination MAC as 4 + 2 bytes, the first
 * octet of the source address, the source port), so the request path pays a
 * few predictable branches for them.
 *
 * Frames may carry Ethernet padding after the IPv4 packet (minimum frame
 * size), so lengths come from the IPv4 total length, not the frame length.
 * UDP checksums are not verified on receive (peers use checksum offload and
 * hand them over unfinished); IPv4 header and ICMP checksums are.
 *
 * Checksums (RFC 1071) are summed over 32-bit words loaded in host order into
 * a 64-bit accumulator and folded at the end: the ones' complement sum is
 * independent of byte order, so the folded result only needs one swap to
 * come out in host order. All helpers return host-order values that the
 * caller stores big-endian.
 */
#include "netio.h"

#include <arpa/inet.h>
#include <string.h>

#include "we_assert.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define IPPROTO_ICMP_ 1
#define IPPROTO_UDP_ 17
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HDR 8
#define IPV4_DF 0x4000
#define IPV4_MF_OFFSET_MASK 0x3fff /* MF flag and fragment offset */
#define IPV4_TTL 64

/*
 * Ethernet (14 bytes)           ARP for IPv4 over Ethernet (28 bytes, at 14)
 *  0 dst mac[6]                  0 htype u16 (1)       6 oper u16 (1 req, 2 reply)
 *  6 src mac[6]                  2 ptype u16 (0x0800)  8 sender mac[6]
 * 12 ethertype u16               4 hlen u8 (6)        14 sender ip[4]
 *                                5 plen u8 (4)        18 target mac[6]
 *                                                     24 target ip[4]
 * IPv4 (ihl * 4 bytes)          UDP (8 bytes)          ICMP echo (8 bytes + data)
 *  0 version:4 ihl:4  1 tos      0 src port u16         0 type u8  1 code u8
 *  2 total length u16            2 dst port u16         2 checksum u16
 *  4 id u16  6 flags:3 off:13    4 length u16           4 id u16   6 seq u16
 *  8 ttl u8  9 protocol u8       6 checksum u16
 * 10 checksum u16
 * 12 src ip[4]  16 dst ip[4]  20 options
 * All fields big-endian.
 */
#define ARP_LEN 28

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t get_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Two MAC addresses equal, compared as one 32-bit and one 16-bit word. */
static inline bool mac_equal(const uint8_t *a, const uint8_t *b)
{
	return ((get_u32(a) ^ get_u32(b)) | (uint32_t)(get_u16(a + 4) ^ get_u16(b + 4))) == 0;
}

static inline bool mac_is_broadcast(const uint8_t *a)
{
	return get_u32(a) == 0xffffffffu && get_u16(a + 4) == 0xffffu;
}

/* A source address no answer may go to: 0.0.0.0/8 ("this network", and the
 * sender of RFC 5227 probes), 127.0.0.0/8 (loopback), 224.0.0.0/4
 * (multicast), 240.0.0.0/4 (reserved, with 255.255.255.255), or our own
 * address (a spoofed source would have us talk to ourselves). */
static inline bool ip_is_martian(const struct netio_self *self, uint32_t src_be)
{
	uint8_t first = (uint8_t)(ntohl(src_be) >> 24);

	/* first - 1 wraps 0 to 255: one compare covers 0/8 and 224..255. */
	return (uint8_t)(first - 1) >= 223 || first == 127 || src_be == self->ip_be;
}

/* Sum of p[0..len) as host-order 32-bit words (the tail zero-padded),
 * added to `sum`. Fold with csum_fold(). */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4)
		sum += get_u32(p);
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		sum += w;
	}
	return sum;
}

/* Fold a csum_add() sum to 16 bits, complement it and return it in host
 * order: the value to store big-endian in a checksum field. */
static uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return ntohs((uint16_t)~sum);
}

/* The Internet checksum of p[0..len): 0 over bytes that include a correct
 * checksum field. */
static uint16_t inet_checksum(const uint8_t *p, uint32_t len)
{
	return csum_fold(csum_add(0, p, len));
}

uint16_t netio_ipv4_checksum(const uint8_t *ip_hdr, uint32_t hdr_len)
{
	return inet_checksum(ip_hdr, hdr_len);
}

uint16_t netio_udp_checksum(const uint8_t *ip_hdr, const uint8_t *udp_hdr, uint32_t udp_len)
{
	/* Pseudo-header: source and destination address, zero, protocol and
	 * UDP length, the last two as big-endian 16-bit words. */
	uint64_t sum = (uint64_t)get_u32(ip_hdr + 12) + get_u32(ip_hdr + 16) +
		       htons(IPPROTO_UDP_) + htons((uint16_t)udp_len);

	return csum_fold(csum_add(sum, udp_hdr, udp_len));
}

/* ARP request for our address: turn it into the reply, in place. The
 * Ethernet source is already known to be unicast; the sender hardware address
 * must be that same address (we answer the station that asked, not one it
 * names), and the sender IP must be one we could talk to. */
static enum netio_verdict classify_arp(const struct netio_self *self, uint8_t *frame,
				       uint32_t frame_len, uint32_t *reply_len)
{
	uint8_t *arp = frame + NETIO_ETH_HDR;
	uint8_t sender_mac[6];
	uint8_t sender_ip[4];

	if (frame_len < NETIO_ETH_HDR + ARP_LEN)
		return NETIO_DROP_TRUNCATED;
	if (get_be16(arp) != 1 || get_be16(arp + 2) != ETHERTYPE_IPV4 || arp[4] != 6 ||
	    arp[5] != 4 || get_be16(arp + 6) != 1 || get_u32(arp + 24) != self->ip_be)
		return NETIO_DROP_ARP_IGNORED;
	if (!mac_equal(arp + 8, frame + 6) || ip_is_martian(self, get_u32(arp + 14)))
		return NETIO_DROP_ARP_BAD_SENDER;

	memcpy(sender_mac, arp + 8, 6);
	memcpy(sender_ip, arp + 14, 4);
	put_be16(arp + 6, 2);
	memcpy(arp + 8, self->mac, 6);
	memcpy(arp + 14, &self->ip_be, 4);
	memcpy(arp + 18, sender_mac, 6);
	memcpy(arp + 24, sender_ip, 4);
	memcpy(frame, sender_mac, 6);
	memcpy(frame + 6, self->mac, 6);
	/* Exactly the ARP packet: whatever followed it in the request (padding
	 * to 60 bytes, or anything a sender put there) is not echoed. */
	*reply_len = NETIO_ETH_HDR + ARP_LEN;
	return NETIO_REPLY_IN_PLACE;
}

/* ICMP echo request: answer in place, with a plain 20-byte IPv4 header. The
 * request's IP options are not returned (RFC 1122 3.2.2.6 would reverse a
 * source route and fill in record-route options; we honour none of them, and
 * echoing a source route back would let a sender steer our replies), so the
 * ICMP message moves up to follow the 20-byte header. A reply larger than the
 * MTU is not sent: we do not fragment. */
static enum netio_verdict classify_icmp(const struct netio_self *self, uint8_t *frame,
					uint32_t ihl_bytes, uint32_t total_len,
					uint32_t *reply_len)
{
	uint8_t *ip = frame + NETIO_ETH_HDR;
	uint8_t *icmp = ip + ihl_bytes;
	uint32_t icmp_len = total_len - ihl_bytes;
	uint32_t mtu = self->mtu ? self->mtu : NETIO_MTU_DEFAULT;
	uint32_t reply_total = NETIO_IPV4_HDR + icmp_len;
	uint8_t peer_mac[6];
	uint32_t peer_ip;

	if (icmp_len < ICMP_HDR || icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0)
		return NETIO_DROP_ICMP_NOT_ECHO;
	/* Before the checksum: a large request costs nothing to refuse. */
	if (reply_total > mtu)
		return NETIO_DROP_ICMP_TOO_LARGE;
	if (inet_checksum(icmp, icmp_len) != 0)
		return NETIO_DROP_ICMP_NOT_ECHO; /* corrupted: not a valid echo request */

	memcpy(peer_mac, frame + 6, 6);
	memcpy(frame, peer_mac, 6);
	memcpy(frame + 6, self->mac, 6);
	if (ihl_bytes != NETIO_IPV4_HDR) {
		memmove(ip + NETIO_IPV4_HDR, icmp, icmp_len);
		icmp = ip + NETIO_IPV4_HDR;
	}
	peer_ip = get_u32(ip + 12);
	ip[0] = 0x45; /* version 4, no options; ip[1], the TOS, is kept */
	put_be16(ip + 2, (uint16_t)reply_total);
	put_be16(ip + 4, 0); /* id: unused, DF is set and the reply fits the MTU */
	put_be16(ip + 6, IPV4_DF);
	ip[8] = IPV4_TTL;
	ip[9] = IPPROTO_ICMP_;
	memcpy(ip + 12, &self->ip_be, 4);
	memcpy(ip + 16, &peer_ip, 4);
	put_be16(ip + 10, 0);
	put_be16(ip + 10, netio_ipv4_checksum(ip, NETIO_IPV4_HDR));
	icmp[0] = ICMP_ECHO_REPLY;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 2, inet_checksum(icmp, icmp_len));
	/* Neither the request's options nor its Ethernet padding are sent back. */
	*reply_len = NETIO_ETH_HDR + reply_total;
	return NETIO_REPLY_IN_PLACE;
}

static enum netio_verdict classify_ipv4(const struct netio_self *self, uint8_t *frame,
					uint32_t frame_len, struct netio_udp *udp,
					uint32_t *reply_len)
{
	uint8_t *ip = frame + NETIO_ETH_HDR;
	uint32_t ip_avail = frame_len - NETIO_ETH_HDR;
	uint32_t ihl_bytes, total_len, l4_len, udp_len, port_index, payload_max, src_ip_be;
	const uint8_t *uh;
	uint8_t proto;

	if (ip_avail < NETIO_IPV4_HDR)
		return NETIO_DROP_TRUNCATED;
	if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
		return NETIO_DROP_IP_BAD_HEADER;
	ihl_bytes = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl_bytes > ip_avail)
		return NETIO_DROP_TRUNCATED;
	/* The checksum first: the fields below are only trusted once it holds. */
	if (netio_ipv4_checksum(ip, ihl_bytes) != 0)
		return NETIO_DROP_IP_BAD_CHECKSUM;
	total_len = get_be16(ip + 2);
	if (total_len < ihl_bytes)
		return NETIO_DROP_IP_BAD_HEADER;
	if (total_len > ip_avail)
		return NETIO_DROP_TRUNCATED;
	if (get_u32(ip + 16) != self->ip_be)
		return NETIO_DROP_IP_NOT_FOR_US;
	if (get_be16(ip + 6) & IPV4_MF_OFFSET_MASK)
		return NETIO_DROP_IP_FRAGMENT;

	proto = ip[9];
	if (proto != IPPROTO_UDP_ && proto != IPPROTO_ICMP_)
		return NETIO_DROP_IP_PROTO;
	src_ip_be = get_u32(ip + 12);
	if (we_unlikely(ip_is_martian(self, src_ip_be)))
		return NETIO_DROP_IP_MARTIAN_SRC;
	if (proto == IPPROTO_ICMP_)
		return classify_icmp(self, frame, ihl_bytes, total_len, reply_len);

	l4_len = total_len - ihl_bytes;
	uh = ip + ihl_bytes;
	if (l4_len < NETIO_UDP_HDR)
		return NETIO_DROP_UDP_BAD_LENGTH;
	udp_len = get_be16(uh + 4);
	if (udp_len != l4_len)
		return NETIO_DROP_UDP_BAD_LENGTH;
	udp->dst_port = get_be16(uh + 2);
	/* 32-bit difference: a port below the base wraps to a huge index. */
	port_index = (uint32_t)udp->dst_port - self->udp_port_base;
	if (port_index >= self->udp_port_count)
		return NETIO_DROP_UDP_PORT_CLOSED;
	udp->src_port = get_be16(uh);
	if (we_unlikely(udp->src_port == 0))
		return NETIO_DROP_UDP_SRC_PORT_ZERO; /* no port to answer to */
	payload_max = self->udp_payload_max ? self->udp_payload_max
					    : NETIO_UDP_PAYLOAD_MAX_DEFAULT;
	if (we_unlikely(udp_len - NETIO_UDP_HDR > payload_max))
		return NETIO_DROP_UDP_TOO_LARGE;

	udp->payload_off = NETIO_ETH_HDR + ihl_bytes + NETIO_UDP_HDR;
	udp->payload_len = udp_len - NETIO_UDP_HDR;
	udp->src_ip_be = src_ip_be;
	udp->dst_ip_be = get_u32(ip + 16);
	/* Our own MAC, not the frame's destination: a datagram that came to the
	 * broadcast address is answered from us, never from ff:ff:ff:ff:ff:ff
	 * (the reply's source is udp->dst_mac). */
	memcpy(udp->dst_mac, self->mac, 6);
	memcpy(udp->src_mac, frame + 6, 6);
	return NETIO_UDP;
}

enum netio_verdict netio_classify(const struct netio_self *self, uint8_t *frame,
				  uint32_t frame_len, struct netio_udp *udp,
				  uint32_t *reply_len)
{
	uint16_t ethertype;

	if (we_unlikely(frame_len < NETIO_ETH_HDR))
		return NETIO_DROP_TRUNCATED;
	/* Unicast to us (UDP, ICMP, a unicast ARP refresh) or broadcast (ARP
	 * requests); anything else is another host's or a group's frame, which
	 * a promiscuous port hands us too. */
	if (we_unlikely(!mac_equal(frame, self->mac)) && !mac_is_broadcast(frame))
		return NETIO_DROP_ETH_NOT_FOR_US;
	/* The group bit of the source: every answer goes to the source. */
	if (we_unlikely(frame[6] & 1))
		return NETIO_DROP_ETH_SRC_GROUP;
	ethertype = get_be16(frame + 12);
	if (we_likely(ethertype == ETHERTYPE_IPV4))
		return classify_ipv4(self, frame, frame_len, udp, reply_len);
	if (ethertype == ETHERTYPE_ARP)
		return classify_arp(self, frame, frame_len, reply_len);
	return NETIO_DROP_NOT_IPV4;
}

/* Write the three headers for a payload already at frame + headroom. */
static uint32_t write_udp(uint8_t *frame, const uint8_t dst_mac[6], const uint8_t src_mac[6],
			  uint32_t src_ip_be, uint32_t dst_ip_be, uint16_t src_port,
			  uint16_t dst_port, uint32_t payload_len, bool udp_checksum)
{
	uint8_t *ip = frame + NETIO_ETH_HDR;
	uint8_t *uh = ip + NETIO_IPV4_HDR;
	uint32_t udp_len = NETIO_UDP_HDR + payload_len;
	uint16_t csum;

	WE_ASSERT(payload_len <= 0xffff - NETIO_IPV4_HDR - NETIO_UDP_HDR);
	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	put_be16(frame + 12, ETHERTYPE_IPV4);

	ip[0] = 0x45; /* version 4, no options */
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(NETIO_IPV4_HDR + udp_len));
	put_be16(ip + 4, 0); /* id: unused, DF is set */
	put_be16(ip + 6, IPV4_DF);
	ip[8] = IPV4_TTL;
	ip[9] = IPPROTO_UDP_;
	memcpy(ip + 12, &src_ip_be, 4);
	memcpy(ip + 16, &dst_ip_be, 4);
	/* Checksums from the field values, not by reading back the bytes just
	 * stored: narrow stores followed by wider loads of the same bytes stall
	 * on store forwarding, which cost ~20 ns a reply. Each term is a header
	 * word in memory order, as csum_add() would have read it. */
	put_be16(ip + 10, csum_fold((uint64_t)htons(0x4500) +
				    htons((uint16_t)(NETIO_IPV4_HDR + udp_len)) + htons(IPV4_DF) +
				    htons((uint16_t)(IPV4_TTL << 8 | IPPROTO_UDP_)) + src_ip_be +
				    dst_ip_be));

	put_be16(uh, src_port);
	put_be16(uh + 2, dst_port);
	put_be16(uh + 4, (uint16_t)udp_len);
	put_be16(uh + 6, 0);
	if (udp_checksum) {
		/* Pseudo-header, then the UDP header (checksum 0), then the
		 * payload, which was written earlier. */
		uint64_t sum = (uint64_t)src_ip_be + dst_ip_be + htons(IPPROTO_UDP_) +
			       htons((uint16_t)udp_len) + htons(src_port) + htons(dst_port) +
			       htons((uint16_t)udp_len);

		csum = csum_fold(csum_add(sum, uh + NETIO_UDP_HDR, payload_len));
		/* 0 means "no checksum" in UDP over IPv4; RFC 768 sends 0xffff. */
		put_be16(uh + 6, csum ? csum : 0xffff);
	}
	return NETIO_UDP_HEADROOM + payload_len;
}

uint32_t netio_write_udp_reply(uint8_t *frame, const struct netio_udp *req,
			       uint32_t payload_len, bool udp_checksum)
{
	struct netio_udp r = *req; /* req may live in the frame being overwritten */

	return write_udp(frame, r.src_mac, r.dst_mac, r.dst_ip_be, r.src_ip_be, r.dst_port,
			 r.src_port, payload_len, udp_checksum);
}

uint32_t netio_write_udp_copy(uint8_t *frame, const struct netio_udp *req,
			      uint32_t payload_len, bool udp_checksum)
{
	struct netio_udp r = *req;

	return write_udp(frame, r.dst_mac, r.src_mac, r.src_ip_be, r.dst_ip_be, r.src_port,
			 r.dst_port, payload_len, udp_checksum);
}

const char *netio_verdict_name(enum netio_verdict v)
{
	switch (v) {
	case NETIO_UDP:
		return "UDP";
	case NETIO_REPLY_IN_PLACE:
		return "REPLY_IN_PLACE";
#define NETIO_DROP_CASE(name, text)                                                     \
	case NETIO_DROP_##name:                                                         \
		return #name;
		NETIO_DROP_LIST(NETIO_DROP_CASE)
#undef NETIO_DROP_CASE
	case NETIO_VERDICT_COUNT:
		break;
	}
	return "?";
}
