/* The report input: what the steps of a recording pipeline leave for the correction report, as
 * small JSON documents in the job's work dir (report/<name>.json), written by any task and read
 * by the report step at the end. Known names:
 *   "r_peaks": {"fs": Hz, "samples": [R-peak sample indices at fs], "channel": "ECG",
 *               "before_stage": the unit stage whose files hold the channels before the pulse
 *               correction (optional; without it, "before" is the input)}
 * The report draws the pulse-locked average before and after when "r_peaks" is there. */
#ifndef ND_REC_REPORT_H
#define ND_REC_REPORT_H

#include <jansson.h>

/* Write `v` (reference taken) as report/<name>.json in workdir, through a temporary name.
 * 0 or -errno with a cause. */
int rec_report_put(const char *workdir, const char *name, json_t *v, char **cause);
/* The document `name` (new reference), or NULL when no step wrote it. */
json_t *rec_report_get(const char *workdir, const char *name);

#endif
