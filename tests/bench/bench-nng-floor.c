/* The messaging floor under one task's round trip: request/reply ping-pongs between two
 * processes on loopback TCP, same machine. Three ways, each as the scheduler and workers use
 * them or as close to the wire as possible:
 *   tcp   a plain blocking TCP socket on each side (the kernel's and the VM's floor);
 *   nng   an nng REQ context waited on with nng_aio_wait (the worker's and the CLI's calls)
 *         against a REP context whose aio callback replies at once (nng's own floor);
 *   loop  the same REQ against a REP whose callback hands the message to another thread that
 *         replies (the scheduler's shape: nng's callback posts to the loop, which answers).
 * Prints the median, 10th and 90th percentile round trip of each in microseconds, with the load.
 * Usage: bench-nng-floor [--rounds N] [--msg BYTES] (--serve URL callback|thread: the REP side,
 * which it starts itself). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench-clock.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
report(const char *what, double *us, int n)
{
	qsort(us, (size_t)n, sizeof *us, cmp_double);
	printf("%-5s  median %7.1f us  p10 %7.1f  p90 %7.1f  (%d round trips)\n", what,
	       us[n / 2], us[n / 10], us[n * 9 / 10], n);
	fflush(stdout);
}

static void
die(const char *what, int rv)
{
	fprintf(stderr, "bench-nng-floor: %s: %s\n", what, rv ? nng_strerror(rv) : "failed");
	exit(1);
}

/* ---- plain TCP ---- */

static bool
read_full(int fd, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, buf, n);
		if (k <= 0)
			return false;
		buf += k;
		n -= (size_t)k;
	}
	return true;
}

static void
tcp_serve(int lfd, size_t len)
{
	int fd = accept(lfd, NULL, NULL), one = 1;
	char *buf = calloc(1, len);

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	while (read_full(fd, buf, len))
		if (write(fd, buf, len) != (ssize_t)len)
			break;
	_exit(0);
}

