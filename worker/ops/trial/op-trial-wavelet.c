/* freqanalysis methods wavelet and superlet as a trial op: wavelet family, width and order as
 * the reference's frontend treats them (width is checked but, as there, the Morlet keeps
 * w0 = 6), superlet orders and cycles, foi (foilim in 1 Hz steps, or the reference's default
 * scales), toi "all" or an equidistant list, then the shared time-frequency loop. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-cwt.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial-tfr.h"

static size_t
op_trial_wavelet_ntime(const void *m, size_t nsamp)
{
	return dsp_cwt_ntime(m, nsamp);
}

static int
op_trial_wavelet_trial(const void *m, const struct dsp_trial *x, double offset, double *out,
		       void **work, char **cause)
{
	struct dsp_cwt_conv_work *w = *work;
	int rc = dsp_cwt_conv_trial(m, x, offset, out, &w, cause);

	*work = w;
	return rc;
}

static void
op_trial_wavelet_work_free(void *work)
{
	dsp_cwt_conv_work_free(work);
}

struct op_trial_wavelet {
	struct op_trial_freq_common c;
	struct op_trial_tfr_toi toi;
	struct dsp_cwt_params p;
	double *foi; /* owned */
};

static int
op_trial_wavelet_family(const json_t *step, const char *path, struct dsp_cwt_params *p,
			char **cause)
{
	const char *name;
	double width;
	long long order = 0;
	json_t *ov = json_object_get(step, "order");

	if (op_param_string(step, path, "wavelet", 0, "Morlet", &name, cause) != 0)
		return -EINVAL;
	if (strcmp(name, "Morlet") == 0)
		p->family = DSP_CWT_MORLET;
	else if (strcmp(name, "Paul") == 0)
		p->family = DSP_CWT_PAUL;
	else if (strcmp(name, "DOG") == 0)
		p->family = DSP_CWT_DOG;
	else
		return error_set(cause, -EINVAL,
				 "%s.wavelet: Invalid value of `wavelet`: '%s'; expected 'Morlet' "
				 "or 'Paul' or 'DOG'",
				 path, name);
	/* Checked as the reference checks it; its Morlet is then built with w0 = 6 regardless. */
	if (p->family == DSP_CWT_MORLET &&
	    op_param_number(step, path, "width", 0, 1, INFINITY, 6, &width, cause) != 0)
		return -EINVAL;
	if (p->family == DSP_CWT_MORLET)
		return 0;
	if (ov == NULL || json_is_null(ov) || !json_is_integer(ov))
		return error_set(cause, -EINVAL,
				 "%s.order: Invalid type of `order`: expected scalar (an integer "
				 "order for the %s wavelet)",
				 path, name);
	order = json_integer_value(ov);
	if (order < (p->family == DSP_CWT_PAUL ? 4 : 1) || order > 100)
		return error_set(cause, -EINVAL,
				 "%s.order: Invalid value of `order`: '%lld'; expected value to be "
				 "greater or equals %d and less or equals inf",
				 path, order, p->family == DSP_CWT_PAUL ? 4 : 1);
	p->order = (int)order;
	return 0;
}

static int
op_trial_wavelet_superlet(const json_t *step, const char *path, struct dsp_cwt_params *p,
			  char **cause)
{
	long long omax, omin, c1;

	p->family = DSP_CWT_SUPERLET;
	if (json_object_get(step, "order_max") == NULL ||
	    json_is_null(json_object_get(step, "order_max")))
		return error_set(cause, -EINVAL,
				 "%s.order_max: Invalid value of `order_max`: 'None'; expected "
				 "Positive integer needed for order_max",
				 path);
	if (op_param_int(step, path, "order_max", 1, 1, 1000, 0, &omax, cause) != 0 ||
	    op_param_int(step, path, "order_min", 0, 1, 1000, 1, &omin, cause) != 0 ||
	    op_param_int(step, path, "c_1", 0, 1, 1000, 3, &c1, cause) != 0 ||
	    op_param_bool(step, path, "adaptive", false, &p->adaptive, cause) != 0)
		return -EINVAL;
	if (omin > omax)
		return error_set(cause, -EINVAL,
				 "%s.order_min: Invalid value of `order_min`: '%lld'; expected "
				 "value to be greater or equals 1 and less or equals %lld",
				 path, omin, omax);
	p->order_max = (int)omax;
	p->order_min = (int)omin;
	p->c_1 = (int)c1;
	return 0;
}

