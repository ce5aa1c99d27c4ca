/* Frequency matching, rfft grids and toi trimming shared by the time-frequency methods, written
 * to give the same indices as the reference toolbox's float arithmetic. */
#include "worker/dsp/spectral/dsp-tfr.h"

#include <errno.h>
#include <math.h>

#include "common/error.h"

size_t
dsp_tfr_best_match(const double *grid, size_t n, const double *sel, size_t nsel, bool squash,
		   size_t *idx)
{
	size_t count = 0;

	for (size_t i = 0; i < nsel && n > 0; i++) {
		size_t lo = 0, hi = n, j;
		while (lo < hi) { /* first grid[j] >= sel[i] */
			size_t mid = lo + (hi - lo) / 2;
			if (grid[mid] < sel[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		j = lo;
		if (j == n ||
		    fabs(sel[i] - grid[j > 0 ? j - 1 : 0]) < fabs(sel[i] - grid[j < n ? j : n - 1]))
			j = j > 0 ? j - 1 : 0;
		if (j >= n)
			j = n - 1;
		bool seen = false;
		for (size_t k = 0; squash && k < count && !seen; k++)
			seen = idx[k] == j;
		if (!seen)
			idx[count++] = j;
	}
	return count;
}

size_t
dsp_tfr_span(const double *grid, size_t n, double lo, double hi, size_t *idx)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (grid[i] >= lo && grid[i] <= hi)
			idx[count++] = i;
	return count;
}

void
dsp_tfr_rfftfreq(size_t n, double fs, double *out)
{
	double val = 1.0 / ((double)n * (1.0 / fs));

	for (size_t b = 0; b <= n / 2; b++)
		out[b] = (double)b * val;
}

int
dsp_tfr_trim(const double *toi, size_t ntoi, double fs, double t0, size_t nsamp, size_t *a,
	     size_t *b, size_t *keep, char **cause)
{
	double start = trunc(fs * (toi[0] - t0)), stop = trunc(fs * (toi[ntoi - 1] - t0) + 1);
	double hi = fmax(stop, stop - start);

	if (!(start < (double)nsamp) || !(hi > 0))
		return error_set(cause, -EINVAL,
				 "toi: [%g, %g] s lies outside a trial of %zu samples starting at "
				 "%g s",
				 toi[0], toi[ntoi - 1], nsamp, t0);
	*a = start > 0 ? (size_t)start : 0;
	*b = hi < (double)nsamp ? (size_t)hi : nsamp;
	for (size_t j = 0; j < ntoi; j++) {
		double v = trunc(fmin((double)nsamp - 1, fs * (toi[j] - t0) - start));
		if (!(v >= 0) || v >= (double)(*b - *a))
			return error_set(cause, -EINVAL,
					 "toi: %g s falls outside the trial (%zu samples from %g "
					 "s)",
					 toi[j], nsamp, t0);
		keep[j] = (size_t)v;
	}
	return 0;
}
