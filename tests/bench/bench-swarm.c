/* The swarm load tool: starts a real neurodag-scheduler on loopback with a private state dir,
 * N simulated workers spread over a few processes (swarm-worker.c), and concurrent clients that
 * submit no-op jobs (one big graph first) and poll them; partway through, `--lose` workers go
 * silent and the time until the scheduler drops each is measured. At the end it stops every
 * process it started by pid and checks, from the scheduler's own database and the workers'
 * acknowledged results, that every task was done exactly once (swarm-check.c). Bounded by
 * --time-limit; exits 0 only when every check holds. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/token.h"
#include "common/xmalloc.h"
#include "proto/proto-auth.h"
#include "tests/bench/swarm-check.h"
#include "tests/support/test-net.h"

struct swarm_client {
	struct swarm_run *run;
	uint32_t index;
	pthread_t thread;
};

static void
swarm_sleep(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static double
swarm_now(const struct swarm_run *r)
{
	return time_mono_s() - r->sh->t0;
}

static int
swarm_connect(struct swarm_run *r, struct proto_client *c, struct proto_call *call)
{
	struct proto_hello h = {.role = PROTO_ROLE_CLIENT, .version = "neurodag " ND_VERSION};
	struct proto_welcome welcome;
	char *cause = NULL;
	int rc;

	if ((rc = proto_client_open(c, r->cfg.url, &cause)) == 0 &&
	    (rc = proto_call_open(c, call, &cause)) == 0 &&
	    (rc = proto_auth_hello(call, &h, r->cfg.token, 10000, &welcome, &cause)) != 0)
		proto_call_close(call);
	if (rc != 0) {
		fprintf(stderr, "bench-swarm: client: %s\n", cause ? cause : "cannot connect");
		if (c->open)
			proto_client_close_within(c, 100);
	}
	free(cause);
	return rc;
}

/* STATUS what (job 0: none) as JSON, or NULL. */
static json_t *
swarm_status(struct proto_call *call, const char *what, uint32_t job)
{
	struct proto_msg req = {.type = PROTO_STATUS}, reply;
	json_t *j = NULL;

	req.u.status.what = (char *)what;
	req.u.status.job_id = job;
	if (proto_call_run(call, &req, &reply, 30000, NULL) != 0)
		return NULL;
	if (reply.type == PROTO_STATUS_REPLY)
		j = json_loads(reply.u.status_reply.body, 0, NULL);
	proto_msg_fini(&reply);
	return j;
}

/* Submit one no-op job of n tasks and poll it until it ends; 0 when it is done. */
static int
swarm_client_job(struct swarm_run *r, struct proto_call *call, uint32_t n, uint32_t client)
{
	struct proto_msg req = {.type = PROTO_SUBMIT}, reply;
	struct swarm_job *job;
	char *text = xasprintf("{\"name\":\"swarm-%u\",\"input\":{\"format\":\"tasks\",\"count\":%u},"
			       "\"steps\":[{\"op\":\"noop\"}]}",
			       client, n);
	double submitted = swarm_now(r);
	uint32_t id;
	int rc = -1;

	req.u.submit.pipeline = text;
	rc = proto_call_run(call, &req, &reply, 60000, NULL);
	free(text);
	if (rc != 0 || reply.type != PROTO_ACCEPTED || reply.u.accepted.njobs != 1) {
		if (rc == 0)
			proto_msg_fini(&reply);
		return -1;
	}
	id = (uint32_t)reply.u.accepted.jobs[0];
	proto_msg_fini(&reply);
	pthread_mutex_lock(&r->lock);
	job = &r->jobs[r->njobs++];
	job->id = id;
	job->tasks = n;
	job->submitted = submitted;
	if (client == 0)
		r->big = job;
	pthread_mutex_unlock(&r->lock);
	while (swarm_now(r) < r->time_limit) {
		json_t *st = swarm_status(call, "job", id);
		const char *state = st ? json_string_value(json_object_get(st, "state")) : NULL;
		if (state != NULL && client == 0)
			job->progress = (double)json_integer_value(json_object_get(st, "done")) / n;
		rc = state == NULL ? -1 : strcmp(state, "done") == 0 ? 0
				: strcmp(state, "running") == 0 || strcmp(state, "waiting") == 0 ? 1
				: -1;
		json_decref(st);
		if (rc <= 0)
			break;
		swarm_sleep(0.02);
	}
	job->finished = swarm_now(r);
	job->ok = rc == 0;
	return rc;
}

