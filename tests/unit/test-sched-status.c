/* The status report table: STATUS names and HTTP paths find the same reports, each report says
 * what it is (JSON, or Prometheus text for the metrics, never text in a JSON reply), and the
 * renderings on a scheduler without jobs are what the CLI and the dashboards read. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched-status.h"

Test(sched_status, names_and_paths_find_the_same_reports)
{
	static const char *const pairs[][2] = {
	    {"status", "/api/status"}, {"jobs", "/api/jobs"},       {"jobs", "/api/jobs/"},
	    {"job", "/api/jobs/7"},    {"workers", "/api/workers"}, {"metrics", "/metrics"},
	};
	uint32_t job = 0;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const struct sched_status_entry *r = sched_status_by_what(pairs[i][0]);
		cr_assert_not_null(r, "%s", pairs[i][0]);
		cr_assert_eq(sched_status_by_path(pairs[i][1], &job), r, "%s", pairs[i][1]);
	}
	cr_assert_eq(job, 7);
	cr_assert_eq(sched_status_by_path("/api/jobs/x7", &job), sched_status_by_what("job"));
	cr_assert_eq(job, 0, "an id that is not a number names no job");
	cr_assert_eq(sched_status_by_path("/api/jobs/99999999999", &job),
		     sched_status_by_what("job"));
	cr_assert_eq(job, 0, "an id over UINT32_MAX names no job");
	cr_assert_null(sched_status_by_what("nope"));
	cr_assert_null(sched_status_by_what(NULL));
	cr_assert_null(sched_status_by_path("/api/jobsx", &job));
	cr_assert_null(sched_status_by_path("/api/status/", &job));
	cr_assert_null(sched_status_by_path("/metrics/", &job));
}

Test(sched_status, content_types)
{
	static const char *const json[] = {"status", "jobs", "job", "workers"};

	for (size_t i = 0; i < sizeof json / sizeof json[0]; i++)
		cr_assert_str_eq(sched_status_by_what(json[i])->content_type, "application/json",
				 "%s", json[i]);
	cr_assert_str_eq(sched_status_by_what("metrics")->content_type,
			 "text/plain; version=0.0.4");
}

Test(sched_status, renderings_without_jobs)
{
	struct sched s = {0};
	json_t *v;
	char *body = NULL;

	s.cfg.listen_url = "tcp://127.0.0.1:1";
	cr_assert_eq(sched_status_render(&s, sched_status_by_what("status"), 0, 0, &body), 0);
	v = json_loads(body, 0, NULL);
	cr_assert_not_null(v, "the status report is JSON: %s", body);
	cr_assert_eq(json_integer_value(json_object_get(v, "workers")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(v, "listen")), "tcp://127.0.0.1:1");
	json_decref(v);
	free(body);

	cr_assert_eq(sched_status_render(&s, sched_status_by_what("jobs"), 0, 0, &body), 0);
	cr_assert_str_eq(body, "[]");
	free(body);

	body = NULL;
	cr_assert_eq(sched_status_render(&s, sched_status_by_what("job"), 5, 0, &body), -ENOENT);
	cr_assert_null(body);

	cr_assert_eq(sched_status_render(&s, sched_status_by_what("metrics"), 0, 0, &body), 0);
	cr_assert_null(json_loads(body, 0, NULL), "metrics are text, not JSON");
	cr_assert_not_null(strstr(body, "\nneurodag_workers_connected 0\n"), "%s", body);
	free(body);
}

Test(sched_status, lists_for_errors)
{
	char *whats = sched_status_whats(), *paths = sched_status_paths();

	cr_assert_str_eq(whats, "status, jobs, job, workers, tasks or metrics");
	cr_assert_str_eq(paths, "/api/status /api/jobs /api/jobs/{id} /api/workers /api/tasks /metrics");
	free(whats);
	free(paths);
}
