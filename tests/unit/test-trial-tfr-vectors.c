/* freqanalysis mtmconvol, welch, wavelet and superlet against the reference toolbox's own
 * outputs (tests/data/spectral-methods, from the shared reference vectors): each case's steps
 * run unchanged as a pipeline on the tfmix input, in chunks of trials and channels (partial
 * sums for the trial averages), and the written SpectralData container is compared with the
 * reference array (|got - ref| <= rel |ref| + abs max|ref|, the tolerances of tf_meta.json) and
 * with the reference's trial definition, samplerate, freq and taper attributes. */
#include <complex.h>
#include <criterion/criterion.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/graph/graph.h"
#include "test-tmpdir.h"
#include "worker/io/io-npy.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-writer.h"
#include "worker/ops/task-run.h"

#define DATA ND_SOURCE_ROOT "/tests/data/spectral-methods"

static char tmpdir[64];

static void
setup(void)
{
	test_tmpdir_make(tmpdir, sizeof tmpdir, "tfr-vectors");
}

static void
teardown(void)
{
	test_tmpdir_remove(tmpdir);
}

static void *
load_npy(const char *name, struct io_npy_header *h)
{
	char path[256];
	void *v = NULL;
	char *cause = NULL;

	snprintf(path, sizeof path, "%s/%s", DATA, name);
	cr_assert_eq(io_npy_read(path, h, &v, &cause), 0, "%s: %s", path, cause);
	return v;
}

