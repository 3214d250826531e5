/* port.c - DPDK port bring-up: mempool, queues, steering, start/stop.
 *
 * DESIGN: one RX/TX queue pair per worker, so no queue is shared and the
 * request path takes no lock. Steering prefers rte_flow rules that send UDP
 * port base+i to queue i (so a client that computes the owner reaches it
 * directly); a PMD without rte_flow gets RSS when it offers it, otherwise
 * whatever spreading it does itself (af_packet fans out by flow hash, memif
 * delivers on the queue the peer chose). In the last two cases misdirected
 * requests are forwarded between workers over rings, so the choice costs
 * speed, never correctness. The start-up log says which is active.
 */
#include "port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "eth_restart.h"

#define PORT_RX_DESC 1024
#define PORT_TX_DESC 1024
#define PORT_MBUF_CACHE 256
/* Per worker: its RX and TX rings, a ring of forwarded datagrams, a burst
 * of replies in flight, and slack for the mempool caches. */
#define PORT_MBUFS_PER_QUEUE (PORT_RX_DESC + PORT_TX_DESC + 1024 + 2 * PORT_MBUF_CACHE + 512)

const char *port_steering_name(enum port_steering s)
{
	switch (s) {
	case PORT_STEER_FLOW:
		return "rte_flow (UDP destination port -> queue)";
	case PORT_STEER_RSS:
		return "RSS hash; misdirected requests forwarded over rings";
	case PORT_STEER_SOFTWARE:
		return "none in the NIC; misdirected requests forwarded over rings";
	}
	return "?";
}

/* One rule per queue: ETH / IPV4 / UDP dst == base+q -> QUEUE q. On
 * refusal, why (the PMD's message) goes into info->flow_refused. */
static int port_flow_rules(uint16_t port_id, uint16_t n_queues, uint16_t base,
			   struct port_info *info)
{
	for (uint16_t q = 0; q < n_queues; q++) {
		struct rte_flow_attr attr = {.ingress = 1};
		struct rte_flow_item_udp udp_spec = {.hdr.dst_port = rte_cpu_to_be_16(base + q)};
		struct rte_flow_item_udp udp_mask = {.hdr.dst_port = RTE_BE16(0xffff)};
		struct rte_flow_item pattern[] = {
			{.type = RTE_FLOW_ITEM_TYPE_ETH},
			{.type = RTE_FLOW_ITEM_TYPE_IPV4},
			{.type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp_spec, .mask = &udp_mask},
			{.type = RTE_FLOW_ITEM_TYPE_END},
		};
		struct rte_flow_action_queue queue = {.index = q};
		struct rte_flow_action actions[] = {
			{.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &queue},
			{.type = RTE_FLOW_ACTION_TYPE_END},
		};
		struct rte_flow_error error;

		memset(&error, 0, sizeof(error));
		if (rte_flow_validate(port_id, &attr, pattern, actions, &error) != 0 ||
		    rte_flow_create(port_id, &attr, pattern, actions, &error) == NULL) {
			snprintf(info->flow_refused, sizeof(info->flow_refused), "%s",
				 error.message ? error.message : "no reason given");
			rte_flow_flush(port_id, &error);
			return -ENOTSUP;
		}
	}
	return 0;
}

/* The value of key=... among the device's --vdev arguments ("a=1,b=2"),
 * copied into out; false when absent. */
static bool port_devarg(const struct rte_eth_dev_info *dev_info, const char *key, char *out,
			size_t out_len)
{
	const struct rte_devargs *da =
		dev_info->device != NULL ? rte_dev_devargs(dev_info->device) : NULL;
	size_t key_len = strlen(key);
	const char *p;

	if (da == NULL || da->args == NULL)
		return false;
	for (p = da->args; *p != 0; p += strcspn(p, ","), p += *p == ',') {
		size_t len = strcspn(p, ",");

		if (len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
			snprintf(out, out_len, "%.*s", (int)(len - key_len - 1), p + key_len + 1);
			return true;
		}
	}
	return false;
}

static void port_identify(const struct rte_eth_dev_info *dev_info, struct port_info *info)
{
	char role[16];

	info->memif_role = PORT_MEMIF_NONE;
	if (strcmp(dev_info->driver_name, "net_memif") == 0)
		info->memif_role = port_devarg(dev_info, "role", role, sizeof(role)) &&
					   strcmp(role, "server") == 0
				   ? PORT_MEMIF_SERVER
				   : PORT_MEMIF_CLIENT;
	if (!port_devarg(dev_info, "iface", info->iface, sizeof(info->iface)))
		info->iface[0] = 0;
}

