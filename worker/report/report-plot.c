/* Charts for the correction report, drawn with cairo (paths, strokes and its text API) into an
 * image surface written as PNG: the data range, 1-2-5 ticks or decades, the frame, series as
 * polylines or bars, vertical mark groups, the legend. */
#include "worker/report/report-plot.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "common/error.h"

#define REPORT_PLOT_LEFT   78.0
#define REPORT_PLOT_RIGHT  20.0
#define REPORT_PLOT_TOP    34.0
#define REPORT_PLOT_BOTTOM 56.0

struct report_plot_frame {
	double x0, x1, y0, y1; /* data range (y in log10 on a log scale) */
	double px, py, pw, ph; /* plot area in pixels */
	bool log_y;
};

double
report_plot_step(double lo, double hi, int n)
{
	double raw = (hi - lo) / (n > 0 ? n : 1), mag, f;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static double
report_plot_yval(const struct report_plot_frame *f, double y)
{
	return f->log_y ? (y > 0 ? log10(y) : NAN) : y;
}

static double
report_plot_X(const struct report_plot_frame *f, double x)
{
	return f->px + (x - f->x0) / (f->x1 - f->x0) * f->pw;
}

static double
report_plot_Y(const struct report_plot_frame *f, double yv)
{
	return f->py + f->ph - (yv - f->y0) / (f->y1 - f->y0) * f->ph;
}

static void
report_plot_range(const struct report_plot *p, struct report_plot_frame *f)
{
	f->x0 = INFINITY, f->x1 = -INFINITY, f->y0 = INFINITY, f->y1 = -INFINITY;
	for (size_t s = 0; s < p->nseries; s++)
		for (size_t i = 0; i < p->series[s].n; i++) {
			double x = p->series[s].x != NULL ? p->series[s].x[i] : (double)i;
			double y = report_plot_yval(f, p->series[s].y[i]);

			if (!isfinite(x) || !isfinite(y) ||
			    (p->xmin != p->xmax && (x < p->xmin || x > p->xmax)))
				continue;
			f->x0 = fmin(f->x0, x), f->x1 = fmax(f->x1, x);
			f->y0 = fmin(f->y0, y), f->y1 = fmax(f->y1, y);
		}
	if (p->xmin != p->xmax)
		f->x0 = p->xmin, f->x1 = p->xmax;
	if (p->bars) { /* categories centred in their slots; the bars rise from zero */
		f->x0 = -0.5, f->x1 = f->x1 + 0.5;
		if (!p->log_y)
			f->y0 = fmin(f->y0, 0);
	}
	if (!(f->x1 > f->x0))
		f->x0 = isfinite(f->x0) ? f->x0 - 1 : 0, f->x1 = f->x0 + 2;
	if (!(f->y1 > f->y0))
		f->y0 = isfinite(f->y0) ? f->y0 - 1 : 0, f->y1 = f->y0 + 2;
	if (!p->log_y) { /* a little room above and below */
		double pad = 0.05 * (f->y1 - f->y0);
		f->y1 += pad;
		if (!(p->bars && f->y0 == 0))
			f->y0 -= pad;
	} else {
		f->y0 = floor(f->y0), f->y1 = ceil(f->y1);
		if (f->y1 == f->y0)
			f->y1 += 1;
	}
}

static void
report_plot_text(cairo_t *cr, double x, double y, const char *s, double ax, double ay, double rot)
{
	cairo_text_extents_t e;

	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_rotate(cr, rot);
	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, -e.x_bearing - ax * e.width, -e.y_bearing - ay * e.height);
	cairo_show_text(cr, s);
	cairo_restore(cr);
}

static void
report_plot_axes(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	char buf[32];
	double step;

	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, f->px, f->py, f->pw, f->ph);
	cairo_stroke(cr);
	cairo_set_font_size(cr, 11);
	if (!p->bars) {
		step = report_plot_step(f->x0, f->x1, 8);
		for (double x = ceil(f->x0 / step) * step; x <= f->x1 + 1e-9 * step; x += step) {
			double X = report_plot_X(f, x);
			snprintf(buf, sizeof buf, "%g", fabs(x) < 1e-12 * step ? 0 : x);
			cairo_move_to(cr, X, f->py + f->ph);
			cairo_line_to(cr, X, f->py + f->ph + 4);
			cairo_stroke(cr);
			report_plot_text(cr, X, f->py + f->ph + 7, buf, 0.5, 0, 0);
		}
	}
	step = f->log_y ? 1 : report_plot_step(f->y0, f->y1, 6);
	for (double y = ceil(f->y0 / step) * step; y <= f->y1 + 1e-9 * step; y += step) {
		double Y = report_plot_Y(f, y);
		if (f->log_y)
			snprintf(buf, sizeof buf, "1e%d", (int)lround(y));
		else
			snprintf(buf, sizeof buf, "%g", fabs(y) < 1e-12 * step ? 0 : y);
		cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
		cairo_move_to(cr, f->px, Y);
		cairo_line_to(cr, f->px + f->pw, Y);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		report_plot_text(cr, f->px - 6, Y, buf, 1, 0.5, 0);
	}
	cairo_set_font_size(cr, 13);
	if (p->xlabel != NULL)
		report_plot_text(cr, f->px + f->pw / 2, f->py + f->ph + 30, p->xlabel, 0.5, 0, 0);
	if (p->ylabel != NULL)
		report_plot_text(cr, 14, f->py + f->ph / 2, p->ylabel, 0.5, 0, -M_PI / 2);
	cairo_set_font_size(cr, 15);
	if (p->title != NULL)
		report_plot_text(cr, f->px + f->pw / 2, 9, p->title, 0.5, 0, 0);
}