/* foi as given, foilim in 1 Hz steps, or the reference's default scales. */
static void
op_trial_wavelet_foi(struct op_trial_wavelet *f, const struct trial_layout *lay)
{
	struct dsp_cwt_params *p = &f->p;
	size_t n = 0;

	if (f->c.nfoi > 0) {
		f->foi = xmalloc(f->c.nfoi * sizeof *f->foi);
		memcpy(f->foi, f->c.foi, f->c.nfoi * sizeof *f->foi);
		n = f->c.nfoi;
	} else if (f->c.use_foilim) {
		double lo = f->c.foilim[0], cnt = ceil(f->c.foilim[1] + 1 - lo);
		n = cnt > 0 ? (size_t)cnt : 0;
		f->foi = xmalloc((n + 1) * sizeof *f->foi);
		for (size_t i = 0; i < n; i++)
			f->foi[i] = lo + (double)i;
	} else {
		dsp_cwt_default_foi(p->family, p->order, lay->fs, trial_layout_minlen(lay), &f->foi,
				    &n);
	}
	for (size_t i = 0; i < n; i++)
		f->foi[i] = f->foi[i] < 0.01 ? 0.01 : f->foi[i];
	p->foi = f->foi;
	p->nfoi = n;
}

static int
op_trial_wavelet_parse(const json_t *step, const char *path, const struct trial_layout *lay,
		       bool superlet, struct op_trial_wavelet *f, char **cause)
{
	struct dsp_cwt_params *p = &f->p;

	dsp_cwt_params_init(p, lay->fs);
	if (op_trial_freq_common(step, path, &f->c, cause) != 0 ||
	    op_trial_freq_common_nyquist(&f->c, lay->fs, path, cause) != 0 ||
	    op_trial_tfr_toi(step, path, &f->toi, cause) != 0 ||
	    op_trial_tfr_toi_bounds(&f->toi, lay, path, cause) != 0)
		return -EINVAL;
	if (superlet ? op_trial_wavelet_superlet(step, path, p, cause) != 0
		     : op_trial_wavelet_family(step, path, p, cause) != 0)
		return -EINVAL;
	op_trial_wavelet_foi(f, lay);
	p->toi_kind = f->toi.kind;
	p->toi = f->toi.n > 0 ? f->toi.list : NULL;
	p->ntoi = f->toi.n;
	p->polyremoval = f->c.polyremoval;
	p->output = f->c.output;
	return 0;
}

int
op_trial_wavelet_apply(struct trial_run *t, const json_t *step, const char *path, bool superlet,
		       char **cause)
{
	struct op_trial_wavelet *f = xcalloc(1, sizeof *f);
	struct dsp_cwt *m = NULL;
	int rc;

	rc = op_trial_wavelet_parse(step, path, &t->lay, superlet, f, cause);
	if (rc == 0 && (rc = dsp_cwt_new(&f->p, &m, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0) {
		struct op_trial_tfr k = {
		    .m = m,
		    .ntime = op_trial_wavelet_ntime,
		    .trial = op_trial_wavelet_trial,
		    .work_free = op_trial_wavelet_work_free,
		    .ntap = 1,
		    .nfreq = dsp_cwt_nfreq(m),
		    .complex = f->c.output == DSP_MTMFFT_FOURIER,
		    .keeptrials = f->c.keeptrials,
		    .freqs = dsp_cwt_freqs(m),
		    .taper = "None",
		    .toi = f->toi.kind == DSP_TFR_TOI_LIST ? f->toi.list : NULL,
		    .ntoi = f->toi.n,
		};
		rc = op_trial_tfr_finish(t, &k, step, path, cause);
	}
	dsp_cwt_free(m);
	free(f->foi);
	free(f);
	return rc;
}
