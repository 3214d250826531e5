/* test_control_admin_dp.c - warp-control's load-balancing admin commands
 * (control/admin_demon.c) against a stand-in data plane: a child process
 * answering the contract's commands on a Unix socket. hotkeys and
 * move-status pass the answer through unchanged; move-region queues, waits
 * for the move among the finished ones, and turns a refusal into "usage". */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin_cmds.h"

static struct control ctl;
static const struct jsonl_peer peer = {.uid = 0, .gid = 0, .pid = 1};
static char sock_path[108];
static pid_t child;

#define HOTKEYS_ANSWER                                                                     \
	"{\"sample_every\":8,\"window_s\":10.0,\"workers\":[],\"merged\":{\"sampled\":3,"  \
	"\"keys\":[{\"key\":\"a\",\"key_len\":1,\"count\":3,\"error\":0,\"share\":1.0}]}}"

/* The stand-in: one connection at a time, one answer per line. move-status
 * says the queue is busy for the first two polls after a move-region. */
static void serve(int lfd)
{
	int busy = 0;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		FILE *in, *out;
		char line[4096];

		if (fd < 0)
			_exit(0);
		in = fdopen(fd, "r");
		out = fdopen(dup(fd), "w");
		while (fgets(line, sizeof(line), in) != NULL) {
			json_t *req = json_loads(line, 0, NULL);
			const char *cmd = json_string_value(json_object_get(req, "command"));
			json_int_t region = json_integer_value(json_object_get(req, "region"));
			char *ans = NULL;

			if (cmd != NULL && strcmp(cmd, "hotkeys") == 0) {
				fprintf(out, "{\"ok\":true,\"result\":" HOTKEYS_ANSWER "}\n");
			} else if (cmd != NULL && strcmp(cmd, "move-region") == 0 && region == 7) {
				fprintf(out, "{\"ok\":false,\"error\":\"region 7 is on worker 1 "
					     "already\"}\n");
			} else if (cmd != NULL && strcmp(cmd, "move-region") == 0) {
				json_t *q = json_pack("{s:b, s:{s:i, s:I, s:i, s:O, s:s}}", "ok", 1,
						      "result", "move", 5, "region", region, "from",
						      0, "to", json_object_get(req, "worker"),
						      "state", "queued");

				busy = 2;
				ans = json_dumps(q, JSON_COMPACT);
				json_decref(q);
			} else if (cmd != NULL && strcmp(cmd, "move-status") == 0) {
				fprintf(out,
					"{\"ok\":true,\"result\":{\"epoch\":4,\"queued\":%d,\"active\":"
					"null,\"completed\":1,\"failed\":0,\"last_error\":null,\"last\":%s}}"
					"\n",
					busy > 0, busy > 0 ? "[]"
							   : "[{\"move\":5,\"region\":3,\"from\":0,\"to\":1,"
							     "\"items\":42,\"time_ms\":1.5,\"ok\":true}]");
				if (busy > 0)
					busy--;
			} else {
				fprintf(out, "{\"ok\":false,\"error\":\"unknown command\"}\n");
			}
			if (ans != NULL)
				fprintf(out, "%s\n", ans);
			free(ans);
			fflush(out);
			json_decref(req);
		}
		fclose(in);
		fclose(out);
	}
}

static int setup(void **state)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char err[256];
	int lfd;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/we_fake_dp_%d.sock", (int)getpid());
	unlink(sock_path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4) != 0)
		return -1;
	child = fork();
	if (child == 0)
		serve(lfd);
	close(lfd);
	memset(&ctl, 0, sizeof(ctl));
	ctl.admin.fd = -1;
	ctl.disk_free_ratio = ctl.data_dir_bytes = -1;
	dp_link_init(&ctl.dp, sock_path, 2000);
	assert_int_equal(settings_store_init(&ctl.settings, NULL, err, sizeof(err)), 0);
	assert_int_equal(entropy_watch_init(&ctl.entropy, NULL, true, err, sizeof(err)), 0);
	rebalancer_init(&ctl.demon, control_dp_ask, &ctl, &ctl.entropy);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_link_close(&ctl.dp);
	rebalancer_free(&ctl.demon);
	entropy_watch_free(&ctl.entropy);
	settings_store_free(&ctl.settings);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(sock_path);
	return 0;
}

/* Run request text as operator; the answer (ok or not). */
static json_t *run(const char *text)
{
	json_t *req = json_loads(text, 0, NULL), *a;

	assert_non_null(req);
	a = admin_cmds_run(&ctl, req, ROLE_OPERATE, &peer);
	json_decref(req);
	assert_non_null(a);
	return a;
}

static void test_passthrough(void **state)
{
	json_t *a = run("{\"command\": \"hotkeys\", \"n\": 5}"), *want;

	(void)state;
	want = json_loads(HOTKEYS_ANSWER, 0, NULL);
	assert_true(json_is_true(json_object_get(a, "ok")));
	assert_true(json_equal(json_object_get(a, "result"), want));
	json_decref(want);
	json_decref(a);
	a = run("{\"command\": \"move-status\"}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "result"), "epoch")),
			 4);
	json_decref(a);
}

static void test_move_region(void **state)
{
	json_t *a, *r;

	(void)state;
	a = run("{\"command\": \"move-region\", \"region\": 3, \"worker\": 1}");
	r = json_object_get(a, "result");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "queued");
	json_decref(a);
	/* wait: polled until the move is among the finished ones */
	a = run("{\"command\": \"move-region\", \"region\": 3, \"worker\": 1, \"wait\": true}");
	r = json_object_get(a, "result");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "done");
	assert_int_equal(json_integer_value(json_object_get(r, "items")), 42);
	assert_int_equal(json_integer_value(json_object_get(r, "epoch")), 4);
	json_decref(a);
	/* the data plane's refusal, with its sentence, as a usage error */
	a = run("{\"command\": \"move-region\", \"region\": 7, \"worker\": 1}");
	assert_string_equal(json_string_value(json_object_get(a, "code")), "usage");
	assert_non_null(strstr(json_string_value(json_object_get(a, "error")), "already"));
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_move_region),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
