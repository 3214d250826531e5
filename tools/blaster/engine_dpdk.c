/* engine_dpdk.c - the DPDK engine: the blaster on a DPDK port (memif,
 * af_packet, af_xdp, a NIC), one lcore, no system calls while it runs.
 *
 * DESIGN: the port gets one queue pair per data-plane worker, and a datagram
 * for worker i leaves on queue i. On net_memif that is what steers it: the
 * peer's queue i is worker i's queue, so every request reaches its owner
 * without forwarding. Frames are built with lib/netio (the same code the data
 * plane answers with) and received frames classified by it: our own ARP
 * requests and ICMP echos are answered, UDP for our ports goes to the core.
 * The server's MAC is learnt with ARP before the first phase, which also tells
 * a silent target apart from a slow one; then, for native runs, the address
 * token is asked for (handshake.h) over the same frames.
 *
 * Time comes from the TSC, converted to nanoseconds once per iteration; the
 * loop busy-polls (a load generator that sleeps measures its own wake-ups).
 * When the TX ring is full, datagrams wait in the core's queue and leave on
 * the next iteration; in open loop that wait is part of the measured latency.
 */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "eth_restart.h"
#include "netio.h"
#include "we_assert.h"
#include "we_time.h"

#define ENGINE_DPDK_DESC 1024
#define ENGINE_DPDK_MBUFS 16383
#define ENGINE_DPDK_RX_BURST 64
#define ENGINE_DPDK_SRC_PORT 40000 /* our UDP source port for queue q: 40000 + q */
#define ENGINE_DPDK_ARP_TRIES 10
#define ENGINE_DPDK_RECONNECT_MS 3000 /* a memif client's next connect attempt */

struct engine_dpdk_ctx {
	uint16_t port_id;
	uint16_t n_queues;
	bool eal_up;
	bool port_started;
	struct rte_mempool *pool;
	struct netio_self self;   /* our MAC/IP, UDP ports 40000.. */
	struct netio_udp peer;    /* template: addresses of a request to worker 0 */
	uint16_t server_port_base;
	double ns_per_cycle;
	uint64_t tsc0;
	uint64_t ns0;             /* CLOCK_MONOTONIC at tsc0, so times look like the kernel engine's */
	uint32_t linger_s;        /* --linger: wait for the peer to leave before closing */
	uint32_t link_wait_s;     /* --link-wait-s: wait for the link before giving up */
	uint64_t link_deadline_tsc; /* ... and for the first ARP answer (at least ARP_TRIES) */
	uint64_t rx_other;        /* frames that were not answers for us */
	uint64_t tx_ring_full;    /* sends deferred because a TX ring was full */
	char diag[160];
};

static uint64_t engine_dpdk_now_ns(const struct engine_dpdk_ctx *d)
{
	return d->ns0 + (uint64_t)((double)(rte_rdtsc() - d->tsc0) * d->ns_per_cycle);
}

static void engine_dpdk_close(void *p)
{
	struct engine_dpdk_ctx *d = p;

	if (d == NULL)
		return;
	if (d->port_started && d->linger_s != 0) {
		/* Let the peer disconnect first, while we no longer poll: DPDK
		 * 22.11's memif unmaps the rings on a disconnect while the other
		 * side's data path may still be reading them (either role). */
		struct rte_eth_link link;

		for (uint64_t ms = 0; ms < d->linger_s * 1000ull; ms += 10) {
			rte_eth_link_get_nowait(d->port_id, &link);
			if (link.link_status != RTE_ETH_LINK_UP)
				break;
			rte_delay_ms(10);
		}
	}
	if (d->port_started) {
		rte_eth_dev_stop(d->port_id);
		rte_eth_dev_close(d->port_id);
	}
	if (d->eal_up)
		rte_eal_cleanup();
	free(d);
}

/* Whether the port is a memif in the client role (its devargs say so). */
static bool engine_dpdk_memif_client(const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;

	return strcmp(info->driver_name, "net_memif") == 0 && da != NULL && da->args != NULL &&
	       strstr(da->args, "role=client") != NULL;
}

