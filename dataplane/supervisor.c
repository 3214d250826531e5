/* supervisor.c - the main lcore's loop while the workers serve (see
 * supervisor.h).
 *
 * DESIGN: one loop, each of its jobs a function that looks at the time and
 * decides; none blocks for long (a port restart parks the workers for a
 * moment; a checkpoint's begin makes one folder). Signal handlers only set
 * flags that the loop reads.
 */
#include "supervisor.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "control_cmds.h"
#include "memif_guard.h"
#include "stats.h"
#include "we_time.h"

static volatile sig_atomic_t supervisor_stop;
static volatile sig_atomic_t supervisor_checkpoint_asked; /* SIGUSR1 */

void supervisor_on_checkpoint_signal(int sig)
{
	(void)sig;
	supervisor_checkpoint_asked = 1;
}

void supervisor_on_stop_signal(int sig)
{
	(void)sig;
	supervisor_stop = 1;
}

double supervisor_now_s(void)
{
	return (double)we_monotonic_ns() * 1e-9;
}

/* memif: say when the peer leaves and when a new one is there. A memif
 * client whose peer left stays down (DPDK 22.11 does not reconnect): once
 * the link has been down MAIN_RECONNECT_FIRST_S, park the workers, restart
 * the port (which connects again, or fails while no peer listens: then
 * again every MAIN_RECONNECT_EVERY_S) and let them go. A
 * memif server's driver accepts the next peer by itself. The unmap of the
 * old peer's rings, done by the driver on EAL's interrupt thread, is made
 * safe by memif_guard.c, not here. */
#define MAIN_RECONNECT_FIRST_S 0.1
#define MAIN_RECONNECT_EVERY_S 0.5
/* A restart that connected the socket leaves the memif handshake to EAL's
 * interrupt thread; stopping the port during it would run the driver's
 * disconnect and connect at once, so give it this long to bring the link up. */
#define MAIN_HANDSHAKE_S 3.0
/* The link reads down at the start of the driver's disconnect (on EAL's
 * interrupt thread), its unmaps come last: a restart in between would run a
 * second disconnect over the first. So a restart waits until the guard saw
 * the disconnect's unmaps begin (and settle, memif_guard_busy), or this long
 * for a disconnect that unmapped nothing. */
#define MAIN_DISCONNECT_WAIT_S 1.0
struct main_link {
	double down_since; /* 0 while up */
	double last_try;
	bool ever_up;      /* the link has been up once (a peer left, or none came) */
	bool restarting;   /* workers parked, port not started yet */
	double started_at; /* last restart that connected the socket */
	unsigned attempts; /* restarts tried since the link went down */
	uint64_t unmaps_at_down; /* memif_guard_unmaps() when the link went down */
};

/* Say what a reconnect attempt did: the first few of an outage, then every
 * 10th, so that a peer that never comes is visible without flooding. */
static void main_say_attempt(const struct main_link *l, double now, int rc)
{
	if (l->attempts > 4 && l->attempts % 10 != 0)
		return;
	if (rc == 0)
		printf("warpengine: reconnect attempt %u (%.1f s down): socket connected, waiting "
		       "for the memif handshake\n", l->attempts, now - l->down_since);
	else
		printf("warpengine: reconnect attempt %u (%.1f s down): port restart failed (%d); "
		       "trying again\n", l->attempts, now - l->down_since, rc);
	fflush(stdout);
}

static void main_watch_link(struct dataplane *st, struct main_link *l, double now)
{
	int rc;

	if (st->port.memif_role == PORT_MEMIF_NONE)
		return;
	memif_guard_service();
	if (!l->restarting && port_link_up(&st->port)) {
		if (l->down_since != 0 && l->ever_up) {
			printf("warpengine: link up again\n");
			fflush(stdout);
		}
		l->down_since = 0;
		l->attempts = 0;
		l->started_at = 0; /* the handshake is over */
		l->ever_up = true;
		return;
	}
	/* A memif client whose first handshake failed (a peer that went away
	 * or answered too late) would wait forever: restart it too, once the
	 * handshake had MAIN_HANDSHAKE_S from launch (started_at). */
	if (!l->ever_up && !port_needs_reconnect(&st->port))
		return;
	if (l->down_since == 0) {
		l->down_since = now;
		l->unmaps_at_down = memif_guard_unmaps();
		if (l->ever_up)
			printf("warpengine: link down (memif peer left); %s\n",
			       port_needs_reconnect(&st->port) ? "reconnecting"
								: "waiting for the next peer");
		fflush(stdout);
	}
	if (!port_needs_reconnect(&st->port))
		return;
	if (now - l->down_since < MAIN_RECONNECT_FIRST_S ||
	    now - l->last_try < MAIN_RECONNECT_EVERY_S || now - l->started_at < MAIN_HANDSHAKE_S ||
	    memif_guard_busy())
		return;
	if (l->ever_up && l->attempts == 0 && memif_guard_unmaps() == l->unmaps_at_down &&
	    now - l->down_since < MAIN_DISCONNECT_WAIT_S)
		return; /* the driver's disconnect has not reached its unmaps yet */
	l->last_try = now;
	if (!l->restarting) {
		if (!worker_pause_all(st->workers, st->n_workers, 1000)) {
			fprintf(stderr, "warpengine: workers did not pause; not restarting the port "
					"(parked:");
			for (unsigned i = 0; i < st->n_workers; i++)
				if (__atomic_load_n(&st->workers[i]->paused, __ATOMIC_ACQUIRE))
					fprintf(stderr, " %u", i);
			fprintf(stderr, ")\n");
			return;
		}
		l->restarting = true;
	}
	l->attempts++;
	rc = port_restart(&st->port);
	main_say_attempt(l, now, rc);
	if (rc == 0) {
		l->restarting = false;
		l->started_at = now;
		worker_resume_all();
	}
}

