/* frame_inject.c - put deliberately bad frames on the wire for the tests.
 *
 * A UDP socket cannot send an IPv6 frame, a TCP segment, an IPv4 fragment or
 * a header with a wrong checksum to the data plane; this tool builds such
 * frames and sends them with an AF_PACKET socket:
 *
 *   frame_inject IFACE DST_MAC SRC_IP DST_IP PORT KIND [COUNT]
 *
 * KIND is one of the names printed by --list; each produces one class of
 * input that the data plane must count under a specific drop reason.
 * Needs CAP_NET_RAW; the tests run it inside their own network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct inject {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip; /* network order */
	uint32_t dst_ip;
	uint16_t port;
};

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t put_eth(uint8_t *f, const struct inject *in, uint16_t ethertype)
{
	memcpy(f, in->dst_mac, 6);
	memcpy(f + 6, in->src_mac, 6);
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
	return 14;
}

/* IPv4 header (20 bytes) for payload_len bytes of protocol proto. */
static size_t put_ipv4(uint8_t *ip, const struct inject *in, uint8_t proto, size_t payload_len,
		       uint16_t frag, uint32_t dst_ip)
{
	uint16_t total = (uint16_t)(20 + payload_len);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &in->src_ip, 4);
	memcpy(ip + 16, &dst_ip, 4);
	uint16_t c = csum16(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return 20;
}

/* A UDP datagram carrying a valid one-entry PING batch. */
static size_t put_udp_ping(uint8_t *u, uint16_t dport, uint16_t udp_len_field)
{
	static const uint8_t ping[] = {'W', 'E', 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				       4, 0, 1, 0, 0, 0, 0, 0, 7, 0, 0, 0, 'k'};

	u[0] = 0x30;
	u[1] = 0x39; /* source port 12345 */
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(udp_len_field >> 8);
	u[5] = (uint8_t)udp_len_field;
	u[6] = 0;
	u[7] = 0; /* no checksum */
	memcpy(u + 8, ping, sizeof(ping));
	return 8 + sizeof(ping);
}

#define PING_UDP_LEN (8 + 29)