static int engine_dpdk_port(struct engine_dpdk_ctx *d, char *err, size_t err_len)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = ENGINE_DPDK_DESC, nb_txd = ENGINE_DPDK_DESC;
	int rc;

	if (!rte_eth_dev_is_valid_port(d->port_id)) {
		snprintf(err, err_len, "no DPDK port %u (%u available): give one with --vdev",
			 d->port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(d->port_id, &info);
	if (rc != 0)
		return rc;
	if (d->n_queues > info.max_rx_queues || d->n_queues > info.max_tx_queues) {
		snprintf(err, err_len, "port %u (%s) has %u queue pairs, %u workers need as many",
			 d->port_id, info.driver_name, info.max_rx_queues, d->n_queues);
		return -EINVAL;
	}
	d->pool = rte_pktmbuf_pool_create("blaster_mbufs", ENGINE_DPDK_MBUFS, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (d->pool == NULL) {
		snprintf(err, err_len, "mbuf pool: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(d->port_id, d->n_queues, d->n_queues, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port_id, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; rc == 0 && q < d->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(d->port_id, q, nb_rxd, (unsigned)rte_socket_id(), NULL,
					    d->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(d->port_id, q, nb_txd,
						    (unsigned)rte_socket_id(), NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(d->port_id);
	if (rc != 0) {
		snprintf(err, err_len, "port %u setup: %s", d->port_id, rte_strerror(-rc));
		return rc;
	}
	d->port_started = true;
	rte_eth_macaddr_get(d->port_id, &mac);
	memcpy(d->self.mac, mac.addr_bytes, 6);

	/* memif connects asynchronously: wait for the peer. The same window
	 * covers the server's first ARP answer (engine_dpdk_resolve): a link
	 * that comes up may still bounce while the peer reconnects. */
	d->link_deadline_tsc = rte_rdtsc() + rte_get_tsc_hz() * (uint64_t)d->link_wait_s;
	for (unsigned ms = 0;; ms += 10) {
		rte_eth_link_get_nowait(d->port_id, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			break;
		/* DPDK 22.11's memif client tries to connect once, when the
		 * port starts: if that attempt fails (the server not accepting
		 * yet, a handshake cut short), it never tries again. Start the
		 * port again every few seconds, as the data plane does. */
		if (ms != 0 && ms % ENGINE_DPDK_RECONNECT_MS == 0 && engine_dpdk_memif_client(&info)) {
			fprintf(stderr, "warp-blaster: port %u (memif client): link down after %u s, "
					"connecting again\n",
				d->port_id, ms / 1000);
			/* on the interrupt thread: never in the middle of
			 * the driver's handshake handler (eth_restart.h) */
			(void)eth_restart_on_intr_thread(d->port_id, &d->port_started,
							 ETH_RESTART_WAIT_MS);
		}
		if (ms >= d->link_wait_s * 1000ull) {
			snprintf(err, err_len, "port %u (%s): link still down after %u s (is the "
					       "peer running?)",
				 d->port_id, info.driver_name, d->link_wait_s);
			return -ENOLINK;
		}
		rte_delay_ms(10);
	}
	return 0;
}

/* An ARP request for ip_be, from us, broadcast. */
static uint32_t engine_dpdk_arp_request(const struct engine_dpdk_ctx *d, uint8_t *f, uint32_t ip_be)
{
	static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};

	memset(f, 0xff, 6);
	memcpy(f + 6, d->self.mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, d->self.mac, 6);
	memcpy(f + 28, &d->self.ip_be, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, &ip_be, 4);
	memset(f + 42, 0, 18); /* pad to the 60-byte minimum */
	return 60;
}

/* Learn the server's MAC from its ARP reply. */
static int engine_dpdk_resolve(struct engine_dpdk_ctx *d, char *err, size_t err_len)
{
	struct rte_mbuf *rx[ENGINE_DPDK_RX_BURST];

	for (int attempt = 0; attempt < ENGINE_DPDK_ARP_TRIES || rte_rdtsc() < d->link_deadline_tsc;
	     attempt++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
		uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() / 5;

		if (m == NULL)
			return -ENOMEM;
		m->data_len = (uint16_t)engine_dpdk_arp_request(d, rte_pktmbuf_mtod(m, uint8_t *),
							       d->peer.dst_ip_be);
		m->pkt_len = m->data_len;
		if (rte_eth_tx_burst(d->port_id, 0, &m, 1) != 1)
			rte_pktmbuf_free(m);
		while (rte_rdtsc() < deadline) {
			for (uint16_t q = 0; q < d->n_queues; q++) {
				uint16_t n = rte_eth_rx_burst(d->port_id, q, rx, ENGINE_DPDK_RX_BURST);

				for (uint16_t i = 0; i < n; i++) {
					const uint8_t *f = rte_pktmbuf_mtod(rx[i], const uint8_t *);
					bool reply = rx[i]->data_len >= 42 && f[12] == 0x08 &&
						     f[13] == 0x06 && f[21] == 2 &&
						     memcmp(f + 28, &d->peer.dst_ip_be, 4) == 0;

					if (reply)
						memcpy(d->peer.dst_mac, f + 22, 6);
					rte_pktmbuf_free(rx[i]);
					if (reply)
						return 0;
				}
			}
		}
	}
	snprintf(err, err_len, "no ARP answer from the server: is the data plane up on this "
			       "link with that --server address?");
	return -EHOSTUNREACH;
}

static int engine_dpdk_open(void **ctx, const struct options *o, char *err, size_t err_len)
{
	struct engine_dpdk_ctx *d = calloc(1, sizeof(*d));
	struct in_addr server, source;
	int rc;

	if (d == NULL)
		return -ENOMEM;
	*ctx = d;
	if (inet_pton(AF_INET, o->server, &server) != 1) {
		snprintf(err, err_len, "--server: '%s' is not an IPv4 address (the DPDK engine "
				       "speaks IPv4)", o->server);
		return -EINVAL;
	}
	if (o->source_ip == NULL) {
		/* The server's address + 1 in the last byte: a neighbour on its subnet. */
		uint32_t h = ntohl(server.s_addr);

		source.s_addr = htonl((h & 0xff) == 254 ? h - 1 : h + 1);
	} else if (inet_pton(AF_INET, o->source_ip, &source) != 1) {
		snprintf(err, err_len, "--source-ip: '%s' is not an IPv4 address", o->source_ip);
		return -EINVAL;
	}
	rc = rte_eal_init(o->eal_argc, o->eal_argv);
	if (rc < 0) {
		snprintf(err, err_len, "EAL initialisation failed: %s (check the EAL arguments "
				       "before --)", rte_strerror(rte_errno));
		return -EINVAL;
	}
	d->eal_up = true;
	d->port_id = o->port_id;
	d->linger_s = o->linger_s;
	d->link_wait_s = o->link_wait_s;
	d->n_queues = o->bc.proto == BLASTER_PROTO_NATIVE ? o->bc.workers : 1;
	d->server_port_base = o->port;
	d->self.ip_be = source.s_addr;
	d->self.udp_port_base = ENGINE_DPDK_SRC_PORT;
	d->self.udp_port_count = d->n_queues;
	d->peer.src_ip_be = source.s_addr;
	d->peer.dst_ip_be = server.s_addr;
	d->ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	d->tsc0 = rte_rdtsc();
	d->ns0 = we_monotonic_ns();
	rc = engine_dpdk_port(d, err, err_len);
	if (rc == 0) {
		memcpy(d->peer.src_mac, d->self.mac, 6);
		rc = engine_dpdk_resolve(d, err, err_len);
	}
	return rc;
}

/* Build and send what the core has ready; returns datagrams sent. Datagrams
 * leave in order, a run of consecutive ones for the same queue per tx_burst;
 * at the first full ring the rest stays queued in the core. */
static uint32_t engine_dpdk_send(struct engine_dpdk_ctx *d, struct blaster *b, uint64_t now_ns)
{
	struct rte_mbuf *m[BLASTER_BURST_MAX];
	uint32_t n = blaster_tx_prepare(b, now_ns), done = 0;

	if (n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(d->pool, m, n) != 0)
		return 0; /* pool empty: the datagrams wait for the next round */
	for (uint32_t i = 0; i < n; i++) {
		const struct blaster_dgram *g = blaster_tx_dgram(b, i);
		uint8_t *frame = rte_pktmbuf_mtod(m[i], uint8_t *);
		struct netio_udp hdr = d->peer;
		uint16_t q = g->dest % d->n_queues;

		memcpy(frame + NETIO_UDP_HEADROOM, g->buf, g->len);
		hdr.src_port = (uint16_t)(ENGINE_DPDK_SRC_PORT + q);
		hdr.dst_port = (uint16_t)(d->server_port_base + g->dest);
		m[i]->data_len = (uint16_t)netio_write_udp_copy(frame, &hdr, g->len, true);
		m[i]->pkt_len = m[i]->data_len;
	}
	while (done < n) {
		uint16_t q = blaster_tx_dgram(b, done)->dest % d->n_queues;
		uint32_t run = 1, sent;

		while (done + run < n && run < UINT16_MAX &&
		       blaster_tx_dgram(b, done + run)->dest % d->n_queues == q)
			run++;
		sent = rte_eth_tx_burst(d->port_id, q, &m[done], (uint16_t)run);
		done += sent;
		if (sent < run) {
			d->tx_ring_full++;
			break;
		}
	}
	if (done < n)
		rte_pktmbuf_free_bulk(&m[done], n - done);
	blaster_tx_sent(b, done, now_ns);
	return done;
}

static uint32_t engine_dpdk_recv(struct engine_dpdk_ctx *d, struct blaster *b, uint64_t now_ns)
{
	struct rte_mbuf *rx[ENGINE_DPDK_RX_BURST];
	uint32_t total = 0;

	for (uint16_t q = 0; q < d->n_queues; q++) {
		uint16_t n = rte_eth_rx_burst(d->port_id, q, rx, ENGINE_DPDK_RX_BURST);

		for (uint16_t i = 0; i < n; i++) {
			uint8_t *frame = rte_pktmbuf_mtod(rx[i], uint8_t *);
			struct netio_udp udp;
			uint32_t reply_len = 0;
			enum netio_verdict v = netio_classify(&d->self, frame, rx[i]->data_len, &udp,
							      &reply_len);

			if (v == NETIO_UDP) {
				blaster_rx(b, frame + udp.payload_off, udp.payload_len, now_ns);
			} else if (v == NETIO_REPLY_IN_PLACE) {
				rx[i]->data_len = (uint16_t)reply_len;
				rx[i]->pkt_len = reply_len;
				if (rte_eth_tx_burst(d->port_id, q, &rx[i], 1) == 1)
					continue;
			} else {
				d->rx_other++;
			}
			rte_pktmbuf_free(rx[i]);
		}
		total += n;
	}
	return total;
}

/* Send one handshake try to worker h->dest, on that worker's queue. */
static void engine_dpdk_handshake_send(struct engine_dpdk_ctx *d, const struct handshake *h)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
	struct netio_udp hdr = d->peer;
	uint16_t q = h->dest % d->n_queues;
	uint8_t *frame;

	if (m == NULL)
		return; /* a lost try; the next one comes HANDSHAKE_RESEND_NS later */
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(frame + NETIO_UDP_HEADROOM, h->req, h->req_len);
	hdr.src_port = (uint16_t)(ENGINE_DPDK_SRC_PORT + q);
	hdr.dst_port = (uint16_t)(d->server_port_base + h->dest);
	m->data_len = (uint16_t)netio_write_udp_copy(frame, &hdr, h->req_len, true);
	m->pkt_len = m->data_len;
	if (rte_eth_tx_burst(d->port_id, q, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

/* The handshake after ARP, before the first phase: the same frames and
 * classification as the load, polling every queue (the answer comes back on
 * whichever queue the answering worker's port maps to). */
static int engine_dpdk_handshake(void *ctx, struct handshake *h, char *err, size_t err_len)
{
	struct engine_dpdk_ctx *d = ctx;
	struct rte_mbuf *rx[ENGINE_DPDK_RX_BURST];

	(void)err;
	(void)err_len;
	for (;;) {
		uint64_t now_ns = engine_dpdk_now_ns(d);

		if (h->state != HANDSHAKE_WAITING || handshake_expired(h, now_ns))
			return 0;
		if (handshake_due(h, now_ns))
			engine_dpdk_handshake_send(d, h);
		for (uint16_t q = 0; q < d->n_queues; q++) {
			uint16_t n = rte_eth_rx_burst(d->port_id, q, rx, ENGINE_DPDK_RX_BURST);

			for (uint16_t i = 0; i < n; i++) {
				uint8_t *frame = rte_pktmbuf_mtod(rx[i], uint8_t *);
				struct netio_udp udp;
				uint32_t reply_len = 0;
				enum netio_verdict v = netio_classify(&d->self, frame,
								      rx[i]->data_len, &udp,
								      &reply_len);

				if (v == NETIO_UDP) {
					handshake_rx(h, frame + udp.payload_off, udp.payload_len);
				} else if (v == NETIO_REPLY_IN_PLACE) {
					rx[i]->data_len = (uint16_t)reply_len;
					rx[i]->pkt_len = reply_len;
					if (rte_eth_tx_burst(d->port_id, q, &rx[i], 1) == 1)
						continue;
				} else {
					d->rx_other++;
				}
				rte_pktmbuf_free(rx[i]);
			}
		}
	}
}

static int engine_dpdk_run_phase(void *ctx, struct blaster *b, char *err, size_t err_len)
{
	struct engine_dpdk_ctx *d = ctx;

	(void)err;
	(void)err_len;
	for (;;) {
		uint64_t now_ns = engine_dpdk_now_ns(d);

		if (blaster_state(b, now_ns) == BLASTER_DONE)
			return 0;
		engine_dpdk_send(d, b, now_ns);
		now_ns = engine_dpdk_now_ns(d);
		engine_dpdk_recv(d, b, now_ns);
		blaster_expire(b, now_ns);
		blaster_tick(b, now_ns);
	}
}

static const char *engine_dpdk_diagnose(void *ctx)
{
	struct engine_dpdk_ctx *d = ctx;

	if (d->rx_other == 0 && d->tx_ring_full == 0)
		return NULL;
	snprintf(d->diag, sizeof(d->diag),
		 "%llu received frame(s) were not answers for us; the TX ring was full %llu "
		 "time(s)",
		 (unsigned long long)d->rx_other, (unsigned long long)d->tx_ring_full);
	return d->diag;
}

const struct engine engine_dpdk = {
	.name = "dpdk",
	.open = engine_dpdk_open,
	.run_phase = engine_dpdk_run_phase,
	.handshake = engine_dpdk_handshake,
	.diagnose = engine_dpdk_diagnose,
	.close = engine_dpdk_close,
};
