/* freqanalysis methods mtmconvol and welch as a trial op: t_ftimwin, toi (fraction, "all" or a
 * list), tapers and DPSS from the mean trial length, checked against the layout as the
 * reference's frontend checks them, then the shared time-frequency loop. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-mtmconvol.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial-tfr.h"

static size_t
op_trial_mtmconvol_ntime(const void *m, size_t nsamp)
{
	return dsp_mtmconvol_ntime(m, nsamp);
}

static int
op_trial_mtmconvol_trial(const void *m, const struct dsp_trial *x, double offset, double *out,
			 void **work, char **cause)
{
	struct dsp_mtmconvol_work *w = *work;
	int rc = dsp_mtmconvol_trial(m, x, offset, out, &w, cause);

	*work = w;
	return rc;
}

static void
op_trial_mtmconvol_work_free(void *work)
{
	dsp_mtmconvol_work_free(work);
}

struct op_trial_mtmconvol {
	struct op_trial_freq_common c;
	struct op_trial_tfr_toi toi;
	struct dsp_mtmconvol_params p;
};

static int
op_trial_mtmconvol_parse(const json_t *step, const char *path, const struct trial_layout *lay,
			 bool welch, struct op_trial_mtmconvol *f, char **cause)
{
	struct dsp_mtmconvol_params *p = &f->p;
	json_t *win = json_object_get(step, "t_ftimwin");

	if (op_trial_freq_common(step, path, &f->c, cause) != 0 ||
	    op_trial_freq_common_nyquist(&f->c, lay->fs, path, cause) != 0 ||
	    op_trial_tfr_toi(step, path, &f->toi, cause) != 0 ||
	    op_trial_tfr_toi_bounds(&f->toi, lay, path, cause) != 0)
		return -EINVAL;
	if (win == NULL || !json_is_number(win))
		return error_set(cause, -EINVAL,
				 "%s.t_ftimwin: Invalid value of `t_ftimwin`: '%s'; expected the "
				 "window length in s (please specify 't_ftimwin')",
				 path, win == NULL ? "None" : "not a number");
	dsp_mtmconvol_params_init(p, lay->fs);
	p->taper = f->c.taper;
	p->kaiser_beta = f->c.kaiser_beta;
	p->tapsmofrq = f->c.tapsmofrq;
	p->ntaper = f->c.ntaper;
	p->t_ftimwin = json_number_value(win);
	p->toi_kind = f->toi.kind;
	p->toi_frac = f->toi.frac;
	p->toi = f->toi.n > 0 ? f->toi.list : NULL;
	p->ntoi = f->toi.n;
	p->foi = f->c.nfoi > 0 ? f->c.foi : NULL;
	p->nfoi = f->c.nfoi;
	p->use_foilim = f->c.use_foilim;
	memcpy(p->foilim, f->c.foilim, sizeof p->foilim);
	p->polyremoval = f->c.polyremoval;
	p->output = f->c.output;
	p->keeptapers = f->c.keeptapers && f->c.tapsmofrq > 0;
	p->welch = welch;
	p->mean_len = trial_layout_meanlen(lay);
	p->min_len = trial_layout_minlen(lay);
	return 0;
}

int
op_trial_mtmconvol_apply(struct trial_run *t, const json_t *step, const char *path, bool welch,
			 char **cause)
{
	struct op_trial_mtmconvol *f = xcalloc(1, sizeof *f);
	struct dsp_mtmconvol *m = NULL;
	int rc;

	rc = op_trial_mtmconvol_parse(step, path, &t->lay, welch, f, cause);
	if (rc == 0 && (rc = dsp_mtmconvol_new(&f->p, &m, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0) {
		struct op_trial_tfr k = {
		    .m = m,
		    .ntime = op_trial_mtmconvol_ntime,
		    .trial = op_trial_mtmconvol_trial,
		    .work_free = op_trial_mtmconvol_work_free,
		    .ntap = dsp_mtmconvol_ntap(m),
		    .nfreq = dsp_mtmconvol_nfreq(m),
		    .complex = f->c.output == DSP_MTMFFT_FOURIER,
		    .keeptrials = f->c.keeptrials,
		    .freqs = dsp_mtmconvol_freqs(m),
		    .taper = dsp_mtmconvol_taper(m),
		    .step = f->toi.kind == DSP_TFR_TOI_FRACTION ? dsp_mtmconvol_step(m) : 0,
		    .toi = f->toi.kind == DSP_TFR_TOI_LIST ? f->toi.list : NULL,
		    .ntoi = f->toi.n,
		    .welch = welch,
		};
		rc = op_trial_tfr_finish(t, &k, step, path, cause);
	}
	dsp_mtmconvol_free(m);
	free(f);
	return rc;
}
