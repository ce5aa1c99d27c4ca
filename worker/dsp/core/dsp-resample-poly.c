/* Polyphase forms of the FFT resampler's long transforms. Upsampling by an integer factor m
 * splits the inverse transform of m·old_len points into m inverse transforms of old_len points,
 * one per output phase; downsampling computes only the bins it keeps, from the forward
 * transforms of the padded signal's decimated phases (decimation in time). Both build their
 * twiddle factors as the product of two short tables per phase (coarse and fine), each entry
 * computed directly with cos/sin of an exactly reduced argument: against long double, the
 * products are within 5.6e-16 (rms 1.1e-16) for the channel-sized transforms, and results agree
 * with the single-transform path to about 2e-15 of their peak. */
#include "worker/dsp/core/dsp-resample-poly.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "worker/dsp/core/dsp-clones.h"
#include "worker/dsp/core/dsp-resample-plan.h"
#include "worker/dsp/core/fft-plan.h"

/* Twiddle tables have this many entries in the fine table (a power of two). */
#define POLY_BLOCK 512
/* Phases handled together. The inverse transforms of a group of upsampling phases are all in
 * memory at once, so the strided scatter into y touches each cache line of y once per group
 * rather than once per phase (for m ≥ 4; below, one phase at a time is as fast and the
 * working memory stays within the single-transform path's). A group of downsampling phases is
 * gathered from x in one pass and accumulated into the kept bins in one pass; eight phases are
 * one cache line of x per sample of a phase, so two groups read x once in all (four took 30 %
 * longer, the gather being bound by memory). */
#define POLY_UP_GROUP   2
#define POLY_DOWN_GROUP 8
/* Doubles of a group of downsampling phases at most (32 MiB; at least one phase): a whole
 * group up to 2^19-point phases (a 4-minute channel at 20 kHz), fewer phases at once beyond. */
#define POLY_DOWN_GROUP_DOUBLES (1u << 22)
#define POLY_MAX_GROUP  (POLY_UP_GROUP > POLY_DOWN_GROUP ? POLY_UP_GROUP : POLY_DOWN_GROUP)

/* exp(sign·2πi·j/len) for an integer j in [0, len), reduced to (−len/2, len/2] first so the
 * argument stays within [−π, π]. */
static void
poly_twiddle(double *w, size_t j, size_t len, double sign)
{
	double s = j <= len / 2 ? (double)j : -(double)(len - j);
	double a = sign * (2.0 * M_PI) * (s / (double)len);

	w[0] = cos(a);
	w[1] = sin(a);
}

/* tab[t] = exp(sign·2πi·((t·step·r) mod len)/len) for t < count: one twiddle table of phase r
 * (step·r is at most POLY_BLOCK times the number of phases). */
static void
poly_table(double *tab, size_t count, size_t step, size_t r, size_t len, double sign)
{
	size_t inc = (step * r) % len, j = 0;

	for (size_t t = 0; t < count; t++) {
		poly_twiddle(tab + 2 * t, j, len, sign);
		j += inc;
		if (j >= len)
			j -= len;
	}
}

/* The fine and coarse twiddle tables of the phases of one group, t < g: lo[t][j] for j < B and
 * hi[t][h] for h < nhi, so that the twiddle of bin k of phase r0 + t is hi[t][k/B]·lo[t][k%B]. */
struct poly_tabs {
	fftw_complex *mem;
	double *lo[POLY_MAX_GROUP], *hi[POLY_MAX_GROUP];
	size_t B, nhi;
};

static void
poly_tabs_init(struct poly_tabs *tb, size_t g, size_t B, size_t nhi)
{
	tb->mem = fft_alloc_complex(g * (B + nhi));
	tb->B = B;
	tb->nhi = nhi;
	for (size_t t = 0; t < g; t++) {
		tb->lo[t] = (double *)(tb->mem + t * (B + nhi));
		tb->hi[t] = tb->lo[t] + 2 * B;
	}
}

/* The tables of phases r0..r0+g−1 for twiddles exp(sign·2πi·k·r/len). */
static void
poly_tabs_fill(struct poly_tabs *tb, size_t g, size_t r0, size_t len, double sign)
{
	for (size_t t = 0; t < g; t++) {
		poly_table(tb->lo[t], tb->B, 1, r0 + t, len, sign);
		poly_table(tb->hi[t], tb->nhi, tb->B, r0 + t, len, sign);
	}
}

static size_t
poly_tabs_bytes(size_t g, size_t B, size_t nhi)
{
	return sizeof(fftw_complex) * g * (B + nhi);
}

static size_t
poly_up_group(size_t m)
{
	return m >= 4 ? POLY_UP_GROUP : 1;
}

