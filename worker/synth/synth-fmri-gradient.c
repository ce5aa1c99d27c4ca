/* The generator's gradient-artifact model: the slice schedule (volumes, pauses, uneven spacing,
 * sub-sample onset jitter), the three gradient waveforms of an EPI slice, each channel's mixing
 * of them with its slow drift and its changes at head movements, and the realignment
 * parameters those movements leave. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/synth/synth-fmri-priv.h"

#define SYNTH_FMRI_MOTION_RAMP 0.5 /* seconds a head movement takes */

/* 0 before x = 0, 1 after x = 1, smooth in between. */
static double
synth_fmri_gradient_step(double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	return x * x * (3 - 2 * x);
}

/* Movement times inside the scan (sorted, at least 1 s from its ends when it is long enough)
 * and the realignment parameters of each volume at its first slice: the sum of the movements'
 * steps so far plus a little estimation noise. */
static void
synth_fmri_gradient_motion(struct synth_fmri *s)
{
	const struct synth_fmri_params *p = &s->p;
	unsigned m = p->motion, spv = p->slices;
	double t0 = s->onset[0], t1 = s->onset[s->n_triggers - 1], *step;
	struct synth_fmri_rng r;

	s->rp = xcalloc((size_t)s->volumes * 6, sizeof *s->rp);
	if (m == 0)
		return;
	if (t1 - t0 > 3) {
		t0 += 1;
		t1 -= 1;
	}
	s->motion_t = xmalloc(m * sizeof *s->motion_t);
	step = xmalloc((size_t)m * 6 * sizeof *step);
	synth_fmri_rng_seed(&r, p->seed, 0x307e);
	for (unsigned e = 0; e < m; e++) {
		double tr = synth_fmri_rng_range(&r, 0.5, 2.0), rot = synth_fmri_rng_range(&r, 0.2, 1);
		double v[6], nt = 0, nr = 0;

		s->motion_t[e] = synth_fmri_rng_range(&r, t0, t1);
		for (int j = 0; j < 6; j++)
			v[j] = synth_fmri_rng_gauss(&r);
		for (int j = 0; j < 3; j++)
			nt += v[j] * v[j], nr += v[3 + j] * v[3 + j];
		for (int j = 0; j < 3; j++) {
			step[e * 6 + j] = tr * v[j] / sqrt(nt);
			step[e * 6 + 3 + j] = rot * M_PI / 180 * v[3 + j] / sqrt(nr);
		}
	}
	/* Sort the events by time (insertion: a handful of them), their steps with them. */
	for (unsigned e = 1; e < m; e++)
		for (unsigned f = e; f > 0 && s->motion_t[f] < s->motion_t[f - 1]; f--) {
			double tt = s->motion_t[f], st[6];

			s->motion_t[f] = s->motion_t[f - 1], s->motion_t[f - 1] = tt;
			memcpy(st, step + f * 6, sizeof st);
			memcpy(step + f * 6, step + (f - 1) * 6, sizeof st);
			memcpy(step + (f - 1) * 6, st, sizeof st);
		}
	for (unsigned v = 0; v < s->volumes; v++) {
		double tv = s->onset[(size_t)v * spv];

		for (int j = 0; j < 6; j++) {
			double acc = synth_fmri_rng_gauss(&r) * (j < 3 ? 0.01 : 0.0002);

			for (unsigned e = 0; e < m; e++)
				acc += step[e * 6 + j] *
				       synth_fmri_gradient_step((tv - s->motion_t[e]) /
								SYNTH_FMRI_MOTION_RAMP);
			s->rp[(size_t)v * 6 + j] = acc;
		}
	}
	free(step);
}

/* Triggers at the nominal slice onsets (moved by the uneven-spacing jitter), rounded to
 * samples; the artifact starts at the jittered true onset, so it moves by a fraction of a
 * sample from slice to slice. */