static void *
swarm_client_thread(void *arg)
{
	struct swarm_client *cl = arg;
	struct swarm_run *r = cl->run;
	struct proto_client c;
	struct proto_call call;

	/* The big graph first; the others start while it runs. */
	if (cl->index > 0)
		swarm_sleep(0.2 + 0.01 * cl->index);
	if (swarm_connect(r, &c, &call) != 0)
		return NULL;
	if (cl->index == 0)
		swarm_client_job(r, &call, r->big_tasks, 0);
	else
		for (uint32_t k = 0; k < r->client_jobs && swarm_now(r) < r->time_limit; k++)
			if (swarm_client_job(r, &call, r->client_tasks, cl->index) != 0)
				break;
	proto_call_close(&call);
	proto_client_close_within(&c, 100);
	return NULL;
}

/* Registered worker ids now, or -1. */
static int
swarm_worker_ids(struct proto_call *call, uint32_t **ids, size_t *n)
{
	json_t *a = swarm_status(call, "workers", 0), *w;
	size_t i;

	if (a == NULL || !json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	*n = json_array_size(a);
	*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
	json_array_foreach (a, i, w)
		(*ids)[i] = (uint32_t)json_integer_value(json_object_get(w, "id"));
	json_decref(a);
	return 0;
}

/* Wait until `want` workers are registered; then, once the big job is a quarter done, silence
 * `lose` workers and time how long until each has left the scheduler's list. */
static void
swarm_monitor(struct swarm_run *r, struct proto_call *call)
{
	uint32_t *ids = NULL, lose = r->cfg.lose, gone = 0;
	size_t n = 0;
	bool *seen_gone = xcalloc(lose + 1, sizeof *seen_gone);

	while (swarm_now(r) < r->time_limit &&
	       !(__atomic_load_n(&r->clients_done, __ATOMIC_ACQUIRE) &&
		 (r->silenced_at > 0 || lose == 0) && gone >= lose)) {
		if (r->silenced_at == 0 && lose > 0 && r->big != NULL && r->big->progress >= 0.25) {
			r->silenced_at = swarm_now(r);
			__atomic_store_n(&r->sh->silence, 1, __ATOMIC_RELEASE);
		}
		if (swarm_worker_ids(call, &ids, &n) == 0) {
			if (n > r->peak_workers)
				r->peak_workers = (uint32_t)n;
			for (uint32_t k = 0; r->silenced_at > 0 && k < lose; k++) {
				uint32_t id = __atomic_load_n(&r->sh->silent_ids[k], __ATOMIC_ACQUIRE);
				bool present = false;
				if (id == 0 || seen_gone[k])
					continue;
				for (size_t i = 0; i < n && !present; i++)
					present = ids[i] == id;
				if (!present) {
					seen_gone[k] = true;
					r->detect_s[gone++] = swarm_now(r) - r->silenced_at;
				}
			}
			r->lost_detected = gone;
		}
		swarm_sleep(0.05);
	}
	free(ids);
	free(seen_gone);
}

static pid_t
swarm_start_scheduler(struct swarm_run *r, const char *bin, int port, int http)
{
	char listen[64], hport[64], ttl[32], *state = xasprintf("%s/state", r->cfg.dir),
					    *log = xasprintf("%s/scheduler.log", r->cfg.dir);
	pid_t pid;

	snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
	snprintf(hport, sizeof hport, "127.0.0.1:%d", http);
	snprintf(ttl, sizeof ttl, "%g", r->ttl_s);
	r->cfg.url = xstrdup(listen);
	r->state_dir = state;
	if ((pid = fork()) == 0) {
		execl(bin, bin, "--listen", listen, "--http", hport, "--state-dir", state,
		      "--worker-ttl", ttl, "--heartbeat-interval", "1", "--log-file", log,
		      "--max-attempts", "100", (char *)NULL);
		_exit(127);
	}
	free(log);
	return pid;
}

/* Stop a process we started, by pid: SIGTERM, then SIGKILL after `grace` seconds. */
static int
swarm_stop_pid(pid_t pid, double grace)
{
	int status = 0;
	double end = time_mono_s() + grace;

	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (time_mono_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		swarm_sleep(0.02);
	}
	return 0;
}

static void
swarm_usage(void)
{
	fprintf(stderr,
		"usage: bench-swarm --scheduler PATH [--workers N] [--procs N] [--big-tasks N]\n"
		"         [--clients N] [--client-jobs N] [--client-tasks N] [--lose N]\n"
		"         [--loss P] [--leave P] [--batch N] [--ttl S] [--time-limit S]\n"
		"         [--seed N] [--json FILE]\n");
}

static int
swarm_options(struct swarm_run *r, int argc, char **argv, const char **sched_bin)
{
	static const struct option opts[] = {
	    {"scheduler", 1, 0, 'S'},    {"workers", 1, 0, 'w'},    {"procs", 1, 0, 'p'},
	    {"big-tasks", 1, 0, 'b'},    {"clients", 1, 0, 'c'},    {"client-jobs", 1, 0, 'j'},
	    {"client-tasks", 1, 0, 't'}, {"lose", 1, 0, 'l'},       {"loss", 1, 0, 'L'},
	    {"leave", 1, 0, 'e'},        {"batch", 1, 0, 'B'},      {"ttl", 1, 0, 'T'},
	    {"time-limit", 1, 0, 'm'},   {"seed", 1, 0, 's'},       {"json", 1, 0, 'J'},
	    {0, 0, 0, 0}};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'S': *sched_bin = optarg; break;
		case 'w': r->cfg.workers = (uint32_t)atol(optarg); break;
		case 'p': r->cfg.procs = (uint32_t)atol(optarg); break;
		case 'b': r->big_tasks = (uint32_t)atol(optarg); break;
		case 'c': r->clients = (uint32_t)atol(optarg); break;
		case 'j': r->client_jobs = (uint32_t)atol(optarg); break;
		case 't': r->client_tasks = (uint32_t)atol(optarg); break;
		case 'l': r->cfg.lose = (uint32_t)atol(optarg); break;
		case 'L': r->cfg.loss = atof(optarg); break;
		case 'e': r->cfg.leave = atof(optarg); break;
		case 'B': r->cfg.batch = (uint32_t)atol(optarg); break;
		case 'T': r->ttl_s = atof(optarg); break;
		case 'm': r->time_limit = atof(optarg); break;
		case 's': r->cfg.seed = (uint64_t)atoll(optarg); break;
		case 'J': r->json_path = optarg; break;
		default: swarm_usage(); return -1;
		}
	}
	if (*sched_bin == NULL || r->cfg.workers == 0 || r->cfg.procs == 0 || r->clients == 0 ||
	    r->cfg.lose > r->cfg.workers || r->cfg.lose > 4096 || r->cfg.batch == 0 ||
	    1 + (uint64_t)(r->clients - 1) * r->client_jobs >= SWARM_MAX_JOBS) {
		swarm_usage();
		return -1;
	}
	return 0;
}