/* "serving" is printed once the port delivers, not at launch: every worker
 * has reached its loop (a pause/resume round trip: only a worker in its loop
 * acknowledges) and the link is up; on memif that means a peer has
 * connected, and until then the data plane says it is waiting for one. */
struct main_ready {
	double launched;
	bool workers_in_loop;
	bool said_waiting;
	bool serving;
};

#define MAIN_LINK_WAIT_S 5.0 /* a non-memif link still down: serve anyway, loudly */

static void main_announce(struct dataplane *st, struct main_ready *r, double now)
{
	if (r->serving)
		return;
	if (!r->workers_in_loop) {
		if (!worker_pause_all(st->workers, st->n_workers, 1000)) {
			fprintf(stderr, "warpengine: the workers did not reach their loop within 1 s\n");
			return;
		}
		worker_resume_all();
		r->workers_in_loop = true;
	}
	if (!port_link_up(&st->port) || !port_kernel_link_ready(&st->port)) {
		if (st->port.memif_role != PORT_MEMIF_NONE) {
			if (!r->said_waiting)
				printf("warpengine: waiting for memif peer (this side is the memif %s)\n",
				       port_memif_role_name(st->port.memif_role));
			r->said_waiting = true;
			fflush(stdout);
			return;
		}
		if (now - r->launched < MAIN_LINK_WAIT_S)
			return;
		fprintf(stderr, "warpengine: port %u: link still down after %.0f s; serving anyway\n",
			st->port.port_id, MAIN_LINK_WAIT_S);
	}
	printf("warpengine: serving (SIGINT or SIGTERM stops)\n");
	fflush(stdout);
	r->serving = true;
}

void supervisor_settings_init(struct dataplane *st)
{
	for (unsigned i = 0; i < st->n_workers; i++) {
		const struct worker *w = st->workers[i];
		uint8_t dur = w->exec.durability_default;

		/* Without a log every write is weak, whatever the default. */
		st->setting[SETTING_DEFAULT_CONSISTENCY][i] =
			w->exec.log != NULL && dur >= PROTO_DUR_STRONG && dur <= PROTO_DUR_WEAK
				? (uint64_t)(dur - PROTO_DUR_STRONG)
				: 2;
		st->setting[SETTING_CHECKPOINT_INTERVAL_S][i] = st->cfg.checkpoint_interval_s;
		st->setting[SETTING_UDP_CHECKSUM][i] = w->udp_checksum;
		st->setting[SETTING_ADDRESS_VALIDATION][i] = w->validate_addresses;
		st->setting[SETTING_IDLE_SLEEP_US][i] = w->idle_sleep_us;
		st->setting[SETTING_BUSY_POLL][i] = w->busy_poll;
		st->setting[SETTING_SERVICE_HISTOGRAM][i] = w->service_histogram;
		st->setting[SETTING_ACCESS_SAMPLE_EVERY][i] = w->access.every;
		st->setting[SETTING_TIERS][i] = w->tiers;
		st->setting[SETTING_EVICT][i] = w->evict;
		st->setting[SETTING_CAPACITY_ITEMS][i] = st->cfg.capacity_items;
		st->setting[SETTING_ARENA_MB][i] = st->cfg.arena_bytes >> 20; /* 0: auto (see config-get) */
		st->setting[SETTING_PARK_CAPACITY][i] = st->cfg.park_capacity;
		st->setting[SETTING_WAL_RING_MB][i] = st->cfg.wal_ring_bytes >> 20;
	}
}

/* Checkpoints, from the supervisor's loop: begin one every
 * checkpoint_interval_s (--checkpoint-interval-s, or config-set: a change
 * counts from when it is seen) or on SIGUSR1, and say how each ended. */
struct main_ckpt {
	double next_at;
	uint64_t interval_s;
	uint64_t completed, failed;
	bool hold_moves; /* a checkpoint runs or is due: start no region move */
};