int
synth_fmri_gradient_schedule(struct synth_fmri *s, char **cause)
{
	const struct synth_fmri_params *p = &s->p;
	double vol_len = p->slices * p->slice_interval + p->volume_gap;
	double room = p->duration - p->lead_in - p->lead_out + p->volume_gap;
	struct synth_fmri_rng r, u;
	size_t k = 0;

	s->volumes = p->volumes;
	if (s->volumes == 0)
		s->volumes = room > 0 ? (unsigned)floor(room / vol_len) : 0;
	if (s->volumes == 0 || s->volumes * vol_len > room + 1e-9)
		return error_set(cause, -EINVAL,
				 "synth-fmri: %u volume(s) of %.3f s do not fit in %g s minus "
				 "lead-in %g s and lead-out %g s",
				 s->volumes, vol_len, p->duration, p->lead_in, p->lead_out);
	s->n_triggers = (size_t)s->volumes * p->slices;
	s->triggers = xcalloc(s->n_triggers, sizeof s->triggers[0]);
	s->onset = xcalloc(s->n_triggers, sizeof s->onset[0]);
	s->amp = xcalloc(s->n_triggers, sizeof s->amp[0]);
	synth_fmri_rng_seed(&r, p->seed, 0x51ce);
	synth_fmri_rng_seed(&u, p->seed, 0x5ace);
	for (unsigned v = 0; v < s->volumes; v++)
		for (unsigned sl = 0; sl < p->slices; sl++, k++) {
			double t = p->lead_in + v * vol_len + sl * p->slice_interval;

			if (p->spacing_jitter > 0)
				t += p->spacing_jitter * (2 * synth_fmri_rng_uniform(&u) - 1) /
				     p->rate;
			s->triggers[k] = (size_t)llround(t * p->rate);
			s->onset[k] = t + p->jitter * synth_fmri_rng_gauss(&r) / p->rate;
			s->amp[k] = 1.0 + p->slice_amp_sd * synth_fmri_rng_gauss(&r);
		}
	s->art_len = (size_t)ceil(p->slice_interval * p->rate - 1e-9);
	synth_fmri_gradient_motion(s);
	return 0;
}

void
synth_fmri_gradient_chan_init(struct synth_fmri *s, size_t c)
{
	struct synth_fmri_chan *ch = &s->ch[c];
	struct synth_fmri_rng r;

	if (s->p.motion == 0)
		return;
	synth_fmri_rng_seed(&r, s->p.seed, 3000 + c);
	ch->motion_mix = xmalloc((size_t)s->p.motion * 3 * sizeof *ch->motion_mix);
	for (size_t i = 0; i < (size_t)s->p.motion * 3; i++)
		ch->motion_mix[i] = s->p.motion_size * 0.7 * synth_fmri_rng_gauss(&r);
}

/* The three gradient waveforms at time tau (s) after a slice onset: a slice-select lobe with
 * sharp 0.5 ms ramps, a narrow spike, and an EPI-like readout train. The active part is
 * epi_active of the slice interval S (all three scale with it) and every waveform is zero
 * past it, so slices never overlap even with jitter. */
void
synth_fmri_gradient_waveforms(const struct synth_fmri_params *p, double tau, double g[3])
{
	const double S = p->slice_interval, k = p->epi_active / 0.85;
	const double ramp = 0.0005, lobe = 0.35 * S * k, spike = 0.37 * S * k;
	const double ro0 = 0.40 * S * k, ro1 = 0.85 * S * k;

	g[0] = g[1] = g[2] = 0;
	if (tau < 0 || tau >= ro1)
		return;
	if (tau < ramp)
		g[0] = tau / ramp;
	else if (tau < lobe)
		g[0] = cos(M_PI * (tau - ramp) / (lobe - ramp));
	else if (tau < lobe + ramp)
		g[0] = -1.0 + (tau - lobe) / ramp;
	if (fabs(tau - spike) < 0.003) {
		double z = (tau - spike) / 0.0003;

		g[1] = -0.3 * exp(-0.5 * z * z);
	}
	if (tau >= ro0)
		g[2] = 0.35 * tanh(p->epi_sharpness * sin(2 * M_PI * p->epi_hz * (tau - ro0)));
}

void
synth_fmri_gradient_mixing(const struct synth_fmri *s, const struct synth_fmri_chan *ch, double t,
			   double *gain, double m[3])
{
	*gain = 1.0 + s->p.drift * sin(2 * M_PI * t / ch->drift_s + ch->drift_phase);
	if (ch->kind != SYNTH_FMRI_EEG)
		*gain *= 1.3;
	m[0] = ch->mix[0], m[1] = ch->mix[1], m[2] = ch->mix[2];
	for (unsigned e = 0; ch->motion_mix != NULL && e < s->p.motion; e++) {
		double w = synth_fmri_gradient_step((t - s->motion_t[e]) / SYNTH_FMRI_MOTION_RAMP);

		m[0] += w * ch->motion_mix[e * 3];
		m[1] += w * ch->motion_mix[e * 3 + 1];
		m[2] += w * ch->motion_mix[e * 3 + 2];
	}
}

size_t
synth_fmri_gradient_slice_at(const struct synth_fmri *s, double t)
{
	size_t lo = 0, hi = s->n_triggers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->onset[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
