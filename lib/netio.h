/* netio.h - Ethernet / ARP / ICMP / IPv4 / UDP over plain bytes (no DPDK).
 *
 * The worker hands each received frame to netio_classify(), which decides:
 * a UDP datagram for one of our ports (payload located, nothing changed), an
 * ARP request or ICMP echo for our address (answered in place in the same
 * buffer), or a drop with a reason that the worker counts.
 *
 * UDP checksums of received datagrams are not verified: peers on veth/af_xdp
 * hand them over unfinished (checksum offload). IPv4 header checksums are
 * verified. Replies always carry a fully computed UDP checksum, because those
 * same peers drop a datagram whose checksum is wrong.
 */
#ifndef NETIO_H
#define NETIO_H

#include <stdbool.h>
#include <stdint.h>

#include "we_compiler.h"

#define NETIO_ETH_HDR 14
#define NETIO_IPV4_HDR 20 /* what we send: no options */
#define NETIO_UDP_HDR 8
/* Header bytes in front of the payload of every UDP datagram we build. */
#define NETIO_UDP_HEADROOM (NETIO_ETH_HDR + NETIO_IPV4_HDR + NETIO_UDP_HDR)

/* Our own addresses. ip is in network byte order; ports in host order. */
struct netio_self {
	uint8_t mac[6];
	uint32_t ip_be;
	uint16_t udp_port_base;  /* worker i listens on base + i */
	uint16_t udp_port_count; /* number of workers */
};

#define NETIO_DROP_LIST(X)                                                              \
	X(TRUNCATED, "frame shorter than its headers say")                              \
	X(NOT_IPV4, "ethertype neither IPv4 nor ARP (VLAN, IPv6, ...)")                 \
	X(ARP_IGNORED, "ARP that is not a request for our address")                     \
	X(IP_BAD_HEADER, "IPv4 version, header length or total length invalid")        \
	X(IP_BAD_CHECKSUM, "IPv4 header checksum wrong")                                 \
	X(IP_NOT_FOR_US, "IPv4 destination is not our address")                         \
	X(IP_FRAGMENT, "IPv4 fragment (not reassembled)")                                \
	X(IP_PROTO, "IPv4 protocol neither UDP nor ICMP")                               \
	X(ICMP_NOT_ECHO, "ICMP other than echo request, truncated or bad checksum")     \
	X(UDP_BAD_LENGTH, "UDP length disagrees with the IPv4 length")                  \
	X(UDP_PORT_CLOSED, "UDP destination port is not one of ours")

enum netio_verdict {
	NETIO_UDP = 0,       /* a datagram for us: see struct netio_udp */
	NETIO_REPLY_IN_PLACE,/* ARP reply / ICMP echo reply written over the frame */
#define NETIO_DROP_ENUM(name, text) NETIO_DROP_##name,
	NETIO_DROP_LIST(NETIO_DROP_ENUM)
#undef NETIO_DROP_ENUM
	NETIO_VERDICT_COUNT
};
#define NETIO_DROP_FIRST NETIO_DROP_TRUNCATED

/* Where a received datagram's payload sits and where it came from. */
struct netio_udp {
	uint32_t payload_off;
	uint32_t payload_len;
	uint32_t src_ip_be;
	uint32_t dst_ip_be;
	uint16_t src_port; /* host order */
	uint16_t dst_port; /* host order */
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
};

/* Classify (and for ARP/ICMP, answer in place) one frame.
 * For NETIO_REPLY_IN_PLACE, *reply_len is the length of the frame to send. */
enum netio_verdict netio_classify(const struct netio_self *self, uint8_t *frame,
				  uint32_t frame_len, struct netio_udp *udp,
				  uint32_t *reply_len);

/* Write Ethernet + IPv4 + UDP headers (NETIO_UDP_HEADROOM bytes) at frame,
 * for a payload of payload_len bytes already at frame + NETIO_UDP_HEADROOM,
 * addressed as the reply to `req` (addresses and ports swapped). The UDP
 * checksum is computed over the payload when udp_checksum is true, and set
 * to 0 (none, legal for IPv4) otherwise. Returns the frame length. */
uint32_t netio_write_udp_reply(uint8_t *frame, const struct netio_udp *req,
			       uint32_t payload_len, bool udp_checksum);

/* The same, addressed exactly as `req` was (not swapped): used to hand a
 * datagram to another worker as if it had arrived there. */
uint32_t netio_write_udp_copy(uint8_t *frame, const struct netio_udp *req,
			      uint32_t payload_len, bool udp_checksum);

const char *netio_verdict_name(enum netio_verdict v);

/* RFC 1071 ones' complement sum helpers, exposed for tests. Each returns, in
 * host order, the complemented sum over the bytes as they are: with the
 * checksum field zeroed, the value to store (big-endian) in it; over bytes
 * that already hold a correct checksum, 0. netio_udp_checksum() includes the
 * pseudo-header (addresses from ip_hdr, protocol 17, udp_len); a result of 0
 * is sent as 0xffff (RFC 768), which the writers below do. */
uint16_t netio_ipv4_checksum(const uint8_t *ip_hdr, uint32_t hdr_len);
uint16_t netio_udp_checksum(const uint8_t *ip_hdr, const uint8_t *udp_hdr, uint32_t udp_len);

#endif
