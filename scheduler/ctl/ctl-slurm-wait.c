/* Following Slurm-launched workers until they register: counts the scheduler's workers whose
 * Slurm job is JOB_n, asks squeue about the array tasks that have not arrived yet, and gives up
 * at the timeout or when Slurm has nothing left to start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/ctl/ctl-slurm-wait.h"

#define CTL_SLURM_WAIT_POLL_S  0.25
#define CTL_SLURM_WAIT_QUEUE_S 2.0

/* What squeue says about the job's array tasks. */
struct ctl_slurm_queue {
	uint32_t pending, running, other;
	char reason[96]; /* the first pending task's reason */
	bool ok;         /* squeue answered */
};

static void
ctl_slurm_wait_queue(const char *job_id, struct ctl_slurm_queue *q)
{
	char *cmd = xasprintf("squeue -h -r -j %s -o '%%T|%%r' 2>/dev/null", job_id), line[256];
	FILE *p = popen(cmd, "r");
	int status;

	memset(q, 0, sizeof *q);
	free(cmd);
	if (p == NULL)
		return;
	while (fgets(line, sizeof line, p) != NULL) {
		char *bar = strchr(line, '|');
		line[strcspn(line, "\r\n")] = '\0';
		if (bar != NULL)
			*bar++ = '\0';
		if (strcmp(line, "PENDING") == 0) {
			if (q->pending++ == 0 && bar != NULL)
				snprintf(q->reason, sizeof q->reason, "%s", bar);
		} else if (strcmp(line, "RUNNING") == 0) {
			q->running++;
		} else if (line[0] != '\0') {
			q->other++;
		}
	}
	status = pclose(p);
	q->ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
ctl_slurm_wait_describe(const struct ctl_slurm_queue *q, char *buf, size_t len)
{
	if (!q->ok) {
		snprintf(buf, len, "squeue does not know the job");
		return;
	}
	snprintf(buf, len, "%u running, %u pending%s%s%s, %u other", q->running, q->pending,
		 q->reason[0] != '\0' ? " (" : "", q->reason, q->reason[0] != '\0' ? ")" : "",
		 q->other);
}

/* Registered workers that belong to the Slurm job: slurm_job "ID_INDEX" (or "ID"). */
static uint32_t
ctl_slurm_wait_count(json_t *workers, const char *job_id)
{
	size_t len = strlen(job_id), i;
	uint32_t n = 0;
	json_t *w;

	json_array_foreach(workers, i, w)
	{
		const char *sj = json_string_value(json_object_get(w, "slurm_job"));
		if (sj != NULL && strncmp(sj, job_id, len) == 0 &&
		    (sj[len] == '_' || sj[len] == '\0'))
			n++;
	}
	return n;
}

int
ctl_slurm_wait(struct ctl_conn *c, const char *job_id, uint32_t nworkers, double timeout_s,
	       const char *log_dir, const char *job_name)
{
	struct ctl_slurm_queue q = {.ok = true};
	double start = time_mono_s(), last_queue = -1e9, last_print = -1e9;
	uint32_t last_count = UINT32_MAX;
	char slurm[160] = "", last_slurm[160] = "";

	for (;;) {
		double now = time_mono_s();
		json_t *workers;
		char *cause = NULL;
		uint32_t count;

		if (ctl_conn_status(c, "workers", 0, &workers, &cause) != 0) {
			fprintf(stderr, "neurodag slurm-workers: %s\n", cause);
			free(cause);
			return CTL_EXIT_CONNECT;
		}
		count = ctl_slurm_wait_count(workers, job_id);
		json_decref(workers);
		if (count >= nworkers) {
			fprintf(stderr, "Slurm job %s: %u/%u workers registered in %.1f s\n",
				job_id, count, nworkers, now - start);
			return CTL_EXIT_OK;
		}
		if (now - last_queue >= CTL_SLURM_WAIT_QUEUE_S) {
			ctl_slurm_wait_queue(job_id, &q);
			ctl_slurm_wait_describe(&q, slurm, sizeof slurm);
			last_queue = now;
			if (q.pending + q.running + q.other == 0 && count < nworkers) {
				/* Ask the scheduler once more: the last ones may have just arrived.
				 */
				if (ctl_conn_status(c, "workers", 0, &workers, NULL) == 0) {
					count = ctl_slurm_wait_count(workers, job_id);
					json_decref(workers);
					if (count >= nworkers)
						continue;
				}
				fprintf(
				    stderr,
				    "neurodag slurm-workers: Slurm job %s has ended, but only %u "
				    "of %u workers registered; see their logs: %s/%s-%s_*.out\n",
				    job_id, count, nworkers, log_dir, job_name, job_id);
				return CTL_EXIT_FAILED;
			}
		}
		if (count != last_count || strcmp(slurm, last_slurm) != 0 ||
		    now - last_print >= 10) {
			fprintf(stderr, "Slurm job %s: %u/%u workers registered (%s), %.0f s\n",
				job_id, count, nworkers, slurm, now - start);
			last_count = count;
			last_print = now;
			snprintf(last_slurm, sizeof last_slurm, "%s", slurm);
		}
		if (timeout_s > 0 && now - start > timeout_s) {
			fprintf(
			    stderr,
			    "neurodag slurm-workers: only %u of %u workers registered after %g s "
			    "(Slurm job %s: %s); the rest may still start: see `squeue -j %s` and "
			    "the logs %s/%s-%s_*.out\n",
			    count, nworkers, timeout_s, job_id, slurm, job_id, log_dir, job_name,
			    job_id);
			return CTL_EXIT_TIMEOUT;
		}
		{
			struct timespec ts = {0, (long)(CTL_SLURM_WAIT_POLL_S * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
}
