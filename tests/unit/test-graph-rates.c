/* A recording pipeline's rates checked at submit (graph-input-rates.c): on a generated EDF at
 * 2048 Hz, a filter edge at or above a corrected channel's Nyquist frequency, followed through
 * the steps' rate changes and channel picks, and a rate change that leaves no sample or a
 * channel past 2^31 samples, refuse the graph naming the step, its parameter and the channel;
 * the edges just below and the changes within bounds are taken. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"
#include "worker/synth/synth-fmri.h"

static char rates_dir[] = "/tmp/nd-test-graph-rates-XXXXXX";
static char *rates_edf;

static void
rates_setup(void)
{
	struct synth_fmri_params p;
	char *cause = NULL;

	cr_assert_not_null(mkdtemp(rates_dir));
	rates_edf = xasprintf("%s/rec.edf", rates_dir);
	synth_fmri_params_init(&p);
	p.n_eeg = 2;
	p.duration = 12;
	cr_assert_eq(synth_fmri_write(&p, rates_edf, NULL, &cause), 0, "%s", cause);
}

static void
rates_teardown(void)
{
	paths_remove_tree(rates_dir);
	free(rates_edf);
}

/* graph_build of the steps on the EDF: 0, or the error in *cause (caller frees). */
static int
rates_build(const char *steps, char **cause)
{
	char *text = xasprintf("{\"input\": {\"format\": \"edf\", \"path\": \"%s\"}, \"steps\": %s}",
			       rates_edf, steps);
	struct graph *g = NULL;
	int rc;

	*cause = NULL;
	rc = graph_build(text, NULL, NULL, rates_dir, &g, cause);
	graph_free(g);
	free(text);
	return rc;
}

static void
rates_ok(const char *steps)
{
	char *cause;

	cr_assert_eq(rates_build(steps, &cause), 0, "%s: %s", steps, cause);
}

/* Refused, the message holding each of the NULL-terminated fragments. */
static void
rates_refused(const char *steps, ...)
{
	char *cause;
	va_list ap;

	cr_assert_neq(rates_build(steps, &cause), 0, "%s is taken", steps);
	cr_assert_not_null(cause);
	va_start(ap, steps);
	for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
		cr_assert_not_null(strstr(cause, want), "%s: '%s' lacks '%s'", steps, cause, want);
	va_end(ap);
	free(cause);
}

TestSuite(graph_rates, .init = rates_setup, .fini = rates_teardown);

Test(graph_rates, filter_edges_against_the_nyquist_frequency)
{
	rates_ok("[{\"op\": \"highpass\", \"freq\": 1023}]");
	rates_refused("[{\"op\": \"highpass\", \"freq\": 1024}]", "steps[0].freq", "1024 Hz",
		      "Nyquist frequency (1024 Hz)", "2048 Hz", "(line 1, column", NULL);
	rates_refused("[{\"op\": \"highpass\", \"freq\": 5000}]", "steps[0].freq", NULL);
	rates_ok("[{\"op\": \"lowpass\", \"freq\": 1000}]");
	rates_refused("[{\"op\": \"lowpass\", \"freq\": 30}, {\"op\": \"lowpass\", \"freq\": 2000}]",
		      "steps[1].freq", "2000 Hz", NULL);
	rates_ok("[{\"op\": \"bandpass\", \"low\": 1, \"high\": 1000}]");
	rates_refused("[{\"op\": \"bandpass\", \"low\": 1, \"high\": 1500}]", "steps[0].high", NULL);
	rates_refused("[{\"op\": \"notch\", \"freqs\": [50, 1100]}]", "steps[0].freqs", "1100 Hz",
		      NULL);
}

Test(graph_rates, rate_changes_are_followed)
{
	/* after a 4x downsample the rate is 512 Hz, its Nyquist frequency 256 Hz */
	rates_ok("[{\"op\": \"downsample\", \"factor\": 4}, {\"op\": \"lowpass\", \"freq\": 255}]");
	rates_refused("[{\"op\": \"downsample\", \"factor\": 4}, {\"op\": \"lowpass\", \"freq\": 300}]",
		      "steps[1].freq", "Nyquist frequency (256 Hz)", "512 Hz", NULL);
	/* after a 10x upsample, 10240 Hz: a 3 kHz edge is below 5120 Hz */
	rates_ok("[{\"op\": \"upsample\", \"factor\": 10}, {\"op\": \"highpass\", \"freq\": 3000}, "
		 "{\"op\": \"downsample\", \"factor\": 10}, {\"op\": \"lowpass\", \"freq\": 70}]");
	rates_refused("[{\"op\": \"upsample\", \"factor\": 10}, {\"op\": \"downsample\", \"factor\": "
		      "10}, {\"op\": \"highpass\", \"freq\": 3000}]",
		      "steps[2].freq", NULL);
	rates_ok("[{\"op\": \"resample\", \"rate\": 500}, {\"op\": \"lowpass\", \"freq\": 249}]");
	rates_refused("[{\"op\": \"resample\", \"rate\": 500}, {\"op\": \"lowpass\", \"freq\": 250}]",
		      "steps[1].freq", NULL);
}

Test(graph_rates, rate_changes_within_bounds)
{
	/* 12 s at 2048 Hz: 24576 samples; 1000x is 24.6 M, 100000x 2.46 G > 2^31 */
	rates_ok("[{\"op\": \"upsample\", \"factor\": 1000}]");
	rates_refused("[{\"op\": \"upsample\", \"factor\": 100000}]", "steps[0].factor", "upsample",
		      "at most 2147483648 samples", NULL);
	rates_refused("[{\"op\": \"upsample\", \"factor\": 1000000}]", "steps[0].factor",
		      "at most 2147483648 samples", NULL);
	/* 5000x: 10.24 MHz (123 M samples) */
	rates_ok("[{\"op\": \"upsample\", \"factor\": 4000}]");
	rates_refused("[{\"op\": \"upsample\", \"factor\": 5000}]", "steps[0].factor",
		      "to 1.024e+07 Hz, above 1e+07 Hz", NULL);
	rates_refused("[{\"op\": \"lowpass\", \"freq\": 30}, {\"op\": \"downsample\", \"factor\": "
		      "100000}]",
		      "steps[1].factor", "leaves no sample", NULL);
	rates_refused("[{\"op\": \"upsample\", \"factor\": 1000}, {\"op\": \"upsample\", "
		      "\"factor\": 100}]",
		      "steps[1].factor", NULL);
}

Test(graph_rates, only_the_channels_the_steps_touch)
{
	/* no channel left to correct: nothing is filtered, nothing to refuse */
	rates_ok("[{\"op\": \"drop_channels\", \"channels\": [\"Fp1\", \"Fp2\", \"EMG\", "
		 "\"ECG\"]}, {\"op\": \"highpass\", \"freq\": 5000}]");
	rates_refused("[{\"op\": \"pick_channels\", \"channels\": [\"ECG\"]}, "
		      "{\"op\": \"highpass\", \"freq\": 5000}]",
		      "channel ECG", NULL);
}
