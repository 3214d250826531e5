/* worker_stats.h - per-worker counters, declared once (no DPDK).
 *
 * WORKER_STATS_LIST yields the struct fields, the names used in the stats
 * file, telemetry and docs, and the one-line descriptions. Each worker writes
 * only its own cache-aligned struct with plain increments; readers on other
 * threads load fields with relaxed atomic loads and sum across workers.
 *
 * Names start with their noun so related counters sort together.
 */
#ifndef WORKER_STATS_H
#define WORKER_STATS_H

#include <stdint.h>

#include "netio.h"
#include "we_compiler.h"

#define WORKER_STATS_LIST(X)                                                                 \
	X(rx_packets, "frames received from the NIC queue")                                  \
	X(rx_bytes, "bytes received from the NIC queue")                                     \
	X(rx_bursts, "NIC polls that returned frames (rx_packets / rx_bursts: burst size)") \
	X(rx_drop_truncated, "frame shorter than its headers say")                           \
	X(rx_drop_eth_not_for_us, "Ethernet destination neither our MAC nor broadcast")      \
	X(rx_drop_eth_src_group, "Ethernet source is multicast/broadcast")                   \
	X(rx_drop_not_ipv4, "ethertype neither IPv4 nor ARP")                                \
	X(rx_drop_arp_ignored, "ARP not asking for our address")                             \
	X(rx_drop_arp_bad_sender, "ARP sender MAC not the source, or sender IP martian")     \
	X(rx_drop_ip_bad_header, "IPv4 header invalid")                                      \
	X(rx_drop_ip_bad_checksum, "IPv4 header checksum wrong")                             \
	X(rx_drop_ip_not_for_us, "IPv4 destination is not our address")                      \
	X(rx_drop_ip_fragment, "IPv4 fragment")                                              \
	X(rx_drop_ip_proto, "IPv4 protocol neither UDP nor ICMP")                            \
	X(rx_drop_ip_martian_src, "IPv4 source 0/8, 127/8, 224/4, 240/4 or our own")         \
	X(rx_drop_icmp_not_echo, "ICMP other than echo request")                             \
	X(rx_drop_icmp_too_large, "ICMP echo whose reply would exceed the MTU")              \
	X(rx_drop_udp_bad_length, "UDP length disagrees with IPv4 length")                   \
	X(rx_drop_udp_src_port_zero, "UDP source port 0")                                    \
	X(rx_drop_udp_too_large, "UDP payload above the protocol's 1472 bytes")              \
	X(rx_drop_udp_port_closed, "UDP port not one of ours")                               \
	X(rx_drop_proto_truncated, "datagram shorter than the batch header")                 \
	X(rx_drop_proto_bad_magic, "datagram without the WE magic")                          \
	X(rx_drop_proto_not_request, "datagram with the RESPONSE flag")                      \
	X(rx_err_proto_bad_version, "datagram of another protocol version (answered)")       \
	X(rx_err_proto_unsupported, "datagram with AUTH or unknown flags (answered)")        \
	X(rx_err_proto_malformed, "structurally invalid datagram (answered)")                \
	X(rx_unvalidated, "request datagrams from senders without a valid token")           \
	X(rx_token_invalid, "request datagrams whose token was wrong or expired")            \
	X(tx_packets, "frames handed to the NIC queue")                                      \
	X(tx_bytes, "bytes handed to the NIC queue")                                         \
	X(tx_drop_full, "frames the NIC queue refused (freed)")                              \
	X(tx_drop_nobuf, "replies not sent: no mbuf for the reply")                          \
	X(tx_arp_replies, "ARP replies sent")                                                \
	X(tx_icmp_replies, "ICMP echo replies sent")                                         \
	X(tx_reply_datagrams, "response datagrams built")                                    \
	X(tx_reply_splits, "extra response datagrams because answers did not fit in one")   \
	X(tx_parked_replies, "response datagrams of answers released from the park table")   \
	X(req_get, "GET requests executed")                                                  \
	X(req_get_hit, "GETs that found the key")                                            \
	X(req_get_miss, "GETs that did not find the key")                                    \
	X(req_put, "PUT requests executed")                                                  \
	X(req_put_no_space, "PUTs refused: shard full")                                      \
	X(req_delete, "DELETE requests executed")                                            \
	X(req_delete_miss, "DELETEs of a missing key")                                       \
	X(req_ping, "PING requests answered")                                                \
	X(req_token, "address tokens issued (op TOKEN)")                                     \
	X(req_withheld_need_token, "answers withheld from unvalidated senders (NEED_TOKEN)")  \
	X(req_err_bad_request, "entries answered BAD_REQUEST")                               \
	X(req_err_unknown_op, "entries answered UNKNOWN_OP")                                 \
	X(req_err_key_too_long, "entries answered KEY_TOO_LONG")                             \
	X(req_err_value_too_large, "entries answered VALUE_TOO_LARGE")                       \
	X(req_err_unsupported, "entries answered UNSUPPORTED")                               \
	X(req_parked, "STRONG writes whose answer waits for the log (park table)")          \
	X(req_busy_park_full, "STRONG writes refused BUSY: park table full")                \
	X(req_busy_log_full, "logged writes refused BUSY: log ring full")                    \
	X(req_refused_not_durable, "logged writes refused NOT_DURABLE: storage failing")     \
	X(log_records, "records appended to the worker's log ring")                          \
	X(fwd_steered, "datagrams handed whole to the worker of their UDP port")            \
	X(fwd_out, "requests forwarded to their owner over a ring")                          \
	X(fwd_in, "forwarded datagrams received from other workers")                         \
	X(fwd_err_busy, "requests answered BUSY: owner's ring full")                         \
	X(fwd_err_hop_limit, "requests answered WRONG_OWNER: hop limit reached")             \
	X(reflected, "datagrams echoed unread (--reflect baseline mode)")                   \
	X(rx_drop_reflect_response, "--reflect: responses and sub-header datagrams not echoed") \
	X(busy_cycles, "TSC cycles of loop iterations that found work")                     \
	X(idle_sleeps, "times the worker slept after a run of empty polls")                  \
	X(ctl_messages, "control-ring messages applied (durable notices, fences, commands)") \
	X(ctl_unknown, "control-ring messages of an unknown type (ignored)")                 \
	X(park_held_tx_full, "service steps that kept answers parked: NIC queue was full")     \
	X(ckpt_items, "items copied out of the shard into checkpoints")                      \
	X(ckpt_failed, "checkpoint scans this worker gave up (see the storage stats)")         \
	X(ckpt_refused, "checkpoint requests refused: no data directory or a scan running") \
	X(move_held, "requests held while their region moved in (run once it was in)")        \
	X(move_held_busy, "requests answered BUSY: the held-datagram queue was full")        \
	X(move_items_out, "items copied out to a worker taking over their region")           \
	X(move_items_in, "items taken over from a region's previous owner")                  \
	X(move_items_purged, "items deleted after their region moved to another worker")     \
	X(move_failed, "region moves this worker could not complete (shard or log full)")     \
	X(tier_passes, "demotion passes begun over the shard (--tiers on)")                  \
	X(tier_pressure_passes, "demotion passes begun with the arena over 85% used")      \
	X(req_get_archived, "GETs that found their item in the disk tier (answered after a read)") \
	X(req_busy_fetch_full, "GETs of archived items refused BUSY: fetch table full")      \
	X(req_get_archive_failed, "GETs of archived items answered IO_ERROR (read failed)")  \
	X(archive_batches, "batches of archive records handed to the I/O thread")          \
	X(archive_records, "items' records written to the disk tier")                        \
	X(archive_committed, "items that became archived stubs after their write")         \
	X(archive_stale, "written records not used: the item changed or was compressed meanwhile")            \
	X(archive_write_errors, "archive batches the disk refused (their items stay in memory)") \
	X(archive_reads, "archived records read back for GETs")                            \
	X(archive_restored, "archived items brought back into memory by a GET")            \
	X(archive_passes, "archive passes begun over the shard (disk tier, memory over its mark)") \
	X(archive_space_full, "archive steps that found every segment of the file in use")  \
	X(archive_segments_reclaimed, "archive file segments freed for reuse (no live record left)") \
	X(archive_clean_victims, "archive segments the cleaner took to empty")                \
	X(archive_clean_copied, "live archive records the cleaner copied to another segment") \
	X(archive_clean_repointed, "stubs moved to their record's copy by the cleaner")      \
	X(archive_clean_stale, "cleaner copies not used: the stub changed meanwhile")         \
	X(archive_clean_failed, "cleaner reads or writes that failed or did not check")

struct worker_stats {
#define WORKER_STATS_FIELD(name, text) uint64_t name;
	WORKER_STATS_LIST(WORKER_STATS_FIELD)
#undef WORKER_STATS_FIELD
} we_cache_aligned;

enum worker_stats_index {
#define WORKER_STATS_INDEX(name, text) WORKER_STATS_##name,
	WORKER_STATS_LIST(WORKER_STATS_INDEX)
#undef WORKER_STATS_INDEX
	WORKER_STATS_COUNT
};

/* Field i of s, read with a relaxed atomic load (safe while the owner writes). */
static inline uint64_t worker_stats_load(const struct worker_stats *s, unsigned i)
{
	const uint64_t *f = (const uint64_t *)s + i;
	return __atomic_load_n(f, __ATOMIC_RELAXED);
}

extern const char *const worker_stats_names[WORKER_STATS_COUNT];
extern const char *const worker_stats_texts[WORKER_STATS_COUNT];

/* The rx_drop_* counter index for a netio drop verdict. */
unsigned worker_stats_netio_drop_index(enum netio_verdict v);

#endif
