/* The FFTW plan cache: plans made once per (kind, length, sign) under a lock, executed
 * lock-free with fftw_execute_dft_* on caller buffers (FFTW allows this from many threads). */
#include "worker/dsp/core/fft-plan.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"

enum fft_kind { FFT_R2C, FFT_C2R, FFT_C2C_FWD, FFT_C2C_BWD, FFT_R2C_MANY, FFT_R2C_IN, FFT_C2R_IN };

struct fft_plan_entry {
	enum fft_kind kind;
	size_t n;
	size_t howmany;
	fftw_plan plan;
	struct fft_plan_entry *next;
};

static pthread_mutex_t fft_plan_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t fft_plan_keep_max = SIZE_MAX;
static struct fft_plan_entry *fft_plan_list;

/* The cached plan, or (for n above the keep limit) a plan made for this call only, which
 * *transient asks the caller to release with fft_plan_put. */
static fftw_plan
fft_plan_get(enum fft_kind kind, size_t n, size_t howmany, int *transient)
{
	struct fft_plan_entry *e;
	fftw_plan plan = NULL;

	*transient = 0;
	pthread_mutex_lock(&fft_plan_lock);
	for (e = fft_plan_list; e != NULL; e = e->next)
		if (e->kind == kind && e->n == n && e->howmany == howmany) {
			plan = e->plan;
			break;
		}
	if (plan == NULL) {
		/* Planning needs scratch arrays; FFTW_ESTIMATE does not touch their contents. */
		double *r = fftw_malloc(sizeof(double) * n * howmany);
		fftw_complex *c1 = fftw_malloc(sizeof(fftw_complex) * (n / 2 + 1) * howmany);
		fftw_complex *c2 = fftw_malloc(sizeof(fftw_complex) * n);
		int flags = FFTW_ESTIMATE;

		if (r == NULL || c1 == NULL || c2 == NULL)
			fatal("out of memory planning an FFT of length %zu", n);
		switch (kind) {
		case FFT_R2C:
			plan = fftw_plan_dft_r2c_1d((int)n, r, c1, flags);
			break;
		case FFT_C2R:
			plan = fftw_plan_dft_c2r_1d((int)n, c1, r, flags);
			break;
		case FFT_R2C_IN:
			plan = fftw_plan_dft_r2c_1d((int)n, (double *)c1, c1, flags);
			break;
		case FFT_C2R_IN:
			plan = fftw_plan_dft_c2r_1d((int)n, c1, (double *)c1, flags);
			break;
		case FFT_C2C_FWD:
			plan = fftw_plan_dft_1d((int)n, c1, c2, FFTW_FORWARD, flags);
			break;
		case FFT_C2C_BWD:
			plan = fftw_plan_dft_1d((int)n, c1, c2, FFTW_BACKWARD, flags);
			break;
		case FFT_R2C_MANY: {
			int len = (int)n;
			/* Batches are the hot path of spectral analysis: measure once, reuse. */
			plan = fftw_plan_many_dft_r2c(1, &len, (int)howmany, r, NULL, 1, len, c1,
						      NULL, 1, len / 2 + 1, FFTW_ESTIMATE);
			break;
		}
		}
		fftw_free(r);
		fftw_free(c1);
		fftw_free(c2);
		if (plan == NULL)
			fatal("FFTW could not plan a transform of length %zu", n);
		*transient = n > fft_plan_keep_max;
		if (*transient) {
			pthread_mutex_unlock(&fft_plan_lock);
			return plan;
		}
		e = xmalloc(sizeof *e);
		e->kind = kind;
		e->n = n;
		e->howmany = howmany;
		e->plan = plan;
		e->next = fft_plan_list;
		fft_plan_list = e;
	}
	pthread_mutex_unlock(&fft_plan_lock);
	return plan;
}

static void
fft_plan_put(fftw_plan plan, int transient)
{
	if (!transient)
		return;
	pthread_mutex_lock(&fft_plan_lock);
	fftw_destroy_plan(plan);
	pthread_mutex_unlock(&fft_plan_lock);
}

void
fft_plan_set_keep_max(size_t n)
{
	pthread_mutex_lock(&fft_plan_lock);
	fft_plan_keep_max = n;
	pthread_mutex_unlock(&fft_plan_lock);
}

void
fft_r2c(size_t n, double *in, fftw_complex *out)
{
	int t;
	fftw_plan p = fft_plan_get(FFT_R2C, n, 1, &t);

	fftw_execute_dft_r2c(p, in, out);
	fft_plan_put(p, t);
}

void
fft_r2c_many(size_t n, size_t howmany, double *in, fftw_complex *out)
{
	int t;
	fftw_plan p = fft_plan_get(FFT_R2C_MANY, n, howmany, &t);

	fftw_execute_dft_r2c(p, in, out);
	fft_plan_put(p, t);
}

void
fft_c2r(size_t n, fftw_complex *in, double *out)
{
	int t;
	fftw_plan p = fft_plan_get(FFT_C2R, n, 1, &t);

	fftw_execute_dft_c2r(p, in, out);
	fft_plan_put(p, t);
}

void
fft_r2c_inplace(size_t n, fftw_complex *buf)
{
	int t;
	fftw_plan p = fft_plan_get(FFT_R2C_IN, n, 1, &t);

	fftw_execute_dft_r2c(p, (double *)buf, buf);
	fft_plan_put(p, t);
}

void
fft_c2r_inplace(size_t n, fftw_complex *buf)
{
	int t;
	fftw_plan p = fft_plan_get(FFT_C2R_IN, n, 1, &t);

	fftw_execute_dft_c2r(p, buf, (double *)buf);
	fft_plan_put(p, t);
}

void
fft_c2c(size_t n, int sign, fftw_complex *in, fftw_complex *out)
{
	int t;
	fftw_plan p = fft_plan_get(sign < 0 ? FFT_C2C_FWD : FFT_C2C_BWD, n, 1, &t);

	fftw_execute_dft(p, in, out);
	fft_plan_put(p, t);
}

/* 64-byte alignment is enough for every SIMD width FFTW plans for; from 2 MiB up xmalloc_aligned
 * aligns to 2 MiB, so that huge pages back channel-sized scratch buffers whole (with FFTW's own
 * allocator most of such a buffer fell outside any aligned huge page). */
#define FFT_ALLOC_ALIGN 64

double *
fft_alloc_real(size_t n)
{
	return xmalloc_aligned(sizeof(double) * n, FFT_ALLOC_ALIGN);
}

fftw_complex *
fft_alloc_complex(size_t n)
{
	return xmalloc_aligned(sizeof(fftw_complex) * n, FFT_ALLOC_ALIGN);
}

void
fft_free(void *p)
{
	free(p);
}

size_t
fft_good_size(size_t n)
{
	for (size_t m = n > 1 ? n : 1;; m++) {
		size_t r = m;
		while (r % 2 == 0)
			r /= 2;
		while (r % 3 == 0)
			r /= 3;
		while (r % 5 == 0)
			r /= 5;
		while (r % 7 == 0)
			r /= 7;
		if (r == 1)
			return m;
	}
}

void
fft_plan_cache_clear(void)
{
	pthread_mutex_lock(&fft_plan_lock);
	while (fft_plan_list != NULL) {
		struct fft_plan_entry *e = fft_plan_list;
		fft_plan_list = e->next;
		fftw_destroy_plan(e->plan);
		free(e);
	}
	pthread_mutex_unlock(&fft_plan_lock);
}