static void main_checkpoints(struct dataplane *st, struct main_ckpt *c, double now)
{
	struct ckpt_writer_status cs;
	bool due;

	c->hold_moves = false;
	if (st->durability.ckpt == NULL)
		return;
	durability_tick(&st->durability, st->workers, st->n_workers);
	ckpt_writer_status(st->durability.ckpt, &cs);
	if (cs.completed != c->completed)
		printf("warpengine: checkpoint %llu complete: %llu items, %llu chunks, %.1f MiB "
		       "(%.1f MiB before LZ4) in %llu ms; %llu log segments and %llu older "
		       "checkpoints retired so far\n",
		       (unsigned long long)cs.last_id, (unsigned long long)cs.last_items,
		       (unsigned long long)cs.last_chunks, cs.last_file_bytes / 1048576.0,
		       cs.last_raw_bytes / 1048576.0, (unsigned long long)cs.last_ms,
		       (unsigned long long)cs.segments_retired,
		       (unsigned long long)cs.checkpoints_removed);
	if (cs.failed != c->failed)
		printf("warpengine: %s; the previous checkpoint stays in force\n", cs.last_failure);
	if (cs.completed != c->completed || cs.failed != c->failed)
		fflush(stdout);
	c->completed = cs.completed;
	c->failed = cs.failed;
	if (st->setting[SETTING_CHECKPOINT_INTERVAL_S][0] != c->interval_s) {
		c->interval_s = st->setting[SETTING_CHECKPOINT_INTERVAL_S][0];
		c->next_at = now + (double)c->interval_s;
	}
	due = supervisor_checkpoint_asked || (c->interval_s != 0 && now >= c->next_at);
	/* A checkpoint sees each region in one shard: it waits for the move
	 * under way, and holds the next one back until it is written. */
	c->hold_moves = due || cs.state != CKPT_IDLE;
	if (due && cs.state == CKPT_IDLE && !move_driver_busy(st->moves)) {
		char err[256];
		uint64_t id;

		supervisor_checkpoint_asked = 0;
		c->next_at = now + (double)c->interval_s;
		if (durability_checkpoint(&st->durability, st->workers, st->n_workers, &id, err,
					  sizeof(err)) != 0)
			fprintf(stderr, "warpengine: %s\n", err);
	}
}

/* Region moves: advance the current one; record the map in the data
 * directory when a move's copy is durable (move_driver.h). */
static void main_moves(struct dataplane *st, const struct main_ckpt *c)
{
	struct move_driver *d = st->moves;
	char err[256] = "";
	int rc = 0;

	if (move_driver_step(d, st->map, st->ctl_rings, we_monotonic_ns(), !c->hold_moves) !=
	    MOVE_DO_PERSIST)
		return;
	if (st->durability.dir_open)
		rc = region_map_store_save(&st->durability.dir, &d->state, err, sizeof(err));
	move_driver_persisted(d, st->map, st->ctl_rings, rc, err);
	if (rc != 0)
		fprintf(stderr, "warpengine: %s\n", d->last_error_text);
}

/* The control socket: answer what came in since the last tick. */
static void main_control(struct dataplane *st, double now, double uptime_s)
{
	json_t *req;
	int client;

	for (int n = 0; n < 64 && (req = jsonl_server_poll(&st->control, now, &client)) != NULL;
	     n++) {
		json_t *answer = control_cmds_run(st, req, uptime_s);

		jsonl_server_reply(&st->control, client, answer);
		json_decref(answer);
		json_decref(req);
	}
}

void supervisor_run(struct dataplane *st)
{
	uint64_t prev[WORKER_STATS_COUNT] = {0};
	double start = supervisor_now_s(), last = start;
	const double interval = st->cfg.stats_interval_ms / 1000.0;
	struct main_link link = {.started_at = start};
	struct main_ckpt ckpt = {.next_at = start + st->cfg.checkpoint_interval_s,
				 .interval_s = st->cfg.checkpoint_interval_s};
	struct main_ready ready = {.launched = start};

	supervisor_settings_init(st);
	stats_telemetry_set_map(st->map);

	main_announce(st, &ready, start);
	while (!supervisor_stop) {
		double now;

		/* 1 ms ticks while regions move: each move waits on a few. */
		usleep(ready.serving && !move_driver_busy(st->moves) && st->moves->q_count == 0
			       ? 10000
			       : 1000);
		now = supervisor_now_s();
		main_announce(st, &ready, now);
		main_watch_link(st, &link, now);
		main_checkpoints(st, &ckpt, now);
		main_control(st, now, now - start);
		main_moves(st, &ckpt);
		if (now - last < interval)
			continue;
		if (!st->cfg.quiet)
			stats_log_line(stdout, st->workers, st->n_workers, prev, now - last);
		if (st->cfg.stats_file != NULL &&
		    stats_write_file(st->cfg.stats_file, st->workers, st->n_workers, now - start,
				     &st->durability) !=
			    0)
			fprintf(stderr, "warpengine: cannot write stats file %s\n",
				st->cfg.stats_file);
		last = now;
	}
	if (st->cfg.stats_file != NULL)
		stats_write_file(st->cfg.stats_file, st->workers, st->n_workers,
				 supervisor_now_s() - start, &st->durability);
}