/* The tfmix input as an AnalogData container, as the reference's generator writes it. */
static void
write_input(const char *path)
{
	struct io_npy_header hx, ht;
	float *x = load_npy("tfmix_input.npy", &hx);
	double *trl = load_npy("tfmix_trialdefinition.npy", &ht);
	struct io_spy_meta m = {0};
	char *h5 = NULL, *cause = NULL;

	cr_assert(hx.dtype == IO_NPY_F4 && hx.ndim == 2 && ht.dtype == IO_NPY_F8 && ht.ndim == 2);
	m.dataclass = IO_SPY_ANALOG;
	m.dtype = IO_SPY_FLOAT32;
	m.shape[0] = hx.shape[0];
	m.shape[1] = hx.shape[1];
	m.samplerate = 500;
	m.trl = trl;
	m.ntrials = ht.shape[0];
	m.trl_cols = ht.shape[1];
	cr_assert_eq(io_spy_container_prepare(path, IO_SPY_ANALOG, &h5, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_write(h5, &m, x, &cause), 0, "%s", cause);
	free(h5);
	free(x);
	free(trl);
}

static int
run_pipeline(const char *text, char **cause)
{
	struct graph *g = NULL;
	char workdir[96];
	int rc;

	snprintf(workdir, sizeof workdir, "%s/work", tmpdir);
	rc = graph_build(text, NULL, NULL, workdir, &g, cause);
	for (uint32_t t = 0; rc == 0 && t < g->ntasks; t++) {
		char *spec = graph_task_spec(g, 1, t), *result = NULL;
		rc = task_run(spec, NULL, 1, NULL, &result, cause);
		free(result);
		free(spec);
	}
	graph_free(g);
	return rc;
}

/* `data` as complex doubles (imaginary 0 for float32) and its shape. */
static double complex *
read_data(hid_t f, hsize_t *dims)
{
	hid_t d = H5Dopen2(f, "data", H5P_DEFAULT), s = H5Dget_space(d), t = H5Dget_type(d);
	bool cplx = H5Tget_class(t) == H5T_COMPOUND;
	size_t n;
	float *v;
	double complex *out;

	cr_assert_eq(H5Sget_simple_extent_ndims(s), 4, "data is not 4-dimensional");
	H5Sget_simple_extent_dims(s, dims, NULL);
	n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
	v = malloc((cplx ? 2 : 1) * n * sizeof *v);
	hid_t mt = io_spy_h5_mem_type(cplx ? IO_SPY_COMPLEX64 : IO_SPY_FLOAT32);
	cr_assert_geq(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
	H5Tclose(mt);
	out = malloc(n * sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = cplx ? v[2 * i] + I * v[2 * i + 1] : v[i];
	free(v);
	H5Tclose(t);
	H5Sclose(s);
	H5Dclose(d);
	return out;
}

static void
check_trialdefinition(hid_t f, const json_t *want)
{
	hid_t d = H5Dopen2(f, "trialdefinition", H5P_DEFAULT), s = H5Dget_space(d);
	hsize_t dims[2];
	double *v;

	H5Sget_simple_extent_dims(s, dims, NULL);
	cr_assert_eq(dims[0], json_array_size(want), "trialdefinition has %llu rows, want %zu",
		     (unsigned long long)dims[0], json_array_size(want));
	v = malloc(dims[0] * dims[1] * sizeof *v);
	cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
	for (size_t i = 0; i < dims[0]; i++)
		for (size_t c = 0; c < dims[1]; c++) {
			double w = json_number_value(json_array_get(json_array_get(want, i), c));
			cr_assert(fabs(v[i * dims[1] + c] - w) <= 1e-12 * fmax(1, fabs(w)),
				  "trialdefinition[%zu][%zu] = %.17g, want %.17g", i, c,
				  v[i * dims[1] + c], w);
		}
	free(v);
	H5Sclose(s);
	H5Dclose(d);
}

static void
check_attrs(hid_t f, const json_t *c)
{
	const json_t *freq = json_object_get(c, "freq"), *taper = json_object_get(c, "taper");
	double sr, *fv = malloc((json_array_size(freq) + 1) * sizeof *fv);
	double want_sr = json_number_value(json_object_get(c, "samplerate"));

	cr_assert_eq(io_spy_h5_attr_read_doubles(f, "out", "samplerate", &sr, 1, NULL), 0);
	cr_assert(fabs(sr - want_sr) <= 1e-12 * want_sr, "samplerate %.17g, want %.17g", sr,
		  want_sr);
	cr_assert_eq(io_spy_h5_attr_read_doubles(f, "out", "freq", fv, json_array_size(freq),
						 NULL),
		     0, "freq attribute of %zu values", json_array_size(freq));
	for (size_t i = 0; i < json_array_size(freq); i++) {
		double w = json_number_value(json_array_get(freq, i));
		cr_assert(fabs(fv[i] - w) <= 1e-9 * fmax(1, w), "freq[%zu] %.17g, want %.17g", i,
			  fv[i], w);
	}
	free(fv);
	hid_t a = H5Aopen(f, "taper", H5P_DEFAULT), s = H5Aget_space(a), t = H5Aget_type(a);
	hssize_t n = H5Sget_simple_extent_npoints(s);
	char **lab = calloc((size_t)n + 1, sizeof *lab);
	cr_assert_eq((size_t)n, json_array_size(taper), "%lld tapers", (long long)n);
	hid_t mt = H5Tcopy(H5T_C_S1);
	H5Tset_size(mt, H5T_VARIABLE);
	H5Tset_cset(mt, H5T_CSET_UTF8);
	cr_assert_geq(H5Aread(a, mt, lab), 0);
	for (size_t i = 0; i < (size_t)n; i++)
		cr_assert_str_eq(lab[i], json_string_value(json_array_get(taper, i)));
	H5Dvlen_reclaim(mt, s, H5P_DEFAULT, lab);
	free(lab);
	H5Tclose(mt);
	H5Tclose(t);
	H5Sclose(s);
	H5Aclose(a);
}

static void
check_case(const char *name)
{
	json_error_t jerr;
	json_t *meta = json_load_file(DATA "/tf_meta.json", 0, &jerr), *c, *tol, *shape;
	char in[128], out[128], h5[192], *text, *steps, *cause = NULL;
	struct io_npy_header h;
	double complex *got;
	hsize_t dims[4];
	double rel, abs_, amax = 0, worst = 0;

	cr_assert_not_null(meta, "tf_meta.json: %s", jerr.text);
	c = json_object_get(meta, name);
	cr_assert_not_null(c, "no case %s", name);
	snprintf(in, sizeof in, "%s/tfmix.spy", tmpdir);
	snprintf(out, sizeof out, "%s/%s.spy", tmpdir, name);
	write_input(in);
	steps = json_dumps(json_object_get(c, "steps"), JSON_COMPACT);
	text = malloc(strlen(steps) + 512);
	sprintf(text,
		"{\"input\": {\"format\": \"spy\", \"path\": \"%s\"}, \"steps\": %s, "
		"\"output\": {\"path\": \"%s\"}, "
		"\"execution\": {\"chan_per_task\": 2, \"trials_per_task\": 5}}",
		in, steps, out);
	cr_assert_eq(run_pipeline(text, &cause), 0, "%s: %s", name, cause);
	snprintf(h5, sizeof h5, "%s/%s.spectral", out, name);
	hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0, "cannot open %s", h5);
	got = read_data(f, dims);
	check_trialdefinition(f, json_object_get(c, "trialdefinition"));
	check_attrs(f, c);
	H5Fclose(f);

	void *ref = load_npy(json_string_value(json_object_get(c, "ref")), &h);
	shape = json_object_get(c, "shape");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(dims[i], (hsize_t)json_integer_value(json_array_get(shape, i)),
			     "%s: axis %d has %llu entries", name, i, (unsigned long long)dims[i]);
	cr_assert_eq(h.count, (size_t)(dims[0] * dims[1] * dims[2] * dims[3]));
	tol = json_object_get(c, "tol");
	rel = json_number_value(json_object_get(tol, "rel"));
	abs_ = json_number_value(json_object_get(tol, "abs"));
	for (size_t i = 0; i < h.count; i++) {
		double complex r = h.dtype == IO_NPY_C8 ? ((float complex *)ref)[i]
							 : ((float *)ref)[i];
		amax = fmax(amax, cabs(r));
	}
	for (size_t i = 0; i < h.count; i++) {
		double complex r = h.dtype == IO_NPY_C8 ? ((float complex *)ref)[i]
							 : ((float *)ref)[i];
		double e = cabs(got[i] - r) / (rel * cabs(r) + abs_ * amax);
		cr_expect(e <= 1, "%s: element %zu: %g%+gi vs reference %g%+gi", name, i,
			  creal(got[i]), cimag(got[i]), creal(r), cimag(r));
		worst = fmax(worst, e);
	}
	cr_assert(worst <= 1, "%s: worst error %.3g of the tolerance", name, worst);
	cr_log_info("%s: worst error %.3g of the tolerance", name, worst);
	free(ref);
	free(got);
	free(text);
	free(steps);
	json_decref(meta);
}

#define CASE(n)                                                                                    \
	Test(tfr_vectors, n, .init = setup, .fini = teardown)                                      \
	{                                                                                          \
		check_case(#n);                                                                    \
	}

CASE(mtmconvol_hann_odd)
CASE(mtmconvol_dpss_detrend)
CASE(mtmconvol_hamming_fourier)
CASE(mtmconvol_dpss_toilist)
CASE(welch_dpss)
CASE(welch_blackman_trialavg)
CASE(wavelet_morlet)
CASE(wavelet_paul_trialavg)
CASE(wavelet_dog_detrend)
CASE(superlet_fixed)
CASE(superlet_adaptive)

/* Every time-frequency case of the data set has a test above. */
Test(tfr_vectors, every_case_is_tested)
{
	static const char *const tested[] = {
	    "mtmconvol_hann_odd", "mtmconvol_dpss_detrend", "mtmconvol_hamming_fourier",
	    "mtmconvol_dpss_toilist", "welch_dpss", "welch_blackman_trialavg", "wavelet_morlet",
	    "wavelet_paul_trialavg", "wavelet_dog_detrend", "superlet_fixed", "superlet_adaptive",
	};
	json_t *meta = json_load_file(DATA "/tf_meta.json", 0, NULL), *v;
	const char *k;
	size_t n = 0;

	cr_assert_not_null(meta);
	json_object_foreach(meta, k, v) {
		bool found = k[0] == '_';
		for (size_t i = 0; i < sizeof tested / sizeof tested[0] && !found; i++)
			found = strcmp(k, tested[i]) == 0;
		cr_expect(found, "case %s has no test", k);
		n += k[0] != '_';
	}
	cr_assert_eq(n, sizeof tested / sizeof tested[0]);
	json_decref(meta);
}
