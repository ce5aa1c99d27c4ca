/* Line and bar charts drawn with cairo into PNG files, for the correction report: axes with
 * 1-2-5 ticks (decades on a log scale), a title and axis labels, several series with a legend,
 * and groups of vertical marks (e.g. the slice and volume harmonics of a spectrum). */
#ifndef ND_REPORT_PLOT_H
#define ND_REPORT_PLOT_H

#include <stdbool.h>
#include <stddef.h>

struct report_series {
	const double *x, *y; /* n points; x NULL: 0, 1, ..., n − 1 */
	size_t n;
	double rgb[3];
	const char *label; /* in the legend, or NULL */
	bool dashed;
};

struct report_marks {
	const double
	    *x; /* vertical lines at these abscissae (those outside the range are skipped) */
	size_t n;
	double rgb[3];
	const char *label;
	bool dotted;
};

struct report_plot {
	const char *title, *xlabel, *ylabel;
	const struct report_series *series;
	size_t nseries;
	const struct report_marks *marks;
	size_t nmarks;
	bool log_y;
	double xmin, xmax; /* equal: from the data */
	/* Bars instead of lines: series[s].y[i] as bars side by side at category i. */
	bool bars;
	const char *const *categories; /* bars: n labels, or NULL */
	int width, height;             /* pixels; 0: 900 × 420 */
};

/* Draw `p` into a new PNG at `path` (overwritten). Non-finite points are skipped (and values
 * ≤ 0 on a log scale). 0, or -EIO/-EINVAL with a cause naming the file. */
int report_plot_png(const struct report_plot *p, const char *path, char **cause);
/* The 1-2-5 step for about `n` ticks over [lo, hi]. For report-plot.c and its tests. */
double report_plot_step(double lo, double hi, int n);

#endif