size_t
dsp_resample_poly_up_bytes(const struct dsp_resample_plan *p)
{
	size_t half = p->old_len / 2, g = poly_up_group(p->new_len / p->old_len);

	return sizeof(fftw_complex) * (1 + g) * (half + 1) +
	       poly_tabs_bytes(g, POLY_BLOCK, half / POLY_BLOCK + 1);
}

/* Z[t][k] = X[k]·e^{2πi·k·(r0+t)/L} for k < N/2, t < g, bins in blocks of B so that each block
 * of X is read once for the group. */
DSP_CLONES static void
poly_up_twiddle(double *const *Z, const double *X, size_t half, size_t g,
		const struct poly_tabs *tb)
{
	const size_t B = tb->B;

	for (size_t kh = 0; kh * B < half; kh++) {
		const size_t k0 = kh * B, cnt = half - k0 < B ? half - k0 : B;
		const double *xs = X + 2 * k0;

		for (size_t t = 0; t < g; t++) {
			const double ar = tb->hi[t][2 * kh], ai = tb->hi[t][2 * kh + 1];
			const double *lo = tb->lo[t];
			double *zs = Z[t] + 2 * k0;

			for (size_t j = 0; j < cnt; j++) {
				double tr = ar * lo[2 * j] - ai * lo[2 * j + 1];
				double ti = ar * lo[2 * j + 1] + ai * lo[2 * j];
				double xr = xs[2 * j], xi = xs[2 * j + 1];

				zs[2 * j] = xr * tr - xi * ti;
				zs[2 * j + 1] = xr * ti + xi * tr;
			}
		}
	}
}

/* Output i is sample l = trim_left + i of the long inverse transform, l in [lo, hi); sample
 * l = m·q + r0 + t of phase r0 + t is z[t][q]. The q whose whole group is in range are copied
 * without checks; at most one q at each end is partly in range. */
static void
poly_up_scatter(double *y, double *const *z, size_t g, size_t r0, size_t m,
		const struct dsp_resample_plan *p)
{
	const size_t lo = p->trim_left, hi = lo + dsp_resample_plan_avail(p);
	size_t qa = lo > r0 ? (lo - r0 + m - 1) / m : 0;
	size_t qb = hi >= r0 + g ? (hi - r0 - g) / m + 1 : 0;
	size_t edge[2] = {qa > 0 ? qa - 1 : SIZE_MAX, qb > qa ? qb : qa};

	for (size_t e = 0; e < 2; e++)
		for (size_t t = 0; edge[e] != SIZE_MAX && t < g; t++) {
			size_t l = m * edge[e] + r0 + t;
			if (l >= lo && l < hi)
				y[l - lo] = z[t][edge[e]];
		}
	if (g == 2) {
		const double *restrict z0 = z[0], *restrict z1 = z[1];

		for (size_t q = qa; q < qb; q++) {
			double *yq = y + (m * q + r0 - lo);
			yq[0] = z0[q];
			yq[1] = z1[q];
		}
	} else {
		for (size_t q = qa; q < qb; q++) {
			double *yq = y + (m * q + r0 - lo);
			for (size_t t = 0; t < g; t++)
				yq[t] = z[t][q];
		}
	}
}

/* Output sample t = m·q + r of the long inverse transform is
 *   Re X[0] + 2·Re Σ_{k=1}^{N/2} X[k]·e^{2πi·k·(mq+r)/(mN)}
 *   = Re X[0] + 2·Re Σ_k (X[k]·e^{2πi·k·r/(mN)})·e^{2πi·k·q/N},
 * an inverse transform of N points of Z_r[k] = X[k]·e^{2πi·k·r/(mN)}. At k = N/2 the long
 * transform counts the (halved) bin twice, as X[N/2]·e^{iπr/m}·(−1)^q plus its conjugate, while
 * a transform of N points counts the real part of its Nyquist bin once: Z_r[N/2] is therefore
 * the real 2·Re(X[N/2]·e^{iπr/m}). */
