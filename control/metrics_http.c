/* metrics_http.c - the metrics endpoint (see metrics_http.h).
 *
 * DESIGN: libmicrohttpd's internal polling thread answers GET /metrics
 * with a copy of the last text; anything else is 404 (method 405).
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *text;
};

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status, const char *text,
				   const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **state)
{
	struct metrics_http *m = cls;
	enum MHD_Result ret;
	char *copy;

	(void)version, (void)data, (void)data_len, (void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer_text(c, 405, "only GET\n", "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return answer_text(c, 404, "see /metrics\n", "text/plain");
	pthread_mutex_lock(&m->lock);
	copy = strdup(m->text != NULL ? m->text : "warpengine_up 0\n");
	pthread_mutex_unlock(&m->lock);
	if (copy == NULL)
		return MHD_NO;
	ret = answer_text(c, 200, copy, "text/plain; version=0.0.4; charset=utf-8");
	free(copy);
	return ret;
}

static int parse_addr(const char *addr, struct sockaddr_in *sa, char *err, size_t err_len)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	char *end;
	unsigned long port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		goto bad;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == 0 || *end != 0 || port > 65535)
		goto bad;
	sa->sin_port = htons((uint16_t)port);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	if (host[0] == 0) {
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
		return 0;
bad:
	snprintf(err, err_len, "--metrics-listen: '%.64s' is not ADDR:PORT (e.g. 127.0.0.1:9464)",
		 addr);
	return -EINVAL;
}

struct metrics_http *metrics_http_start(const char *addr, char *err, size_t err_len)
{
	struct sockaddr_in sa;
	struct metrics_http *m;

	if (parse_addr(addr, &sa, err, err_len) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, err_len, "--metrics-listen: out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				ntohs(sa.sin_port), NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (m->d == NULL) {
		snprintf(err, err_len, "--metrics-listen %s: cannot listen there (in use?)", addr);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	return m;
}

void metrics_http_set(struct metrics_http *m, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = copy;
	pthread_mutex_unlock(&m->lock);
}

void metrics_http_stop(struct metrics_http *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}
