/* The EEGLAB reader: .set files written here with libmatio in both layouts EEGLAB uses (one EEG
 * structure, or its fields as variables), samples in a .fdt or embedded, events with text and
 * numeric types; and one clear error naming the file and the field for each broken dataset. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/io/rec/io-rec.h"

TEST_TMPDIR_DEFINE("io-eeglab")

#define NC 3
#define NP 600
static float samples[NP][NC]; /* µV, as EEGLAB stores them: points × channels in the .fdt */

static matvar_t *
num(double v)
{
	size_t d[2] = {1, 1};

	return Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d, &v, 0);
}

static matvar_t *
str(const char *s)
{
	size_t d[2] = {1, strlen(s)};

	return Mat_VarCreate(NULL, MAT_C_CHAR, MAT_T_UINT8, 2, d, (void *)s, 0);
}

static matvar_t *
chanlocs(size_t n)
{
	static const char *const names[] = {"Fz", "Cz", "ECG", "Pz"};
	const char *fields[] = {"labels", "type"};
	size_t d[2] = {1, n};
	matvar_t *v = Mat_VarCreateStruct(NULL, 2, d, fields, 2);

	for (size_t i = 0; i < n; i++) {
		Mat_VarSetStructFieldByName(v, "labels", i, str(names[i]));
		Mat_VarSetStructFieldByName(v, "type", i, str("EEG"));
	}
	return v;
}

/* Events: "R128" at latency 101 lasting 5 points, numeric type 7 at 301.5, then `extra`. */
static matvar_t *
events(double extra_latency)
{
	const char *fields[] = {"type", "latency", "duration"};
	size_t n = extra_latency > 0 ? 3 : 2, d[2] = {1, n};
	matvar_t *v = Mat_VarCreateStruct(NULL, 2, d, fields, 3);

	Mat_VarSetStructFieldByName(v, "type", 0, str("R128"));
	Mat_VarSetStructFieldByName(v, "latency", 0, num(101));
	Mat_VarSetStructFieldByName(v, "duration", 0, num(5));
	Mat_VarSetStructFieldByName(v, "type", 1, num(7));
	Mat_VarSetStructFieldByName(v, "latency", 1, num(301.5));
	Mat_VarSetStructFieldByName(v, "duration", 1, num(0));
	if (n == 3) {
		Mat_VarSetStructFieldByName(v, "type", 2, str("boundary"));
		Mat_VarSetStructFieldByName(v, "latency", 2, num(extra_latency));
		Mat_VarSetStructFieldByName(v, "duration", 2, num(0));
	}
	return v;
}

struct set_opts {
	bool top_level; /* fields as variables instead of one EEG struct */
	bool embedded;  /* samples in the .set */
	double trials, srate, extra_latency;
	size_t nlocs;
	size_t fdt_points; /* points written to the .fdt */
	bool no_srate;
};

static matvar_t *
embedded_data(void)
{
	size_t d[2] = {NC, NP};

	/* Column-major NC × NP is exactly the points × channels order of `samples`. */
	return Mat_VarCreate(NULL, MAT_C_SINGLE, MAT_T_SINGLE, 2, d, samples, 0);
}

static void
write_set(const char *name, const struct set_opts *o)
{
	const char *fields[] = {"setname", "nbchan", "pnts",     "trials",
				"srate",   "data",   "chanlocs", "event"};
	matvar_t *vals[8];
	mat_t *mat = Mat_CreateVer(tmp_path(name), NULL, MAT_FT_MAT5);
	FILE *fp;

	cr_assert_not_null(mat);
	for (size_t t = 0; t < NP; t++)
		for (size_t c = 0; c < NC; c++)
			samples[t][c] = (float)(50 * sin(0.01 * (double)(t + 1) * (double)(c + 1)));
	vals[0] = str("test");
	vals[1] = num(NC);
	vals[2] = num(NP);
	vals[3] = num(o->trials > 0 ? o->trials : 1);
	vals[4] = num(o->srate > 0 ? o->srate : 250);
	vals[5] = o->embedded ? embedded_data() : str("data.fdt");
	vals[6] = chanlocs(o->nlocs > 0 ? o->nlocs : NC);
	vals[7] = events(o->extra_latency);
	if (o->top_level) {
		for (size_t i = 0; i < 8; i++) {
			if (i == 4 && o->no_srate) {
				Mat_VarFree(vals[i]);
				continue;
			}
			vals[i]->name = strdup(fields[i]);
			cr_assert_eq(Mat_VarWrite(mat, vals[i], MAT_COMPRESSION_NONE), 0);
			Mat_VarFree(vals[i]);
		}
	} else {
		size_t d[2] = {1, 1};
		matvar_t *eeg = Mat_VarCreateStruct("EEG", 2, d, fields, 8);

		for (size_t i = 0; i < 8; i++)
			Mat_VarSetStructFieldByName(eeg, fields[i], 0, vals[i]);
		cr_assert_eq(Mat_VarWrite(mat, eeg, MAT_COMPRESSION_NONE), 0);
		Mat_VarFree(eeg);
	}
	Mat_Close(mat);
	if (!o->embedded) {
		fp = fopen(tmp_path("data.fdt"), "wb");
		cr_assert_not_null(fp);
		fwrite(samples, sizeof(float) * NC, o->fdt_points > 0 ? o->fdt_points : NP, fp);
		fclose(fp);
	}
}