void
dsp_resample_poly_up(const double *x, size_t n, const struct dsp_resample_plan *p, size_t m,
		     double *y)
{
	const size_t N = p->old_len, half = N / 2, L = p->new_len;
	const size_t G = poly_up_group(m);
	fftw_complex *Xc = fft_alloc_complex(half + 1), *Zc[POLY_UP_GROUP];
	double *X = (double *)Xc, *Z[POLY_UP_GROUP], w[2];
	struct poly_tabs tb;

	poly_tabs_init(&tb, G, POLY_BLOCK, half / POLY_BLOCK + 1);
	for (size_t t = 0; t < G; t++) {
		Zc[t] = fft_alloc_complex(half + 1);
		Z[t] = (double *)Zc[t];
	}
	dsp_resample_plan_pad(X, x, n, p);
	fft_r2c_inplace(N, Xc);
	/* The Nyquist rule (×0.5: the shorter length N is even) and numpy's 1/N; the long
	 * transform ignores the imaginary part of DC. */
	for (size_t k = 0; k <= 2 * half + 1; k++)
		X[k] /= (double)N;
	X[1] = 0.0;
	X[2 * half] *= 0.5;
	X[2 * half + 1] *= 0.5;

	for (size_t r0 = 0; r0 < m; r0 += G) {
		size_t g = m - r0 < G ? m - r0 : G;

		poly_tabs_fill(&tb, g, r0, L, 1.0);
		poly_up_twiddle(Z, X, half, g, &tb);
		for (size_t t = 0; t < g; t++) {
			poly_twiddle(w, (half * (r0 + t)) % L, L, 1.0);
			Z[t][2 * half] = 2.0 * (X[2 * half] * w[0] - X[2 * half + 1] * w[1]);
			Z[t][2 * half + 1] = 0.0;
			fft_c2r_inplace(N, Zc[t]);
		}
		poly_up_scatter(y, Z, g, r0, m, p);
	}
	dsp_resample_plan_fill(y, p);
	for (size_t t = 0; t < G; t++)
		fft_free(Zc[t]);
	fft_free(tb.mem);
	fft_free(Xc);
}

/* At most half the phases at once, so the working memory stays below half the single
 * transform's, and no more than POLY_DOWN_GROUP_DOUBLES of phases (P points each) at once:
 * on long signals the group's transforms would otherwise be half the signal's size again. The
 * group only orders the work: every bin adds the phases in the same order whatever its size. */
static size_t
poly_down_group(size_t M, size_t P)
{
	size_t g = M >= 2 ? M / 2 : 1, cap = P > 0 ? POLY_DOWN_GROUP_DOUBLES / P : 1;

	g = g < POLY_DOWN_GROUP ? g : POLY_DOWN_GROUP;
	cap = cap > 1 ? cap : 1;
	return g < cap ? g : cap;
}

static size_t
poly_down_block(size_t part)
{
	return part / 2 < POLY_BLOCK ? part / 2 : POLY_BLOCK;
}

size_t
dsp_resample_poly_down_bytes(const struct dsp_resample_plan *p, size_t part)
{
	size_t keep = p->new_len / 2 + 1, g = poly_down_group(p->old_len / part, part);
	size_t B = poly_down_block(part);

	return sizeof(fftw_complex) * (keep + g * (part / 2 + 1)) +
	       poly_tabs_bytes(g, B, (keep - 1) / B + 1);
}

/* Phases r0..r0+g−1 of the padded signal, x_pad[M·q + r0 + t] for q < P, into f[t]. */
static void
poly_down_gather(double *const *f, size_t g, const double *x, size_t n,
		 const struct dsp_resample_plan *p, size_t M, size_t r0, size_t P)
{
	const size_t left = p->pad_left;
	/* For q in [qa, qb) the whole group falls inside x itself. */
	size_t qa = left > r0 ? (left - r0 + M - 1) / M : 0;
	size_t qb = left + n >= r0 + g ? (left + n - r0 - g) / M + 1 : 0;

	if (qa > P)
		qa = P;
	if (qb > P)
		qb = P;
	if (qb < qa)
		qb = qa;
	for (size_t q = 0; q < qa; q++)
		for (size_t t = 0; t < g; t++)
			f[t][q] = dsp_resample_plan_pad_at(x, n, p, M * q + r0 + t);
	if (g == 8) {
		/* The usual group (one cache line of x per q), its streams in registers. */
		double *restrict f0 = f[0], *restrict f1 = f[1], *restrict f2 = f[2];
		double *restrict f3 = f[3], *restrict f4 = f[4], *restrict f5 = f[5];
		double *restrict f6 = f[6], *restrict f7 = f[7];

		for (size_t q = qa; q < qb; q++) {
			const double *xs = x + (M * q + r0 - left);
			f0[q] = xs[0];
			f1[q] = xs[1];
			f2[q] = xs[2];
			f3[q] = xs[3];
			f4[q] = xs[4];
			f5[q] = xs[5];
			f6[q] = xs[6];
			f7[q] = xs[7];
		}
	} else {
		for (size_t q = qa; q < qb; q++) {
			const double *xs = x + (M * q + r0 - left);
			for (size_t t = 0; t < g; t++)
				f[t][q] = xs[t];
		}
	}
	for (size_t q = qb; q < P; q++)
		for (size_t t = 0; t < g; t++)
			f[t][q] = dsp_resample_plan_pad_at(x, n, p, M * q + r0 + t);
}

