/* What the amplifier records of the gradient waveforms, for both artifact models: the three
 * waveforms of a slice through the amplifier's anti-aliasing low-pass, once, into a table over
 * the time since the slice onset at 32 points per sample period (generating at 32 times the rate
 * and filtering before sampling, as an amplifier does), which every sample of every channel
 * reads with its own mixing. The gradient model records the waveforms themselves; the induced
 * model their time derivative (Faraday: what an electrode loop picks up), normalised to peak 1. */
#include <math.h>
#include <stdlib.h>

#include "common/xmalloc.h"
#include "worker/synth/synth-fmri-priv.h"

#define SYNTH_FMRI_AMP_RES  32   /* table points per sample period */
#define SYNTH_FMRI_AMP_HALF 8    /* half-length of the low-pass, in samples */
#define SYNTH_FMRI_AMP_FC   0.25 /* its cut-off, in units of the sampling rate */

/* The amplifier: a Hann-windowed sinc at fc = rate/4 over ±8 samples (transition about rate/8,
 * side lobes near -44 dB), so what folds back past rate/2 is small, as with a recording
 * amplifier's analog filter. Unit gain at DC; taps at the table's spacing dt. */
static double *
synth_fmri_amp_lowpass(double rate, double dt, size_t *ntaps)
{
	size_t half = (size_t)SYNTH_FMRI_AMP_HALF * SYNTH_FMRI_AMP_RES, n = 2 * half + 1;
	double *h = xmalloc(n * sizeof *h), fc = SYNTH_FMRI_AMP_FC * rate, sum = 0;

	for (size_t i = 0; i < n; i++) {
		double k = (double)i - (double)half, x = k * dt;
		double w = 0.5 + 0.5 * cos(M_PI * k / (double)(half + 1));

		h[i] = w * (x == 0 ? 2 * fc : sin(2 * M_PI * fc * x) / (M_PI * x));
		sum += h[i];
	}
	for (size_t i = 0; i < n; i++)
		h[i] /= sum;
	*ntaps = n;
	return h;
}

void
synth_fmri_table_init(struct synth_fmri *s, int derivative)
{
	const struct synth_fmri_params *p = &s->p;
	const double T = 1.0 / p->rate, dt = T / SYNTH_FMRI_AMP_RES;
	const double pad = SYNTH_FMRI_AMP_HALF * T, active = p->epi_active * p->slice_interval;
	size_t nt, n = (size_t)ceil((active + 2 * pad) / dt) + 1, ng;
	double *h = synth_fmri_amp_lowpass(p->rate, dt, &nt), *g, *f, big = 0;

	/* Waveforms from -2·pad: the filter reaches pad either side of every table point, and
	 * one more point each side for the derivative. */
	ng = n + nt + 1;
	g = xmalloc(ng * 3 * sizeof *g);
	for (size_t i = 0; i < ng; i++)
		synth_fmri_gradient_waveforms(p, -2 * pad - dt + (double)i * dt, g + 3 * i);
	f = xmalloc((n + 2) * 3 * sizeof *f);
	for (size_t i = 0; i < n + 2; i++)
		for (int j = 0; j < 3; j++) {
			double acc = 0;

			for (size_t m = 0; m < nt; m++)
				acc += h[m] * g[3 * (i + m) + j];
			f[3 * i + j] = acc;
		}
	s->table = xmalloc(n * 3 * sizeof *s->table);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 3; j++) {
			double d = derivative ? (f[3 * (i + 2) + j] - f[3 * i + j]) / (2 * dt)
					      : f[3 * (i + 1) + j];

			s->table[3 * i + j] = d;
			big = fmax(big, fabs(d));
		}
	for (size_t i = 0; derivative && big > 0 && i < 3 * n; i++)
		s->table[i] /= big;
	s->table_t0 = -pad;
	s->table_dt = dt;
	s->table_n = n;
	free(h);
	free(g);
	free(f);
}

double
synth_fmri_table_at(const struct synth_fmri *s, const struct synth_fmri_chan *ch, double t,
		      double scale)
{
	size_t i = synth_fmri_gradient_slice_at(s, t - s->table_t0);
	double gain, m[3], v = 0;

	if (i == 0)
		return 0;
	synth_fmri_gradient_mixing(s, ch, t, &gain, m);
	/* Every slice whose table reaches t: the one that starts just after t (the filter's
	 * leading edge) and those before it. */
	for (; i-- > 0;) {
		double x = (t - s->onset[i] - s->table_t0) / s->table_dt, a;
		size_t k;
		const double *d;

		if (x > (double)(s->table_n - 1))
			break;
		if (x < 0)
			continue;
		k = (size_t)x;
		a = x - (double)k;
		if (k + 1 >= s->table_n)
			k = s->table_n - 2, a = 1;
		d = s->table + 3 * k;
		v += s->amp[i] * (m[0] * ((1 - a) * d[0] + a * d[3]) +
				  m[2] * ((1 - a) * d[1] + a * d[4]) +
				  m[1] * ((1 - a) * d[2] + a * d[5]));
	}
	return scale * gain * v;
}
