/* port.h - bring up the DPDK port: one RX and one TX queue per worker. */
#ifndef PORT_H
#define PORT_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mempool;

enum port_steering {
	PORT_STEER_FLOW,     /* rte_flow: UDP destination port -> queue */
	PORT_STEER_RSS,      /* the NIC spreads by RSS hash; rings fix misdirection */
	PORT_STEER_SOFTWARE, /* whatever queue the PMD delivers on; rings fix it */
};

/* The memif role from the --vdev arguments (memif's default is client). */
enum port_memif_role {
	PORT_MEMIF_NONE,   /* not a net_memif port */
	PORT_MEMIF_CLIENT, /* connects to the peer's socket; restarted after the peer leaves */
	PORT_MEMIF_SERVER, /* listens; the driver accepts the next peer by itself */
};

struct port_info {
	uint16_t port_id;
	uint16_t n_queues;
	uint8_t mac[6];
	char driver[32];
	enum port_steering steering;
	bool started; /* false after a failed restart */
	char flow_refused[96]; /* why rte_flow steering was refused, or "" */
	enum port_memif_role memif_role;
	char iface[32]; /* kernel interface (iface= of af_packet/af_xdp), or "" */
	struct rte_mempool *pool;
};

/* Configure and start port_id with n_queues queue pairs; try rte_flow
 * steering of UDP port base+i to queue i unless use_flow is false. Returns 0
 * or a negative errno after printing what failed. */
int port_setup(uint16_t port_id, uint16_t n_queues, uint16_t udp_port_base, bool use_flow,
	       struct port_info *info);
void port_teardown(struct port_info *info);
bool port_link_up(const struct port_info *info);
/* af_packet/af_xdp: the kernel interface under the port is operationally up
 * (frames sent to it before that are lost before any PMD sees them). True
 * for ports without a kernel interface. */
bool port_kernel_link_ready(const struct port_info *info);
/* A memif client's link does not come back by itself once its peer has
 * left (DPDK 22.11): true for such a port (not for a memif server, whose
 * driver accepts the next peer by itself). */
bool port_needs_reconnect(const struct port_info *info);
const char *port_memif_role_name(enum port_memif_role role);
/* Stop and start the port again (the workers must be paused). 0, or a
 * negative errno when it could not start (e.g. no memif server yet). */
int port_restart(struct port_info *info);
const char *port_steering_name(enum port_steering s);

#endif