const char *port_memif_role_name(enum port_memif_role role)
{
	switch (role) {
	case PORT_MEMIF_NONE:
		return "none";
	case PORT_MEMIF_CLIENT:
		return "client";
	case PORT_MEMIF_SERVER:
		return "server";
	}
	return "?";
}

int port_setup(uint16_t port_id, uint16_t n_queues, uint16_t udp_port_base, bool use_flow,
	       struct port_info *info)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info dev_info;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = PORT_RX_DESC, nb_txd = PORT_TX_DESC;
	char pool_name[32];
	int socket, rc;

	memset(info, 0, sizeof(*info));
	if (!rte_eth_dev_is_valid_port(port_id)) {
		fprintf(stderr, "warpengine: port %u does not exist (%u ports available; "
				"did the --vdev probe fail?)\n",
			port_id, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(port_id, &dev_info);
	if (rc != 0)
		return rc;
	port_identify(&dev_info, info);
	if (n_queues > dev_info.max_rx_queues || n_queues > dev_info.max_tx_queues) {
		fprintf(stderr,
			"warpengine: port %u (%s) offers %u RX / %u TX queues, %u workers need "
			"as many (for af_packet add qpairs=%u to the --vdev)\n",
			port_id, dev_info.driver_name, dev_info.max_rx_queues,
			dev_info.max_tx_queues, n_queues, n_queues);
		return -EINVAL;
	}

	socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = 0;
	snprintf(pool_name, sizeof(pool_name), "we_mbufs_%u", port_id);
	info->pool = rte_pktmbuf_pool_create(pool_name, PORT_MBUFS_PER_QUEUE * n_queues,
					     PORT_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     socket);
	if (info->pool == NULL) {
		fprintf(stderr, "warpengine: cannot create the mbuf pool (%u mbufs): %s\n",
			PORT_MBUFS_PER_QUEUE * n_queues, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	memset(&conf, 0, sizeof(conf));
	info->steering = PORT_STEER_SOFTWARE;
	if (n_queues > 1 && dev_info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & dev_info.flow_type_rss_offloads;
		info->steering = PORT_STEER_RSS;
	}
	rc = rte_eth_dev_configure(port_id, n_queues, n_queues, &conf);
	if (rc != 0) {
		fprintf(stderr, "warpengine: configuring port %u failed: %s\n", port_id,
			rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	for (uint16_t q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, NULL, info->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, NULL);
		if (rc != 0) {
			fprintf(stderr, "warpengine: queue %u setup on port %u failed: %s\n", q,
				port_id, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		fprintf(stderr, "warpengine: starting port %u failed: %s\n", port_id,
			rte_strerror(-rc));
		return rc;
	}
	if (use_flow && n_queues > 1 &&
	    port_flow_rules(port_id, n_queues, udp_port_base, info) == 0)
		info->steering = PORT_STEER_FLOW;

	rte_eth_macaddr_get(port_id, &mac);
	memcpy(info->mac, mac.addr_bytes, 6);
	snprintf(info->driver, sizeof(info->driver), "%s", dev_info.driver_name);
	info->port_id = port_id;
	info->n_queues = n_queues;
	info->started = true;
	return 0;
}

void port_teardown(struct port_info *info)
{
	struct rte_flow_error error;

	if (info->n_queues == 0)
		return;
	if (info->steering == PORT_STEER_FLOW)
		rte_flow_flush(info->port_id, &error);
	if (info->started)
		rte_eth_dev_stop(info->port_id);
	rte_eth_dev_close(info->port_id);
	info->n_queues = 0;
}

bool port_link_up(const struct port_info *info)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(info->port_id, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_UP;
}

bool port_kernel_link_ready(const struct port_info *info)
{
	char path[96], state[16] = "";
	FILE *f;

	if (info->iface[0] == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", info->iface);
	f = fopen(path, "r");
	if (f == NULL)
		return true; /* no sysfs: nothing to wait for */
	if (fgets(state, sizeof(state), f) == NULL)
		state[0] = 0;
	fclose(f);
	/* "unknown": drivers that do not report it (tun, dummy) */
	return strncmp(state, "up", 2) == 0 || strncmp(state, "unknown", 7) == 0;
}

bool port_needs_reconnect(const struct port_info *info)
{
	return info->memif_role == PORT_MEMIF_CLIENT;
}

/* On EAL's interrupt thread, where memif's handshake runs (eth_restart.h). */
int port_restart(struct port_info *info)
{
	return eth_restart_on_intr_thread(info->port_id, &info->started, ETH_RESTART_WAIT_MS);
}
