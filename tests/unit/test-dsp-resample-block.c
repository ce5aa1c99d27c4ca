/* Block-wise FFT resampling against the whole-signal resampler (dsp_resample) on artifact-like
 * signals of several rates, lengths, seeds and block sizes: the largest difference, relative to
 * the signal's peak, within a stated tolerance set by the margin; the span a block reads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/dsp/core/dsp-resample-block.h"
#include "worker/dsp/core/dsp-resample.h"

struct src {
	const double *x;
	size_t n, lo, hi; /* the range read so far */
};

static void
src_read(void *ctx, size_t s0, size_t s1, double *out)
{
	struct src *s = ctx;

	cr_assert(s0 < s1 && s1 <= s->n);
	memcpy(out, s->x + s0, (s1 - s0) * sizeof *out);
	s->lo = s0 < s->lo ? s0 : s->lo;
	s->hi = s1 > s->hi ? s1 : s->hi;
}

static double
rnd(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffffff) / (double)0x1000000 - 0.5;
}

/* A gradient-artifact-like signal at fs: slice trains of a tanh(6 sin) readout at 180 Hz
 * (2000 units) with gaps, brown-ish background and white noise (`white` units). */
static double *
artifact(size_t n, double fs, unsigned seed, double white)
{
	double *x = malloc(n * sizeof *x), walk = 0;
	double slice = 0.1428 * (1 + 0.01 * (seed % 7));

	for (size_t i = 0; i < n; i++) {
		double t = (double)i / fs, ph = fmod(t, slice) / slice;
		double g = ph < 0.85 && t > 1.0 ? tanh(6 * sin(2 * M_PI * 180 * t)) : 0;

		walk = 0.999 * walk + rnd(&seed);
		x[i] = 2000 * g + 20 * walk + 15 * sin(2 * M_PI * 10.3 * t) + white * rnd(&seed);
	}
	return x;
}

/* Resample x both ways, in blocks of `block` outputs; returns max |diff| / max |whole|, and in
 * *inband the same for the difference averaged over 15 samples of the lower rate (a low-pass
 * whose first zero is at a fifteenth of that rate: 136 Hz at 2048 Hz). */
static double
compare(const double *x, size_t n, unsigned up, unsigned down, size_t block, size_t margin,
	double *inband)
{
	struct dsp_resample_block_params p = {.n = n, .up = up, .down = down, .margin = margin};
	double ratio = (double)up / (double)down, peak = 0, err = 0, sum = 0;
	size_t m = dsp_resample_length(n, ratio);
	double *whole = malloc(m * sizeof *whole), *part = malloc(m * sizeof *part);

	cr_assert_eq(dsp_resample(x, n, ratio, whole, NULL), 0);
	for (size_t a = 0; a < m; a += block) {
		size_t b = a + block < m ? a + block : m, s0, s1;
		struct src s = {x, n, n, 0};

		cr_assert_eq(dsp_resample_block(&p, src_read, &s, a, b, part + a, NULL), 0);
		dsp_resample_block_span(&p, a, b, &s0, &s1);
		cr_assert(s.lo >= s0 && s.hi <= s1, "block [%zu, %zu) read [%zu, %zu) outside its span",
			  a, b, s.lo, s.hi);
		/* The span is the block and its margins (and a reflection's worth at the ends). */
		cr_assert_leq(s1 - s0, (b - a) * down / up + 2 * margin + 200 + 3 * 64);
	}
	for (size_t j = 0; j < m; j++) {
		peak = fmax(peak, fabs(whole[j]));
		err = fmax(err, fabs(whole[j] - part[j]));
	}
	*inband = 0;
	for (size_t j = 0, w = 15 * up; j < m; j++) {
		sum += whole[j] - part[j];
		if (j >= w)
			sum -= whole[j - w] - part[j - w];
		if (j + 1 >= w)
			*inband = fmax(*inband, fabs(sum / (double)w));
	}
	*inband /= peak;
	free(whole), free(part);
	return err / peak;
}