static size_t build(uint8_t *f, const struct inject *in, const char *kind)
{
	size_t n = 0;

	if (strcmp(kind, "ipv6") == 0) {
		n = put_eth(f, in, 0x86dd);
		memset(f + n, 0, 40);
		f[n] = 0x60;
		return n + 40;
	}
	if (strcmp(kind, "vlan") == 0) {
		n = put_eth(f, in, 0x8100);
		memset(f + n, 0, 46);
		return n + 46;
	}
	if (strcmp(kind, "truncated") == 0) {
		n = put_eth(f, in, 0x0800);
		memset(f + n, 0, 10);
		f[n] = 0x45;
		return n + 10;
	}
	if (strcmp(kind, "arp-probe") == 0) { /* RFC 5227: sender IP 0.0.0.0 */
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

		n = put_eth(f, in, 0x0806);
		memcpy(f, bcast, 6);
		uint8_t *a = f + n;
		a[0] = 0, a[1] = 1, a[2] = 8, a[3] = 0, a[4] = 6, a[5] = 4, a[6] = 0, a[7] = 1;
		memcpy(a + 8, in->src_mac, 6);
		memset(a + 14, 0, 4);
		memset(a + 18, 0, 6);
		memcpy(a + 24, &in->dst_ip, 4);
		return n + 28;
	}
	if (strcmp(kind, "arp-other") == 0) {
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		uint32_t other = in->dst_ip ^ htonl(0x0000007f);

		n = put_eth(f, in, 0x0806);
		memcpy(f, bcast, 6);
		uint8_t *a = f + n;
		a[0] = 0, a[1] = 1, a[2] = 8, a[3] = 0, a[4] = 6, a[5] = 4, a[6] = 0, a[7] = 1;
		memcpy(a + 8, in->src_mac, 6);
		memcpy(a + 14, &in->src_ip, 4);
		memset(a + 18, 0, 6);
		memcpy(a + 24, &other, 4);
		return n + 28;
	}
	n = put_eth(f, in, 0x0800);
	uint8_t *ip = f + n;
	if (strcmp(kind, "tcp") == 0) {
		put_ipv4(ip, in, 6, 20, 0, in->dst_ip);
		memset(ip + 20, 0, 20);
		return n + 40;
	}
	if (strcmp(kind, "icmp-not-echo") == 0) {
		put_ipv4(ip, in, 1, 20, 0, in->dst_ip);
		memset(ip + 20, 0, 20);
		ip[20] = 13; /* timestamp request */
		uint16_t c = csum16(ip + 20, 20);
		ip[22] = (uint8_t)(c >> 8);
		ip[23] = (uint8_t)c;
		return n + 40;
	}
	if (strcmp(kind, "fragment") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x2000 /* MF */, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "bad-checksum") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		ip[10] ^= 0x5a;
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "bad-ihl") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		ip[0] = 0x43; /* header length 12 bytes: invalid */
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "not-for-us") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip ^ htonl(0x0000007f));
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "udp-bad-length") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN + 40);
	}
	if (strcmp(kind, "closed-port") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, (uint16_t)(in->port - 1), PING_UDP_LEN);
	}
	if (strcmp(kind, "martian-src") == 0) { /* from 127.0.0.1 */
		struct inject lo = *in;

		lo.src_ip = htonl(0x7f000001);
		put_ipv4(ip, &lo, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "src-port-zero") == 0) {
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		n += 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
		ip[20] = 0;
		ip[21] = 0;
		return n;
	}
	if (strcmp(kind, "group-src") == 0) { /* a multicast source MAC */
		f[6] |= 0x01;
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "other-mac") == 0) { /* unicast to someone else's MAC */
		static const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};

		memcpy(f, other, 6);
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	if (strcmp(kind, "ping") == 0) { /* a valid request, for contrast */
		put_ipv4(ip, in, 17, PING_UDP_LEN, 0x4000, in->dst_ip);
		return n + 20 + put_udp_ping(ip + 20, in->port, PING_UDP_LEN);
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int main(int argc, char **argv)
{
	static const char *kinds = "ipv6 vlan truncated arp-other tcp icmp-not-echo fragment "
				   "bad-checksum bad-ihl not-for-us udp-bad-length closed-port martian-src "
				   "src-port-zero group-src other-mac arp-probe ping";
	struct sockaddr_ll addr;
	struct inject in;
	struct ifreq ifr;
	uint8_t frame[256];
	int fd, count = 1;
	size_t len;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		printf("%s\n", kinds);
		return 0;
	}
	if (argc < 7 || argc > 8) {
		fprintf(stderr, "usage: %s IFACE DST_MAC SRC_IP DST_IP PORT KIND [COUNT]\n"
				"kinds: %s\n",
			argv[0], kinds);
		return 64;
	}
	memset(&in, 0, sizeof(in));
	if (parse_mac(argv[2], in.dst_mac) != 0 || inet_pton(AF_INET, argv[3], &in.src_ip) != 1 ||
	    inet_pton(AF_INET, argv[4], &in.dst_ip) != 1 || atoi(argv[5]) <= 1 ||
	    atoi(argv[5]) > 65535) {
		fprintf(stderr, "frame_inject: bad MAC, IP or port argument\n");
		return 64;
	}
	in.port = (uint16_t)atoi(argv[5]);
	if (argc == 8)
		count = atoi(argv[7]);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "frame_inject: socket: %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
		fprintf(stderr, "frame_inject: no interface '%s'\n", argv[1]);
		close(fd);
		return 1;
	}
	memcpy(in.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	len = build(frame, &in, argv[6]);
	if (len == 0) {
		fprintf(stderr, "frame_inject: unknown kind '%s' (kinds: %s)\n", argv[6], kinds);
		close(fd);
		return 64;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sll_family = AF_PACKET;
	addr.sll_ifindex = (int)if_nametoindex(argv[1]);
	addr.sll_halen = ETH_ALEN;
	memcpy(addr.sll_addr, frame, 6);
	for (int i = 0; i < count; i++) {
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&addr, sizeof(addr)) != (ssize_t)len) {
			fprintf(stderr, "frame_inject: send: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}
