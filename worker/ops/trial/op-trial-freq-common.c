/* The keywords every freqanalysis method reads (the reference's names and checks): method,
 * output, the window taper or multitapering, trials and tapers kept, polyremoval, and the
 * frequencies of interest, with their check against the Nyquist frequency. */
#include "worker/ops/trial/op-trial-freq-common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/trial/op-trial-param.h"

/* Every keyword of the reference's freqanalysis; those a method does not use are ignored, as
 * the reference ignores them (with a warning). */
static const char *const op_trial_freq_common_keys[] = {
    "method",      "output",    "keeptrials", "foi",       "foilim",       "pad",
    "polyremoval", "taper",     "taper_opt",  "tapsmofrq", "nTaper",       "keeptapers",
    "toi",         "t_ftimwin", "wavelet",    "width",     "order",        "order_max",
    "order_min",   "c_1",       "adaptive",   "ft_compat", "demean_taper", NULL,
};

static int
op_trial_freq_common_list(const json_t *v, const char *path, const char *key, double *out,
			  size_t max, size_t *n, char **cause)
{
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max)
		return error_set(cause, -EINVAL,
				 "%s.%s: must be a list of 1 to %zu frequencies (Hz)", path, key,
				 max);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_number(x) || !(json_number_value(x) >= 0) ||
		    !isfinite(json_number_value(x)))
			return error_set(cause, -EINVAL,
					 "%s.%s[%zu]: must be a frequency >= 0 (Hz)", path, key, i);
		out[i] = json_number_value(x);
	}
	*n = json_array_size(v);
	return 0;
}

static int
op_trial_freq_common_taper(const json_t *step, const char *path, struct op_trial_freq_common *c,
			   char **cause)
{
	json_t *topt = json_object_get(step, "taper_opt");
	const char *taper;

	/* taper null is the reference's None: no taper (boxcar). */
	taper = json_is_null(json_object_get(step, "taper")) ? "none" : NULL;
	if (taper == NULL && op_param_string(step, path, "taper", 0, "hann", &taper, cause) != 0)
		return -EINVAL;
	if (dsp_taper_window_parse(taper, &c->taper, cause) != 0 || c->taper == DSP_TAPER_DPSS) {
		free(*cause);
		*cause = NULL;
		return error_set(cause, -EINVAL,
				 "%s.taper: '%s' is not a window (none/boxcar, hann, "
				 "hamming, blackman, kaiser; multitapering with tapsmofrq)",
				 path, taper);
	}
	if (topt != NULL && !json_is_null(topt)) {
		json_t *beta = json_object_get(topt, "beta");
		if (!json_is_object(topt) || json_object_size(topt) != 1 || !json_is_number(beta))
			return error_set(cause, -EINVAL,
					 "%s.taper_opt: must be {\"beta\": number} "
					 "(kaiser)",
					 path);
		c->kaiser_beta = json_number_value(beta);
	} else if (c->taper == DSP_TAPER_KAISER) {
		return error_set(cause, -EINVAL, "%s.taper_opt: kaiser needs {\"beta\": number}",
				 path);
	}
	if (c->tapsmofrq > 0 && c->taper != DSP_TAPER_HANN)
		return error_set(cause, -EINVAL,
				 "%s.tapsmofrq: multitapering (dpss) replaces the "
				 "taper, which must stay hann (the default), not '%s'",
				 path, taper);
	return 0;
}

int
op_trial_freq_common(const json_t *step, const char *path, struct op_trial_freq_common *c,
		     char **cause)
{
	json_t *foi = json_object_get(step, "foi"), *foilim = json_object_get(step, "foilim");
	const char *output;
	long long ntaper;

	memset(c, 0, sizeof *c);
	if (op_param_keys(step, path, op_trial_freq_common_keys, cause) != 0 ||
	    op_param_string(step, path, "method", 0, "mtmfft", &c->method, cause) != 0 ||
	    op_param_string(step, path, "output", 0, "pow", &output, cause) != 0 ||
	    (!json_is_null(json_object_get(step, "tapsmofrq")) &&
	     op_param_number(step, path, "tapsmofrq", 0, 1e-9, 1e9, 0, &c->tapsmofrq, cause) !=
		 0) ||
	    (!json_is_null(json_object_get(step, "nTaper")) &&
	     op_param_int(step, path, "nTaper", 0, 1, 10000, 0, &ntaper, cause) != 0) ||
	    op_param_bool(step, path, "keeptrials", true, &c->keeptrials, cause) != 0 ||
	    op_param_bool(step, path, "keeptapers", false, &c->keeptapers, cause) != 0 ||
	    op_trial_param_poly(step, path, "polyremoval", 0, &c->polyremoval, cause) != 0 ||
	    op_trial_freq_common_taper(step, path, c, cause) != 0)
		return -EINVAL;
	if (json_is_null(json_object_get(step, "nTaper")))
		ntaper = 0;
	if (ntaper > 0 && c->tapsmofrq == 0)
		return error_set(cause, -EINVAL, "%s.nTaper: needs tapsmofrq (multitapering)",
				 path);
	c->ntaper = (size_t)ntaper;
	if (dsp_mtmfft_output_parse(output, &c->output, cause) != 0)
		return op_trial_param_wrap(cause, -EINVAL, path);
	c->output_name = output;
	if (c->tapsmofrq > 0 && !c->keeptapers && c->output != DSP_MTMFFT_POW)
		return error_set(cause, -EINVAL,
				 "%s.keeptapers: Invalid value of `output|keeptapers`: "
				 "'%s'|False; expected 'pow'|False or '%s'|True, set either "
				 "keeptapers=True or `output='pow'`!",
				 path, output, output);
	if (foi != NULL && !json_is_null(foi) && foilim != NULL && !json_is_null(foilim))
		return error_set(cause, -EINVAL,
				 "%s.foilim: Invalid value of `foi/foilim`: 'both'; expected "
				 "either `foi` or `foilim` specification",
				 path);
	if (foi != NULL && !json_is_null(foi) &&
	    op_trial_freq_common_list(foi, path, "foi", c->foi, sizeof c->foi / sizeof c->foi[0],
				      &c->nfoi, cause) != 0)
		return -EINVAL;
	if (foilim != NULL && !json_is_null(foilim)) {
		size_t n;
		if (op_trial_freq_common_list(foilim, path, "foilim", c->foilim, 2, &n, cause) !=
			0 ||
		    n != 2)
			return error_set(cause, -EINVAL,
					 "%s.foilim: must be [low, high] with "
					 "0 <= low <= high (Hz)",
					 path);
		if (c->foilim[0] > c->foilim[1]) { /* the reference sorts it */
			double lo = c->foilim[1];
			c->foilim[1] = c->foilim[0];
			c->foilim[0] = lo;
		}
		c->use_foilim = true;
	}
	return 0;
}

/* foi/foilim within [0, fs/2], the reference's check of both. */
int
op_trial_freq_common_nyquist(const struct op_trial_freq_common *c, double fs, const char *path,
			     char **cause)
{
	const double *v = c->use_foilim ? c->foilim : c->foi;
	size_t n = c->use_foilim ? 2 : c->nfoi;

	for (size_t i = 0; i < n; i++)
		if (!(v[i] >= 0 && v[i] <= fs / 2))
			return error_set(cause, -EINVAL,
					 "%s.%s: Invalid value of `%s`: '%g'; expected value to "
					 "be greater or equals 0 and less or equals %g",
					 path, c->use_foilim ? "foilim" : "foi",
					 c->use_foilim ? "foilim" : "foi", v[i], fs / 2);
	return 0;
}