/* acc[k] (+)= e^{−2πi·k·r/N}·F_r[k mod P] for k ≤ K and the phases r = r0..r0+g−1, where
 * F_r[j] for j > P/2 is conj(F_r[P − j]). Blocks of B bins never straddle P/2 (B divides P/2),
 * so each block reads every F_r either forwards, or backwards and conjugated; each block of acc
 * is read and written once for the group. Phase 0 (twiddle 1) initialises acc. */
DSP_CLONES static void
poly_down_accumulate(double *acc, double *const *F, size_t g, size_t r0, size_t P, size_t K,
		     const struct poly_tabs *tb)
{
	const size_t B = tb->B;

	for (size_t kh = 0; kh * B <= K; kh++) {
		const size_t k0 = kh * B, j0 = k0 % P, cnt = K + 1 - k0 < B ? K + 1 - k0 : B;
		const size_t off = j0 < P / 2 ? 2 * j0 : 2 * (P - j0);
		const ptrdiff_t step = j0 < P / 2 ? 2 : -2;
		const double conj = j0 < P / 2 ? 1.0 : -1.0;
		double *as = acc + 2 * k0;

		for (size_t t = 0; t < g; t++) {
			const double *f = F[t] + off, *lo = tb->lo[t];
			const double ar = tb->hi[t][2 * kh], ai = tb->hi[t][2 * kh + 1];

			if (r0 + t == 0) {
				for (size_t j = 0; j < cnt; j++) {
					as[2 * j] = f[step * (ptrdiff_t)j];
					as[2 * j + 1] = conj * f[step * (ptrdiff_t)j + 1];
				}
				continue;
			}
			for (size_t j = 0; j < cnt; j++) {
				double tr = ar * lo[2 * j] - ai * lo[2 * j + 1];
				double ti = ar * lo[2 * j + 1] + ai * lo[2 * j];
				double fr = f[step * (ptrdiff_t)j];
				double fi = conj * f[step * (ptrdiff_t)j + 1];

				as[2 * j] += fr * tr - fi * ti;
				as[2 * j + 1] += fr * ti + fi * tr;
			}
		}
	}
}

/* With N = M·P and F_r the transform of P points of phase r (x_pad[M·q + r]),
 *   X[k] = Σ_r e^{−2πi·k·r/N}·F_r[k mod P],
 * formed only for k ≤ new_len/2. */
void
dsp_resample_poly_down(const double *x, size_t n, const struct dsp_resample_plan *p, size_t part,
		       double *y)
{
	const size_t N = p->old_len, P = part, M = N / P, L = p->new_len, K = L / 2;
	const size_t G = poly_down_group(M, P), avail = dsp_resample_plan_avail(p);
	fftw_complex *accc = fft_alloc_complex(K + 1), *Fc[POLY_DOWN_GROUP];
	double *acc = (double *)accc, *F[POLY_DOWN_GROUP];
	struct poly_tabs tb;

	poly_tabs_init(&tb, G, poly_down_block(P), K / poly_down_block(P) + 1);
	for (size_t t = 0; t < G; t++) {
		Fc[t] = fft_alloc_complex(P / 2 + 1);
		F[t] = (double *)Fc[t];
	}
	for (size_t r0 = 0; r0 < M; r0 += G) {
		poly_down_gather(F, G, x, n, p, M, r0, P);
		for (size_t t = 0; t < G; t++)
			fft_r2c_inplace(P, Fc[t]);
		poly_tabs_fill(&tb, G, r0, N, -1.0);
		poly_down_accumulate(acc, F, G, r0, P, K, &tb);
	}
	for (size_t t = 0; t < G; t++)
		fft_free(Fc[t]);
	fft_free(tb.mem);

	/* The Nyquist rule (×2: the shorter length new_len, when even), numpy's 1/N, and the
	 * inverse transform's real DC and Nyquist bins. */
	if (L % 2 == 0) {
		acc[2 * K] *= 2.0;
		acc[2 * K + 1] *= 2.0;
	}
	for (size_t k = 0; k <= 2 * K + 1; k++)
		acc[k] /= (double)N;
	acc[1] = 0.0;
	if (L % 2 == 0)
		acc[2 * K + 1] = 0.0;
	fft_c2r_inplace(L, accc);
	if (avail > 0)
		memcpy(y, acc + p->trim_left, avail * sizeof *y);
	dsp_resample_plan_fill(y, p);
	fft_free(accc);
}