/* Upsampling ×10 of recordings at 2048 and 5000 Hz, lengths that pad little and much. The
 * differences are what the whole signal's sinc tails carry from beyond the margin, mostly the
 * content next to the input's Nyquist frequency: with a margin of 4096 input samples measured
 * 1.1e-4 .. 3.2e-4 of the peak, 4.5e-6 .. 1.3e-5 in band; tolerance 4e-4 and 1.5e-5. */
Test(dsp_resample_block, up_matches_whole_signal)
{
	const struct {
		double fs;
		size_t n;
		unsigned seed;
	} cases[] = {{2048, 2048 * 20, 1}, {2048, 2048 * 33 + 5, 2}, {5000, 5000 * 15 + 1, 3}};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		double *x = artifact(cases[c].n, cases[c].fs, cases[c].seed, 1.0);
		double i1, i2, i3, e1 = compare(x, cases[c].n, 10, 1, 20480, 4096, &i1);
		double e2 = compare(x, cases[c].n, 10, 1, 7777, 4096, &i2);
		double e3 = compare(x, cases[c].n, 10, 1, 20480, 16384, &i3);

		fprintf(stderr, "up x10 fs %g n %zu: %.2e %.2e (in band %.2e %.2e), margin x4 %.2e\n",
			cases[c].fs, cases[c].n, e1, e2, i1, i2, e3);
		cr_assert_lt(e1, 4e-4);
		cr_assert_lt(e2, 4e-4);
		cr_assert_lt(i1, 1.5e-5);
		cr_assert_lt(i2, 1.5e-5);
		if (cases[c].n > 2 * 16384)
			cr_assert_lt(e3, e1 / 2, "a longer margin must come closer");
		free(x);
	}
}

/* Downsampling by 10 of signals at 20480 and 50000 Hz (the whole signal's output positions are
 * not exactly 10 input samples apart when 10 does not divide its padded length: the blocks
 * follow them). Margin 40960 input samples: measured 6e-5 .. 1.1e-4 of the peak, 4e-6 .. 7e-6 in
 * band; tolerance 4e-4 and 1.5e-5. */
Test(dsp_resample_block, down_matches_whole_signal)
{
	const struct {
		double fs;
		size_t n;
		unsigned seed;
	} cases[] = {{20480, 20480 * 12, 4}, {20480, 20480 * 7 + 30, 5}, {50000, 50000 * 5 + 3, 6}};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		double *x = artifact(cases[c].n, cases[c].fs, cases[c].seed, 5.0);
		double i1, i2, i3, e1 = compare(x, cases[c].n, 1, 10, 4096, 40960, &i1);
		double e2 = compare(x, cases[c].n, 1, 10, 3001, 40960, &i2);
		double e3 = compare(x, cases[c].n, 1, 10, 4096, 163840, &i3);

		fprintf(stderr, "down /10 fs %g n %zu: %.2e %.2e (in band %.2e %.2e), margin x4 %.2e\n",
			cases[c].fs, cases[c].n, e1, e2, i1, i2, e3);
		cr_assert_lt(e1, 4e-4);
		cr_assert_lt(e2, 4e-4);
		cr_assert_lt(i1, 1.5e-5);
		cr_assert_lt(i2, 1.5e-5);
		if (cases[c].n > 2 * 163840) /* the longer margin still short of the signal */
			cr_assert_lt(e3, e1 / 2, "a longer margin must come closer");
		free(x);
	}
}

Test(dsp_resample_block, refuses_bad_arguments)
{
	double x[16] = {0}, y[16];
	struct dsp_resample_block_params p = {.n = 16, .up = 2, .down = 2, .margin = 4};
	char *cause = NULL;
	struct src s = {x, 16, 16, 0};

	cr_assert_eq(dsp_resample_block(&p, src_read, &s, 0, 4, y, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "one factor must be 1"));
	free(cause), cause = NULL;
	p.down = 1;
	cr_assert_eq(dsp_resample_block(&p, src_read, &s, 0, 33, y, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "outside the 32 output samples"));
	free(cause);
}
