/* timelockanalysis statistics: Welford's update per trial, Chan et al.'s merge of two parts'
 * (n, mean, M2), the per-trial channel covariance (dsp_xcov_cov), and the float32 outputs. */
#include "worker/ops/trial/data/trial-timelock.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "worker/dsp/connectivity/dsp-xcov.h"
#include "worker/dsp/core/dsp-trial.h"

void
trial_timelock_init(struct trial_timelock *s, size_t nsamp, size_t nchan, bool covariance,
		    bool keeptrials, int ddof, size_t ntrials)
{
	memset(s, 0, sizeof *s);
	s->covariance = covariance;
	s->keeptrials = keeptrials;
	s->ddof = ddof;
	s->nsamp = nsamp;
	s->nchan = nchan;
	s->cnt = xcalloc(nchan + 1, sizeof *s->cnt);
	s->mean = xcalloc(nsamp * nchan + 1, sizeof *s->mean);
	s->m2 = xcalloc(nsamp * nchan + 1, sizeof *s->m2);
	s->ncov = !covariance ? 0 : keeptrials ? ntrials : 1;
	s->cov = xcalloc(s->ncov * nchan * nchan + 1, sizeof *s->cov);
}

int
trial_timelock_add(struct trial_timelock *s, const struct dsp_trial *x, char **cause)
{
	size_t len = s->nsamp * s->nchan, nn = s->nchan * s->nchan;
	double *v = xmalloc(len * sizeof *v + 1), *cols = xmalloc(len * sizeof *cols + 1);
	int rc = 0;

	dsp_trial_to_columns(x, cols); /* channel-major: back to sample-major below */
	for (size_t c = 0; c < s->nchan; c++)
		for (size_t i = 0; i < s->nsamp; i++)
			v[i * s->nchan + c] = cols[c * s->nsamp + i];
	s->n++;
	for (size_t c = 0; c < s->nchan; c++)
		s->cnt[c] = (double)s->n;
	for (size_t e = 0; e < len; e++) {
		double d = v[e] - s->mean[e];
		s->mean[e] += d / (double)s->n;
		s->m2[e] += d * (v[e] - s->mean[e]);
	}
	if (s->covariance) {
		double *c = s->keeptrials ? s->cov + (s->n - 1) * nn : xmalloc(nn * sizeof *c);
		int ddof = s->ddof < 0 ? 1 : s->ddof;
		rc = dsp_xcov_cov(x, ddof, c, cause);
		for (size_t e = 0; rc == 0 && !s->keeptrials && e < nn; e++)
			s->cov[e] += c[e];
		if (!s->keeptrials)
			free(c);
	}
	free(v);
	free(cols);
	return rc;
}

size_t
trial_timelock_packed_len(const struct trial_timelock *s)
{
	return 1 + 2 * s->nsamp * s->nchan + s->ncov * s->nchan * s->nchan;
}

void
trial_timelock_pack(const struct trial_timelock *s, double *out)
{
	size_t len = s->nsamp * s->nchan;

	out[0] = (double)s->n;
	memcpy(out + 1, s->mean, len * sizeof *out);
	memcpy(out + 1 + len, s->m2, len * sizeof *out);
	memcpy(out + 1 + 2 * len, s->cov, s->ncov * s->nchan * s->nchan * sizeof *out);
}

void
trial_timelock_merge(struct trial_timelock *s, const double *packed, size_t chan0, size_t nch,
		     size_t ncov, size_t cov_row)
{
	size_t len = s->nsamp * nch, nn = s->nchan * s->nchan;
	double nb = packed[0];
	const double *mb = packed + 1, *m2b = packed + 1 + len, *cb = packed + 1 + 2 * len;

	if (nb == 0)
		return;
	for (size_t c = 0; c < nch; c++) {
		double na = s->cnt[chan0 + c], n = na + nb;
		for (size_t i = 0; i < s->nsamp; i++) {
			size_t g = i * s->nchan + chan0 + c, p = i * nch + c;
			double d = mb[p] - s->mean[g];
			s->mean[g] += d * nb / n;
			s->m2[g] += m2b[p] + d * d * na * nb / n;
		}
		s->cnt[chan0 + c] = n;
	}
	if (s->keeptrials)
		memcpy(s->cov + cov_row * nn, cb, ncov * nn * sizeof *cb);
	else
		for (size_t e = 0; s->covariance && e < nn; e++)
			s->cov[e] += cb[e];
	if (chan0 == 0)
		s->n += (uint64_t)nb;
}

void
trial_timelock_finalize(const struct trial_timelock *s, float **avg, float **var, float **cov)
{
	size_t len = s->nsamp * s->nchan, nn = s->nchan * s->nchan;

	*avg = xmalloc(len * sizeof **avg + 1);
	*var = xmalloc(len * sizeof **var + 1);
	for (size_t e = 0; e < len; e++) {
		double n = s->cnt[e % s->nchan];
		(*avg)[e] = (float)s->mean[e];
		(*var)[e] = (float)(n > 0 ? s->m2[e] / n : 0);
	}
	*cov = NULL;
	if (!s->covariance)
		return;
	*cov = xmalloc(s->ncov * nn * sizeof **cov + 1);
	for (size_t e = 0; e < s->ncov * nn; e++)
		(*cov)[e] = (float)(s->keeptrials ? s->cov[e] : s->cov[e] / (double)s->n);
}

void
trial_timelock_fini(struct trial_timelock *s)
{
	if (s == NULL)
		return;
	free(s->cnt);
	free(s->mean);
	free(s->m2);
	free(s->cov);
	memset(s, 0, sizeof *s);
}