static void
tcp_run(int rounds, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, one = 1;
	double *us = calloc((size_t)rounds, sizeof *us);
	char *buf = calloc(1, len);
	pid_t pid;

	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		die("tcp listen", 0);
	if ((pid = fork()) == 0)
		tcp_serve(lfd, len);
	close(lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("tcp connect", 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (int i = -rounds / 10; i < rounds; i++) {
		double t0 = bench_now();
		if (write(fd, buf, len) != (ssize_t)len || !read_full(fd, buf, len))
			die("tcp round trip", 0);
		if (i >= 0)
			us[i] = (bench_now() - t0) * 1e6;
	}
	close(fd);
	waitpid(pid, NULL, 0);
	report("tcp", us, rounds);
	free(us);
	free(buf);
}

/* ---- nng ---- */

struct rep_srv {
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending, via_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	nng_msg *pending;
};

static void
rep_reply(struct rep_srv *s, nng_msg *m)
{
	s->sending = true;
	nng_aio_set_msg(s->aio, m);
	nng_ctx_send(s->ctx, s->aio);
}

static void
rep_cb(void *arg)
{
	struct rep_srv *s = arg;
	int rv = nng_aio_result(s->aio);

	if (rv != 0)
		_exit(0);
	if (s->sending) {
		s->sending = false;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (!s->via_thread) {
		rep_reply(s, nng_aio_get_msg(s->aio));
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->pending = nng_aio_get_msg(s->aio);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The REP side with nng's blocking socket calls on one thread. */
static void
rep_serve_sync(const char *url)
{
	nng_socket sock;
	int rv;

	if ((rv = nng_rep0_open(&sock)) != 0 || (rv = nng_listen(sock, url, NULL, 0)) != 0)
		die("rep", rv);
	for (;;) {
		nng_msg *m;
		if (nng_recvmsg(sock, &m, 0) != 0 || nng_sendmsg(sock, m, 0) != 0)
			_exit(0);
	}
}

/* A raw REP socket read by one thread that polls nng's receive descriptor (NNG_OPT_RECVFD), as
 * an event loop would, and answers with the request's header: no context, no aio callback. */
static void
rep_serve_raw(const char *url)
{
	struct pollfd pfd = {.events = POLLIN};
	nng_socket sock;
	int rv;

	if ((rv = nng_rep0_open_raw(&sock)) != 0 || (rv = nng_listen(sock, url, NULL, 0)) != 0 ||
	    (rv = nng_socket_get_int(sock, NNG_OPT_RECVFD, &pfd.fd)) != 0)
		die("raw rep", rv);
	for (;;) {
		nng_msg *m;
		if (poll(&pfd, 1, -1) < 0)
			_exit(0);
		while ((rv = nng_recvmsg(sock, &m, NNG_FLAG_NONBLOCK)) == 0)
			if (nng_sendmsg(sock, m, 0) != 0)
				_exit(0);
		if (rv != NNG_EAGAIN)
			_exit(0);
	}
}

/* The REP side, in a child process: replies from the callback, or from this thread. */
static void
rep_serve(const char *url, bool via_thread)
{
	struct rep_srv s = {.via_thread = via_thread};
	int rv;

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	if ((rv = nng_rep0_open(&s.sock)) != 0 || (rv = nng_listen(s.sock, url, NULL, 0)) != 0 ||
	    (rv = nng_ctx_open(&s.ctx, s.sock)) != 0 ||
	    (rv = nng_aio_alloc(&s.aio, rep_cb, &s)) != 0)
		die("rep", rv);
	nng_ctx_recv(s.ctx, s.aio);
	for (;;) {
		nng_msg *m;
		pthread_mutex_lock(&s.lock);
		while (s.pending == NULL)
			pthread_cond_wait(&s.cond, &s.lock);
		m = s.pending;
		s.pending = NULL;
		pthread_mutex_unlock(&s.lock);
		rep_reply(&s, m);
	}
}

/* One REQ call: a context and aio_wait (ctx), or nng's blocking socket calls (sync). */
static void
req_call(nng_socket sock, nng_ctx ctx, nng_aio *aio, bool sync, size_t len)
{
	nng_msg *m;
	int rv;

	if ((rv = nng_msg_alloc(&m, len)) != 0)
		die("msg", rv);
	if (sync) {
		if ((rv = nng_sendmsg(sock, m, 0)) != 0 || (rv = nng_recvmsg(sock, &m, 0)) != 0)
			die("sync call", rv);
		nng_msg_free(m);
		return;
	}
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		die("send", rv);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		die("recv", rv);
	nng_msg_free(nng_aio_get_msg(aio));
}

/* The REQ side driven from its aio callback: each reply's callback sends the next request, so no
 * thread waits in nng_aio_wait (the hand-off from nng's task thread to a waiter is gone). */
struct req_chain {
	nng_ctx ctx;
	nng_aio *aio;
	size_t len;
	int left, i;
	bool receiving;
	double t0, *us;
	pthread_mutex_t lock;
	pthread_cond_t done;
};

static void
req_chain_send(struct req_chain *r)
{
	nng_msg *m;
	int rv;

	if ((rv = nng_msg_alloc(&m, r->len)) != 0)
		die("msg", rv);
	r->receiving = false;
	r->t0 = bench_now();
	nng_aio_set_msg(r->aio, m);
	nng_ctx_send(r->ctx, r->aio);
}

static void
req_chain_cb(void *arg)
{
	struct req_chain *r = arg;
	int rv = nng_aio_result(r->aio);

	if (rv != 0)
		die("chain", rv);
	if (!r->receiving) {
		r->receiving = true;
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	nng_msg_free(nng_aio_get_msg(r->aio));
	if (r->i >= 0)
		r->us[r->i] = (bench_now() - r->t0) * 1e6;
	r->i++;
	if (--r->left > 0) {
		req_chain_send(r);
		return;
	}
	pthread_mutex_lock(&r->lock);
	pthread_cond_signal(&r->done);
	pthread_mutex_unlock(&r->lock);
}

static void
nng_chain_run(const char *what, const char *url, int rounds, size_t len)
{
	struct req_chain r = {.len = len, .left = rounds + rounds / 10, .i = -rounds / 10};
	nng_socket sock;
	pid_t pid;
	int rv;

	r.us = calloc((size_t)rounds, sizeof *r.us);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.done, NULL);
	if ((pid = fork()) == 0) {
		execl("/proc/self/exe", "bench-nng-floor", "--serve", url, "callback", (char *)NULL);
		_exit(127);
	}
	if ((rv = nng_req0_open(&sock)) != 0 || (rv = nng_ctx_open(&r.ctx, sock)) != 0 ||
	    (rv = nng_aio_alloc(&r.aio, req_chain_cb, &r)) != 0)
		die("req", rv);
	nng_socket_set_ms(sock, NNG_OPT_RECONNMINT, 10);
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if ((rv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		die("dial", rv);
	pthread_mutex_lock(&r.lock);
	req_chain_send(&r);
	while (r.left > 0)
		pthread_cond_wait(&r.done, &r.lock);
	pthread_mutex_unlock(&r.lock);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	nng_aio_free(r.aio);
	nng_close(sock);
	report(what, r.us, rounds);
	free(r.us);
}

static void
nng_run(const char *what, const char *url, const char *serve, bool sync, int rounds, size_t len)
{
	double *us = calloc((size_t)rounds, sizeof *us);
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	pid_t pid;
	int rv;

	/* A fresh process: nng's threads do not survive fork. */
	if ((pid = fork()) == 0) {
		execl("/proc/self/exe", "bench-nng-floor", "--serve", url,
		      serve, (char *)NULL);
		_exit(127);
	}
	if ((rv = nng_req0_open(&sock)) != 0 || (rv = nng_ctx_open(&ctx, sock)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		die("req", rv);
	nng_socket_set_ms(sock, NNG_OPT_RECONNMINT, 10);
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if ((rv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		die("dial", rv);
	for (int i = -rounds / 10; i < rounds; i++) {
		double t0 = bench_now();
		req_call(sock, ctx, aio, sync, len);
		if (i >= 0)
			us[i] = (bench_now() - t0) * 1e6;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	nng_aio_free(aio);
	nng_close(sock);
	report(what, us, rounds);
	free(us);
}

int
main(int argc, char **argv)
{
	int rounds = 2000;
	size_t len = 64;
	double load[3] = {0};
	char url[64];

	if (argc == 4 && strcmp(argv[1], "--serve") == 0 && strcmp(argv[3], "sync") == 0)
		rep_serve_sync(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--serve") == 0 && strcmp(argv[3], "raw") == 0)
		rep_serve_raw(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--serve") == 0)
		rep_serve(argv[2], strcmp(argv[3], "thread") == 0);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--msg") == 0)
			len = (size_t)atol(argv[i + 1]);
	}
	if (rounds < 10 || len == 0) {
		fprintf(stderr, "usage: bench-nng-floor [--rounds N>=10] [--msg BYTES>0]\n");
		return 2;
	}
	getloadavg(load, 3);
	printf("bench-nng-floor: %d round trips of %zu bytes each way, load average %.2f\n",
	       rounds, len, load[0]);
	tcp_run(rounds, len);
	static const struct {
		const char *name, *serve;
		bool sync;
	} runs[] = {{"nng", "callback", false},
		    {"sync", "sync", true},
		    {"loop", "thread", false},
		    {"raw", "raw", false}};
	for (int i = 0; i < 4; i++) {
		snprintf(url, sizeof url, "tcp://127.0.0.1:%d", 20000 + i + (int)(getpid() % 20000));
		nng_run(runs[i].name, url, runs[i].serve, runs[i].sync, rounds, len);
	}
	snprintf(url, sizeof url, "tcp://127.0.0.1:%d", 20004 + (int)(getpid() % 20000));
	nng_chain_run("chain", url, rounds, len);
	return 0;
}