static void
report_plot_marks(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	for (size_t m = 0; m < p->nmarks; m++) {
		const struct report_marks *g = &p->marks[m];
		double dash[] = {2, 3};

		cairo_set_source_rgba(cr, g->rgb[0], g->rgb[1], g->rgb[2], 0.7);
		cairo_set_line_width(cr, 1);
		cairo_set_dash(cr, dash, g->dotted ? 2 : 0, 0);
		for (size_t i = 0; i < g->n; i++) {
			if (!(g->x[i] >= f->x0 && g->x[i] <= f->x1))
				continue;
			cairo_move_to(cr, report_plot_X(f, g->x[i]), f->py);
			cairo_line_to(cr, report_plot_X(f, g->x[i]), f->py + f->ph);
		}
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
}

static void
report_plot_lines(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	for (size_t s = 0; s < p->nseries; s++) {
		const struct report_series *sr = &p->series[s];
		double dash[] = {6, 4};
		bool pen = false;

		cairo_set_source_rgb(cr, sr->rgb[0], sr->rgb[1], sr->rgb[2]);
		cairo_set_line_width(cr, 1.4);
		cairo_set_dash(cr, dash, sr->dashed ? 2 : 0, 0);
		for (size_t i = 0; i < sr->n; i++) {
			double x = sr->x != NULL ? sr->x[i] : (double)i;
			double y = report_plot_yval(f, sr->y[i]);

			if (!isfinite(x) || !isfinite(y) || x < f->x0 || x > f->x1) {
				pen = false;
				continue;
			}
			if (pen)
				cairo_line_to(cr, report_plot_X(f, x), report_plot_Y(f, y));
			else
				cairo_move_to(cr, report_plot_X(f, x), report_plot_Y(f, y));
			pen = true;
		}
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
	}
}

static void
report_plot_bars(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	double slot = f->pw / (f->x1 - f->x0), w = 0.8 * slot / (double)p->nseries;
	double base = report_plot_Y(f, f->log_y ? f->y0 : 0);

	for (size_t s = 0; s < p->nseries; s++) {
		const struct report_series *sr = &p->series[s];

		cairo_set_source_rgb(cr, sr->rgb[0], sr->rgb[1], sr->rgb[2]);
		for (size_t i = 0; i < sr->n; i++) {
			double y = report_plot_yval(f, sr->y[i]);
			double X = report_plot_X(f, (double)i) - 0.4 * slot + (double)s * w;

			if (!isfinite(y))
				continue;
			cairo_rectangle(cr, X, fmin(base, report_plot_Y(f, y)), w,
					fabs(base - report_plot_Y(f, y)));
		}
		cairo_fill(cr);
	}
}

/* The category labels under the bars, slanted. */
static void
report_plot_categories(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
	cairo_set_font_size(cr, 10);
	for (size_t i = 0; p->categories != NULL && p->nseries > 0 && i < p->series[0].n; i++)
		report_plot_text(cr, report_plot_X(f, (double)i), f->py + f->ph + 4,
				 p->categories[i], 1, 0.5, -M_PI / 3);
}

static void
report_plot_legend(cairo_t *cr, const struct report_plot *p, const struct report_plot_frame *f)
{
	double y = f->py + 8, x = f->px + f->pw - 190;

	cairo_set_font_size(cr, 11);
	for (size_t k = 0; k < p->nseries + p->nmarks; k++) {
		bool is_s = k < p->nseries;
		const char *label = is_s ? p->series[k].label : p->marks[k - p->nseries].label;
		const double *rgb = is_s ? p->series[k].rgb : p->marks[k - p->nseries].rgb;

		if (label == NULL)
			continue;
		cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
		cairo_rectangle(cr, x - 4, y - 2, 186, 16);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		cairo_set_line_width(cr, 2.5);
		cairo_move_to(cr, x, y + 6);
		cairo_line_to(cr, x + 22, y + 6);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		report_plot_text(cr, x + 28, y + 6, label, 0, 0.5, 0);
		y += 16;
	}
}

int
report_plot_png(const struct report_plot *p, const char *path, char **cause)
{
	int w = p->width > 0 ? p->width : 900, h = p->height > 0 ? p->height : 420;
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	cairo_t *cr = cairo_create(sf);
	struct report_plot_frame f = {.log_y = p->log_y};
	cairo_status_t st;

	f.px = REPORT_PLOT_LEFT, f.py = REPORT_PLOT_TOP;
	f.pw = w - REPORT_PLOT_LEFT - REPORT_PLOT_RIGHT;
	f.ph = h - REPORT_PLOT_TOP - REPORT_PLOT_BOTTOM - (p->bars ? 24 : 0);
	report_plot_range(p, &f);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	report_plot_axes(cr, p, &f);
	cairo_save(cr);
	cairo_rectangle(cr, f.px, f.py, f.pw, f.ph);
	cairo_clip(cr);
	report_plot_marks(cr, p, &f);
	if (p->bars)
		report_plot_bars(cr, p, &f);
	else
		report_plot_lines(cr, p, &f);
	cairo_restore(cr);
	if (p->bars)
		report_plot_categories(cr, p, &f);
	report_plot_legend(cr, p, &f);
	st = cairo_status(cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_write_to_png(sf, path);
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	if (st != CAIRO_STATUS_SUCCESS)
		return error_set(cause, -EIO, "%s: cannot draw the plot: %s", path,
				 cairo_status_to_string(st));
	return 0;
}
