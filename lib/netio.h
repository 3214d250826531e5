/* netio.h - Ethernet / ARP / ICMP / IPv4 / UDP over plain bytes (no DPDK).
 *
 * The worker hands each received frame to netio_classify(), which decides:
 * a UDP datagram for one of our ports (payload located, nothing changed), an
 * ARP request or ICMP echo for our address (answered in place in the same
 * buffer), or a drop with a reason that the worker counts.
 *
 * The network is assumed hostile. A frame is answered or accepted only if:
 *  - its Ethernet destination is our MAC or broadcast (ff:ff:ff:ff:ff:ff):
 *    a port running promiscuous hands us other hosts' frames and multicast;
 *  - its Ethernet source is unicast: every answer goes to the source, and we
 *    never send one to a group (multicast/broadcast) address;
 *  - ARP: a request for our address whose sender MAC is the Ethernet source
 *    and whose sender IP is not martian (below). RFC 5227 probes (sender IP
 *    0.0.0.0) are not answered. The reply is exactly 42 bytes (14 + 28): the
 *    request's padding is never sent back;
 *  - IPv4 (UDP and ICMP): destination our address, not a fragment, source not
 *    martian: 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast), 240.0.0.0/4
 *    (reserved, with 255.255.255.255) or our own address;
 *  - ICMP: an echo request with a correct checksum whose reply fits the MTU
 *    (self->mtu, an IPv4 total length). The reply has a plain 20-byte IPv4
 *    header: options of the request (source routes, record route) are not
 *    sent back;
 *  - UDP: length consistent with IPv4, destination one of our ports, source
 *    port not 0, payload at most self->udp_payload_max bytes (the protocol's
 *    limit, the same on every PMD: af_packet reassembles fragments in the
 *    kernel and a 9000-byte link delivers jumbo frames).
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

/* Defaults for the limits in struct netio_self left at 0: an Ethernet MTU,
 * and the UDP payload that fits in it (PROTO_PAYLOAD_MAX in proto.h). */
#define NETIO_MTU_DEFAULT 1500
#define NETIO_UDP_PAYLOAD_MAX_DEFAULT (NETIO_MTU_DEFAULT - NETIO_IPV4_HDR - NETIO_UDP_HDR)

/* Our own addresses and limits. ip is in network byte order; ports in host
 * order. A limit left at 0 takes its default. */
struct netio_self {
	uint8_t mac[6];
	uint32_t ip_be;
	uint16_t udp_port_base;   /* worker i listens on base + i */
	uint16_t udp_port_count;  /* number of workers */
	uint16_t mtu;             /* largest IPv4 packet we send (ICMP echo replies); 0: 1500 */
	uint16_t udp_payload_max; /* largest UDP payload accepted; 0: 1472 */
};

/* Drop reasons, in the order of the rx_drop_* counters (worker_stats.h).
 * UDP_PORT_CLOSED stays last: the counters' count is checked against it. */
#define NETIO_DROP_LIST(X)                                                              \
	X(TRUNCATED, "frame shorter than its headers say")                              \
	X(ETH_NOT_FOR_US, "Ethernet destination neither our MAC nor broadcast")         \
	X(ETH_SRC_GROUP, "Ethernet source is a multicast/broadcast address")            \
	X(NOT_IPV4, "ethertype neither IPv4 nor ARP (VLAN, IPv6, ...)")                 \
	X(ARP_IGNORED, "ARP that is not a request for our address")                     \
	X(ARP_BAD_SENDER, "ARP sender MAC not the Ethernet source, or sender IP martian") \
	X(IP_BAD_HEADER, "IPv4 version, header length or total length invalid")        \
	X(IP_BAD_CHECKSUM, "IPv4 header checksum wrong")                                 \
	X(IP_NOT_FOR_US, "IPv4 destination is not our address")                         \
	X(IP_FRAGMENT, "IPv4 fragment (not reassembled)")                                \
	X(IP_PROTO, "IPv4 protocol neither UDP nor ICMP")                               \
	X(IP_MARTIAN_SRC, "IPv4 source 0/8, 127/8, multicast, 240/4 or our own address")  \
	X(ICMP_NOT_ECHO, "ICMP other than echo request, truncated or bad checksum")     \
	X(ICMP_TOO_LARGE, "ICMP echo request whose reply would exceed the MTU")         \
	X(UDP_BAD_LENGTH, "UDP length disagrees with the IPv4 length")                  \
	X(UDP_SRC_PORT_ZERO, "UDP source port 0")                                       \
	X(UDP_TOO_LARGE, "UDP payload above udp_payload_max")                           \
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
