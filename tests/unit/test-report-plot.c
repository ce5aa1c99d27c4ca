/* The report's charts and page: 1-2-5 steps, PNG files that cairo reads back at the asked size
 * with the series' colour in them (lines, log scale, bars), and an HTML page with its text
 * escaped and every figure named. */
#include <cairo.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/report/report-page.h"
#include "worker/report/report-plot.h"

TEST_TMPDIR_DEFINE("report")

Test(report_plot, steps)
{
	cr_assert_float_eq(report_plot_step(0, 10, 5), 2, 1e-12);
	cr_assert_float_eq(report_plot_step(0, 1000, 8), 100, 1e-9);
	cr_assert_float_eq(report_plot_step(-3, 3, 6), 1, 1e-12);
	cr_assert_float_eq(report_plot_step(0, 0.07, 7), 0.01, 1e-15);
	cr_assert_float_eq(report_plot_step(5, 5, 4), 1, 0); /* empty range */
}

/* Pixels of (nearly) the colour rgb in the PNG at path, which must be w × h. */
static size_t
count_colour(const char *path, int w, int h, const double rgb[3])
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	size_t hits = 0;

	cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS, "%s", path);
	cr_assert_eq(cairo_image_surface_get_width(s), w);
	cr_assert_eq(cairo_image_surface_get_height(s), h);
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(cairo_image_surface_get_data(s) +
							 y * cairo_image_surface_get_stride(s));
		for (int x = 0; x < w; x++) {
			double r = ((row[x] >> 16) & 255) / 255.0,
			       g = ((row[x] >> 8) & 255) / 255.0, b = (row[x] & 255) / 255.0;
			hits += fabs(r - rgb[0]) < 0.12 && fabs(g - rgb[1]) < 0.12 &&
				fabs(b - rgb[2]) < 0.12;
		}
	}
	cairo_surface_destroy(s);
	return hits;
}

Test(report_plot, lines_log_and_bars, .init = setup_tmp, .fini = teardown_tmp)
{
	double x[200], y[200], z[200], marks[3] = {10, 20, 30};
	struct report_series s[2] = {{x, y, 200, {0.8, 0.1, 0.1}, "sine", false},
				     {x, z, 200, {0.1, 0.1, 0.8}, "power", true}};
	struct report_marks m = {marks, 3, {0.0, 0.7, 0.0}, "marks", false};
	struct report_plot p = {.title = "t",
				.xlabel = "x",
				.ylabel = "y",
				.series = s,
				.nseries = 1,
				.marks = &m,
				.nmarks = 1,
				.width = 400,
				.height = 300};
	static const char *const cats[] = {"Fp1", "Fp2", "Cz"};
	char path[128];
	char *cause = NULL;

	for (int i = 0; i < 200; i++) {
		x[i] = i * 0.25;
		y[i] = sin(x[i]);
		z[i] = i == 7 ? NAN : exp(-x[i] / 10); /* a gap, and a log scale */
	}
	snprintf(path, sizeof path, "%s/lines.png", tmpdir);
	cr_assert_eq(report_plot_png(&p, path, &cause), 0, "%s", cause);
	cr_assert_gt(count_colour(path, 400, 300, s[0].rgb), 200);
	/* Marks are drawn at 70 % over white, one pixel wide. */
	cr_assert_gt(count_colour(path, 400, 300, (double[3]){0.3, 0.79, 0.3}), 100);
	p.series = s + 1;
	p.log_y = true;
	p.nmarks = 0;
	snprintf(path, sizeof path, "%s/log.png", tmpdir);
	cr_assert_eq(report_plot_png(&p, path, &cause), 0, "%s", cause);
	cr_assert_gt(count_colour(path, 400, 300, s[1].rgb), 100);
	cr_assert_eq(count_colour(path, 400, 300, s[0].rgb), 0);
	s[0].n = 3;
	p = (struct report_plot){.series = s,
				 .nseries = 1,
				 .bars = true,
				 .categories = cats,
				 .width = 300,
				 .height = 200};
	y[0] = 1, y[1] = 3, y[2] = 2;
	snprintf(path, sizeof path, "%s/bars.png", tmpdir);
	cr_assert_eq(report_plot_png(&p, path, &cause), 0, "%s", cause);
	cr_assert_gt(count_colour(path, 300, 200, s[0].rgb), 1000); /* filled bars */
	cr_assert_neq(report_plot_png(&p, "/nonexistent/dir/x.png", &cause), 0);
	cr_assert_not_null(strstr(cause, "/nonexistent/dir/x.png"), "%s", cause);
	free(cause);
}

Test(report_page, escaped_and_complete, .init = setup_tmp, .fini = teardown_tmp)
{
	static const char *const facts[] = {"input", "a<b>&c.vhdr"};
	static const struct report_page_figure figs[] = {{"r/epoch.png", "epoch \"1\""},
							 {"r/spectrum.png", "spectrum"}};
	static const char *const cols[] = {"channel", "dB"};
	static const char *const cells[] = {"Fp1", "40.1", "Cz<", "39.0"};
	struct report_page p = {"Report", facts, 1, figs, 2, cols, 2, cells, 2};
	char path[128], buf[8192];
	char *cause = NULL;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/page.html", tmpdir);
	cr_assert_eq(report_page_write(path, &p, &cause), 0, "%s", cause);
	fp = fopen(path, "r");
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	cr_assert_not_null(strstr(buf, "a&lt;b&gt;&amp;c.vhdr"));
	cr_assert_not_null(strstr(buf, "<img src=\"r/epoch.png\" alt=\"epoch &quot;1&quot;\""));
	cr_assert_not_null(strstr(buf, "r/spectrum.png"));
	cr_assert_not_null(strstr(buf, "<td>Cz&lt;</td>"));
	cr_assert_null(strstr(buf, "<script"));
}