static void
check_read(const char *name)
{
	const struct io_rec_header *h;
	struct io_rec *r;
	char *cause = NULL;
	double *x;
	size_t n;

	cr_assert_eq(io_rec_open(tmp_path(name), NULL, &r, &cause), 0, "%s", cause);
	h = io_rec_header(r);
	cr_assert_eq(h->format, IO_REC_EEGLAB);
	cr_assert_eq(h->n_channels, NC);
	cr_assert_str_eq(h->channels[0].label, "Fz");
	cr_assert_str_eq(h->channels[2].label, "ECG");
	cr_assert(h->channels[1].is_voltage);
	for (size_t c = 0; c < NC; c++) {
		cr_assert_eq(h->channels[c].rate, 250);
		cr_assert_eq(io_rec_read_channel(r, c, &x, &n, &cause), 0, "%s", cause);
		cr_assert_eq(n, NP);
		for (size_t t = 0; t < NP; t++)
			cr_assert_eq(x[t], (double)samples[t][c] * 1e-6, "ch %zu pt %zu", c, t);
		free(x);
	}
	cr_assert_eq(h->n_annotations, 2);
	cr_assert_str_eq(h->annotations[0].text, "R128");
	cr_assert_float_eq(h->annotations[0].onset, 100.0 / 250, 1e-12);
	cr_assert_float_eq(h->annotations[0].duration, 5.0 / 250, 1e-12);
	cr_assert_str_eq(h->annotations[1].text, "7.0"); /* as MNE names it */
	cr_assert_float_eq(h->annotations[1].onset, 300.5 / 250, 1e-12);
	io_rec_close(r);
}

Test(io_eeglab, struct_with_fdt, .init = setup_tmp, .fini = teardown_tmp)
{
	write_set("s.set", &(struct set_opts){0});
	check_read("s.set");
}

Test(io_eeglab, top_level_with_fdt, .init = setup_tmp, .fini = teardown_tmp)
{
	write_set("t.set", &(struct set_opts){.top_level = true});
	check_read("t.set");
}

Test(io_eeglab, struct_embedded, .init = setup_tmp, .fini = teardown_tmp)
{
	write_set("e.set", &(struct set_opts){.embedded = true});
	check_read("e.set");
}

Test(io_eeglab, top_level_embedded, .init = setup_tmp, .fini = teardown_tmp)
{
	write_set("te.set", &(struct set_opts){.top_level = true, .embedded = true});
	check_read("te.set");
}

static void
expect_error(const char *name, const char *const *want)
{
	struct io_rec *r = NULL;
	char *cause = NULL;

	cr_assert_neq(io_rec_open(tmp_path(name), "eeglab", &r, &cause), 0);
	cr_assert_null(r);
	cr_assert_not_null(cause);
	for (; *want != NULL; want++)
		cr_assert_not_null(strstr(cause, *want), "'%s' not in: %s", *want, cause);
	free(cause);
}

Test(io_eeglab, errors_name_the_field, .init = setup_tmp, .fini = teardown_tmp)
{
	write_set("a.set", &(struct set_opts){.trials = 3});
	expect_error("a.set", (const char *const[]){"a.set", "EEG.trials", "continuous", NULL});
	write_set("b.set", &(struct set_opts){.top_level = true, .no_srate = true});
	expect_error("b.set", (const char *const[]){"b.set", "EEG.srate", NULL});
	write_set("c.set", &(struct set_opts){.nlocs = 2});
	expect_error("c.set", (const char *const[]){"EEG.chanlocs", "2 entries for 3", NULL});
	write_set("d.set", &(struct set_opts){.fdt_points = NP - 1});
	expect_error("d.set", (const char *const[]){"data.fdt", "EEG.nbchan", "truncated", NULL});
	write_set("e.set", &(struct set_opts){.extra_latency = NP + 5});
	expect_error("e.set", (const char *const[]){"EEG.event(3).latency", NULL});
	{
		FILE *fp = fopen(tmp_path("f.set"), "wb");
		fputs("this is not a MATLAB file at all, not even close.....................", fp);
		fclose(fp);
	}
	expect_error("f.set", (const char *const[]){"f.set", "not a MATLAB file", NULL});
	expect_error("missing.set", (const char *const[]){"missing.set", "cannot open", NULL});
}