static void
swarm_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Fork the worker processes; each runs its share of the workers and exits. */
static void
swarm_start_workers(struct swarm_run *r)
{
	uint32_t per = (r->cfg.workers + r->cfg.procs - 1) / r->cfg.procs, first = 0;

	r->worker_pids = xcalloc(r->cfg.procs, sizeof *r->worker_pids);
	for (uint32_t p = 0; p < r->cfg.procs && first < r->cfg.workers; p++) {
		uint32_t n = first + per > r->cfg.workers ? r->cfg.workers - first : per;
		pid_t pid = fork();
		if (pid == 0)
			_exit(swarm_workers_run(&r->cfg, r->sh, p, first, n) == 0 ? 0 : 1);
		r->worker_pids[p] = pid;
		first += n;
	}
}

static void
swarm_wait_workers(struct swarm_run *r)
{
	double end = time_mono_s() + 10;

	for (uint32_t p = 0; p < r->cfg.procs; p++) {
		int status;
		while (r->worker_pids[p] > 0 && waitpid(r->worker_pids[p], &status, WNOHANG) == 0) {
			if (time_mono_s() > end) {
				swarm_stop_pid(r->worker_pids[p], 2);
				r->worker_procs_failed++;
				break;
			}
			swarm_sleep(0.05);
		}
		if (r->worker_pids[p] > 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
			r->worker_procs_failed++;
	}
}

struct swarm_joiner {
	struct swarm_run *run;
	struct swarm_client *clients;
};

/* Join the client threads, then tell the monitor. */
static void *
swarm_join_clients(void *arg)
{
	struct swarm_joiner *j = arg;

	for (uint32_t i = 0; i < j->run->clients; i++)
		pthread_join(j->clients[i].thread, NULL);
	__atomic_store_n(&j->run->clients_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void
swarm_run_clients(struct swarm_run *r, struct proto_call *mon)
{
	struct swarm_client *cl = xcalloc(r->clients, sizeof *cl);
	struct swarm_joiner j = {.run = r, .clients = cl};
	pthread_t joiner;

	r->jobs = xcalloc(1 + (size_t)r->clients * r->client_jobs, sizeof *r->jobs);
	for (uint32_t i = 0; i < r->clients; i++) {
		cl[i].run = r;
		cl[i].index = i;
		pthread_create(&cl[i].thread, NULL, swarm_client_thread, &cl[i]);
	}
	pthread_create(&joiner, NULL, swarm_join_clients, &j);
	swarm_monitor(r, mon);
	pthread_join(joiner, NULL);
	free(cl);
}

int
main(int argc, char **argv)
{
	struct swarm_run r = {.cfg = {.workers = 1000, .procs = 4, .batch = 16, .loss = 0.0005,
				      .leave = 0.0005, .lose = 100, .seed = 1},
			      .big_tasks = 1000000, .clients = 50, .client_jobs = 4,
			      .client_tasks = 2000, .ttl_s = 5, .time_limit = 300};
	const char *sched_bin = NULL;
	char tmpl[] = "/tmp/nd-swarm-XXXXXX", *token_path, *cause = NULL, *token = NULL;
	struct proto_client mon;
	struct proto_call mon_call;
	int port = test_net_free_port(), http = test_net_free_port(), rc;

	if (swarm_options(&r, argc, argv, &sched_bin) != 0)
		return 2;
	swarm_raise_fd_limit();
	if (mkdtemp(tmpl) == NULL || port < 0 || http < 0) {
		perror("bench-swarm: temporary directory or port");
		return 2;
	}
	r.cfg.dir = tmpl;
	r.sh = mmap(NULL, sizeof *r.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r.sh == MAP_FAILED)
		return 2;
	pthread_mutex_init(&r.lock, NULL);
	r.detect_s = xcalloc(r.cfg.lose + 1, sizeof *r.detect_s);
	r.sh->t0 = time_mono_s();
	r.sched_pid = swarm_start_scheduler(&r, sched_bin, port, http);
	token_path = xasprintf("%s/token", r.state_dir);
	while (token == NULL && swarm_now(&r) < 30 && waitpid(r.sched_pid, NULL, WNOHANG) == 0) {
		if (access(token_path, R_OK) == 0 && token_read(token_path, &token, &cause) != 0) {
			free(cause);
			cause = NULL;
		}
		if (token == NULL)
			swarm_sleep(0.05);
	}
	free(token_path);
	r.cfg.token = token;
	/* nng cannot be used across fork: the worker processes start before this one dials. */
	if (token != NULL)
		swarm_start_workers(&r);
	if (token == NULL || swarm_connect(&r, &mon, &mon_call) != 0) {
		fprintf(stderr, "bench-swarm: the scheduler did not start (files in %s)\n", tmpl);
		swarm_stop_pid(r.sched_pid, 5);
		return 1;
	}
	r.t_start = swarm_now(&r);
	swarm_run_clients(&r, &mon_call);
	r.t_end = swarm_now(&r);
	__atomic_store_n(&r.sh->stop, 1, __ATOMIC_RELEASE);
	swarm_check_sample_scheduler(&r);
	proto_call_close(&mon_call);
	proto_client_close_within(&mon, 100);
	swarm_wait_workers(&r);
	r.sched_stop_failed = swarm_stop_pid(r.sched_pid, 10) != 0;
	rc = swarm_check_report(&r);
	if (rc == 0 && getenv("BENCH_SWARM_KEEP") == NULL)
		swarm_check_remove_dir(tmpl);
	else
		fprintf(stderr, "bench-swarm: files kept in %s\n", tmpl);
	return rc == 0 ? 0 : 1;
}
