/* Drawing the progress display of `neurodag wait` and `neurodag run`. */
#ifndef ND_CTL_WAIT_H
#define ND_CTL_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void ctl_wait_render(FILE *out, bool tty, uint64_t done, uint64_t total, double rate,
		     const char *waiting, const char *label);

#endif
