/* timelockanalysis results of trial tasks: the trials' statistics per sample and channel (count,
 * mean and sum of squared deviations, Welford per trial and Chan et al.'s pairwise merge between
 * tasks, so averages of parts equal the average of all trials to rounding), and the channels'
 * covariance over each trial's samples, summed or kept per trial. The time-locked trials
 * themselves stay the task's time series (the container's `data`). */
#ifndef ND_TRIAL_TIMELOCK_H
#define ND_TRIAL_TIMELOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dsp_trial;

struct trial_timelock {
	bool covariance, keeptrials;
	int ddof;       /* < 0: n − 1 */
	size_t nsamp;   /* samples per trial (all equal) */
	size_t nchan;   /* channels of the task */
	uint64_t n;     /* trials added */
	double *cnt;    /* per channel: trials merged into it (parts may cover channel groups) */
	double *mean;   /* nsamp × nchan */
	double *m2;     /* nsamp × nchan: sums of squared deviations from the mean */
	double *cov;    /* covariance: nchan² summed, or ntrials × nchan² with keeptrials */
	size_t ncov;    /* covariance matrices held */
};

void trial_timelock_init(struct trial_timelock *s, size_t nsamp, size_t nchan, bool covariance,
			 bool keeptrials, int ddof, size_t ntrials);
/* Add one trial (nsamp × nchan). Returns 0 or -EINVAL (covariance without degrees of freedom). */
int trial_timelock_add(struct trial_timelock *s, const struct dsp_trial *x, char **cause);
/* The packed state (n, mean, m2, then the covariances): trial_timelock_packed_len doubles. */
size_t trial_timelock_packed_len(const struct trial_timelock *s);
void trial_timelock_pack(const struct trial_timelock *s, double *out);
/* Merge the packed state of a part holding channels [chan0, chan0 + nch) and ncov
 * covariances (kept per trial: placed from row cov_row). */
void trial_timelock_merge(struct trial_timelock *s, const double *packed, size_t chan0,
			  size_t nch, size_t ncov, size_t cov_row);
/* avg, var (population, over trials) and cov (the trial mean, or every trial's) as float32;
 * each caller-owned. */
void trial_timelock_finalize(const struct trial_timelock *s, float **avg, float **var,
			     float **cov);
void trial_timelock_fini(struct trial_timelock *s);

#endif
