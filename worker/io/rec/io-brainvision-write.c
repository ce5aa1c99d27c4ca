/* Writing a BrainVision recording: the .eeg (INT_16 with a resolution per channel chosen from
 * its range, or IEEE_FLOAT_32; MULTIPLEXED or VECTORIZED) streamed a block at a time, the .vmrk
 * with a marker per annotation, the .vhdr last; each under a hidden temporary name beside it
 * (DIR/.NAME.tmpPID), then renamed, the .vhdr last. */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf.h"
#include "worker/io/rec/io-brainvision.h"

#define IO_BRAINVISION_BLOCK 8192 /* samples per channel held at a time */

struct io_brainvision_writer {
	const struct io_brainvision_spec *spec;
	io_brainvision_source_cb cb;
	void *arg;
	double *to_raw;           /* per channel: volts × to_raw = stored value */
	double *res;              /* per channel: the resolution written in the header */
	double *block;            /* IO_BRAINVISION_BLOCK × n_channels */
	char *paths[3], *tmps[3]; /* .eeg, .vmrk, .vhdr */
};

static int
io_brainvision_write_src(struct io_brainvision_writer *w, size_t c, size_t start, size_t n,
			 double *out, char **cause)
{
	const struct io_brainvision_writer_channel *ch = &w->spec->channels[c];

	if (w->cb != NULL)
		return w->cb(w->arg, c, start, n, out, cause);
	if (ch->data == NULL)
		return error_set(cause, -EINVAL, "channel %s: no data", ch->label);
	memcpy(out, ch->data + start, n * sizeof *out);
	return 0;
}

static double
io_brainvision_write_scale(const struct io_brainvision_writer_channel *ch)
{
	/* Voltages are written in µV whatever their unit; other channels in their own. */
	return io_edf_volt_scale(ch->unit != NULL ? ch->unit : "uV") != 0 ? 1e-6 : 1.0;
}

/* INT_16: a resolution per channel so its largest magnitude is 32767 steps; the value printed
 * in the header is the one used, so a reader gets exactly the written samples back. */
static int
io_brainvision_write_ranges(struct io_brainvision_writer *w, char **cause)
{
	const struct io_brainvision_spec *sp = w->spec;

	for (size_t c = 0; c < sp->n_channels; c++) {
		double peak = 0, unit = io_brainvision_write_scale(&sp->channels[c]);
		char txt[40];
		int rc;

		for (size_t s = 0; sp->type == IO_REC_INT16 && s < sp->n_samples;
		     s += IO_BRAINVISION_BLOCK) {
			size_t k = sp->n_samples - s < IO_BRAINVISION_BLOCK ? sp->n_samples - s
									    : IO_BRAINVISION_BLOCK;
			if ((rc = io_brainvision_write_src(w, c, s, k, w->block, cause)) != 0)
				return rc;
			for (size_t i = 0; i < k; i++)
				if (isfinite(w->block[i]) && fabs(w->block[i]) > peak)
					peak = fabs(w->block[i]);
		}
		w->res[c] = 1;
		if (sp->type == IO_REC_INT16 && peak > 0) {
			snprintf(txt, sizeof txt, "%.9g", peak / unit / 32767.0 * (1 + 1e-9));
			w->res[c] = strtod(txt, NULL);
		}
		w->to_raw[c] = 1.0 / (w->res[c] * unit);
	}
	return 0;
}

static void
io_brainvision_write_put(unsigned char *p, enum io_rec_sample t, double v)
{
	if (t == IO_REC_INT16) {
		double r = isfinite(v) ? nearbyint(v) : 0;
		int16_t i = r > 32767 ? 32767 : r < -32768 ? -32768 : (int16_t)r;
		uint16_t u = htole16((uint16_t)i);
		memcpy(p, &u, 2);
	} else {
		float f = (float)v;
		uint32_t u;
		memcpy(&u, &f, 4);
		u = htole32(u);
		memcpy(p, &u, 4);
	}
}

static int
io_brainvision_write_eeg(struct io_brainvision_writer *w, FILE *fp, char **cause)
{
	const struct io_brainvision_spec *sp = w->spec;
	size_t nc = sp->n_channels, bw = io_rec_binary_width(sp->type);
	unsigned char *raw = xmalloc(IO_BRAINVISION_BLOCK * nc * bw);
	int rc = 0, werr = 0;

	for (size_t s = 0; rc == 0 && s < sp->n_samples; s += IO_BRAINVISION_BLOCK) {
		size_t k = sp->n_samples - s < IO_BRAINVISION_BLOCK ? sp->n_samples - s
								    : IO_BRAINVISION_BLOCK;
		for (size_t c = 0; rc == 0 && c < nc; c++)
			rc = io_brainvision_write_src(w, c, s, k, w->block + c * k, cause);
		for (size_t c = 0; rc == 0 && sp->vectorized && c < nc; c++) {
			for (size_t i = 0; i < k; i++) /* channel c's block, to its place below */
				io_brainvision_write_put(raw + i * bw, sp->type,
							 w->block[c * k + i] * w->to_raw[c]);
			if (fseeko(fp, (off_t)((c * sp->n_samples + s) * bw), SEEK_SET) != 0 ||
			    fwrite(raw, bw, k, fp) != k) {
				werr = errno;
				rc = -EIO;
			}
		}
		if (rc != 0 || sp->vectorized)
			continue;
		for (size_t i = 0; i < k; i++)
			for (size_t c = 0; c < nc; c++)
				io_brainvision_write_put(raw + (i * nc + c) * bw, sp->type,
							 w->block[c * k + i] * w->to_raw[c]);
		if (fwrite(raw, bw * nc, k, fp) != k) {
			werr = errno;
			rc = -EIO;
		}
	}
	free(raw);
	if (rc == -EIO) /* the system's reason: ENOSPC when the disk is full */
		rc = error_set(cause, werr != 0 ? -werr : -EIO, "%s: write error: %s", w->paths[0],
			       strerror(werr != 0 ? werr : EIO));
	return rc;
}

/* A name or marker field with its commas as BrainVision's "\1". */
static void
io_brainvision_write_field(FILE *fp, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		if (s[i] == ',')
			fputs("\\1", fp);
		else if (s[i] != '\n' && s[i] != '\r')
			fputc(s[i], fp);
	}
}

static void
io_brainvision_write_date(FILE *fp, const struct io_brainvision_spec *sp)
{
	if (sp->start_year > 0)
		fprintf(fp, ",%04d%02d%02d%02d%02d%02d000000", sp->start_year, sp->start_month,
			sp->start_day, sp->start_hour, sp->start_minute, sp->start_second);
}

static void
io_brainvision_write_vmrk(struct io_brainvision_writer *w, FILE *fp, const char *eeg_name)
{
	const struct io_brainvision_spec *sp = w->spec;
	bool segment =
	    sp->n_annotations > 0 && strncmp(sp->annotations[0].text, "New Segment/", 12) == 0;
	size_t mk = 1;

	fprintf(fp,
		"Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n"
		"[Common Infos]\r\nCodepage=UTF-8\r\nDataFile=%s\r\n\r\n[Marker Infos]\r\n"
		"; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data "
		"points>,\r\n; <Size in data points>, <Channel number (0 = marker is related "
		"to all channels)>\r\n",
		eeg_name);
	if (!segment) {
		fprintf(fp, "Mk%zu=New Segment,,1,1,0", mk++);
		io_brainvision_write_date(fp, sp);
		fputs("\r\n", fp);
	}
	for (size_t i = 0; i < sp->n_annotations; i++) {
		const struct io_rec_annotation *a = &sp->annotations[i];
		const char *slash = strchr(a->text, '/');
		double pos = nearbyint(a->onset * sp->rate) + 1;
		double size = a->duration >= 0 ? nearbyint(a->duration * sp->rate) : 1;

		pos = pos < 1 ? 1 : pos > (double)sp->n_samples ? (double)sp->n_samples : pos;
		fprintf(fp, "Mk%zu=", mk++);
		if (slash != NULL) {
			io_brainvision_write_field(fp, a->text, (size_t)(slash - a->text));
			fputc(',', fp);
			io_brainvision_write_field(fp, slash + 1, SIZE_MAX);
		} else {
			fputs("Comment,", fp);
			io_brainvision_write_field(fp, a->text, SIZE_MAX);
		}
		fprintf(fp, ",%.0f,%.0f,0", pos, size);
		if (i == 0 && segment)
			io_brainvision_write_date(fp, sp);
		fputs("\r\n", fp);
	}
}

static void
io_brainvision_write_vhdr(struct io_brainvision_writer *w, FILE *fp, const char *eeg_name,
			  const char *vmrk_name)
{
	const struct io_brainvision_spec *sp = w->spec;

	fprintf(fp,
		"Brain Vision Data Exchange Header File Version 1.0\r\n; Written by neurodag\r\n"
		"\r\n[Common Infos]\r\nCodepage=UTF-8\r\nDataFile=%s\r\nMarkerFile=%s\r\n"
		"DataFormat=BINARY\r\nDataOrientation=%s\r\nDataType=TIMEDOMAIN\r\n"
		"NumberOfChannels=%zu\r\nDataPoints=%zu\r\n; Sampling interval in "
		"microseconds\r\nSamplingInterval=%.17g\r\n\r\n[Binary Infos]\r\n"
		"BinaryFormat=%s\r\n\r\n[Channel Infos]\r\n; Each entry: Ch<Channel "
		"number>=<Name>,<Reference channel name>,\r\n; <Resolution in \"Unit\">,<Unit>\r\n",
		eeg_name, vmrk_name, sp->vectorized ? "VECTORIZED" : "MULTIPLEXED", sp->n_channels,
		sp->n_samples, 1e6 / sp->rate,
		sp->type == IO_REC_INT16 ? "INT_16" : "IEEE_FLOAT_32");
	for (size_t c = 0; c < sp->n_channels; c++) {
		const struct io_brainvision_writer_channel *ch = &sp->channels[c];
		bool volt = io_edf_volt_scale(ch->unit != NULL ? ch->unit : "uV") != 0;

		fprintf(fp, "Ch%zu=", c + 1);
		io_brainvision_write_field(fp, ch->label, SIZE_MAX);
		fprintf(fp, ",,%.9g,", w->res[c]);
		io_brainvision_write_field(fp, volt ? "\xc2\xb5V" : ch->unit, SIZE_MAX);
		fputs("\r\n", fp);
	}
}

static int
io_brainvision_write_check(const char *path, const struct io_brainvision_spec *sp, char **cause)
{
	size_t len = strlen(path);

	if (len < 6 || strcasecmp(path + len - 5, ".vhdr") != 0)
		return error_set(cause, -EINVAL, "%s: a BrainVision header's name ends in .vhdr",
				 path);
	if (sp->n_channels == 0 || !(sp->rate > 0) || !isfinite(sp->rate))
		return error_set(cause, -EINVAL, "%s: needs at least one channel and a rate", path);
	if (sp->type != IO_REC_INT16 && sp->type != IO_REC_FLOAT32)
		return error_set(cause, -EINVAL, "%s: INT_16 or IEEE_FLOAT_32 only", path);
	for (size_t c = 0; c < sp->n_channels; c++)
		if (sp->channels[c].label == NULL || sp->channels[c].label[0] == '\0')
			return error_set(cause, -EINVAL, "%s: channel %zu has no name", path,
					 c + 1);
	return 0;
}

static const char *
io_brainvision_write_base(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL ? slash + 1 : p;
}

/* Write the three files under their temporary names. */
static int
io_brainvision_write_files(struct io_brainvision_writer *w, char **cause)
{
	FILE *fp[3] = {NULL, NULL, NULL};
	int rc = 0;

	for (int i = 0; i < 3 && rc == 0; i++)
		if ((fp[i] = fopen(w->tmps[i], "wb")) == NULL)
			rc = error_set(cause, -errno, "%s: cannot create: %s", w->tmps[i],
				       strerror(errno));
	if (rc == 0)
		rc = io_brainvision_write_ranges(w, cause);
	if (rc == 0)
		rc = io_brainvision_write_eeg(w, fp[0], cause);
	if (rc == 0) {
		io_brainvision_write_vmrk(w, fp[1], io_brainvision_write_base(w->paths[0]));
		io_brainvision_write_vhdr(w, fp[2], io_brainvision_write_base(w->paths[0]),
					  io_brainvision_write_base(w->paths[1]));
	}
	for (int i = 0; i < 3; i++) {
		int rc2 = fp[i] != NULL ? paths_close_stream(fp[i], w->paths[i], cause) : 0;
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

int
io_brainvision_write(const char *path, const struct io_brainvision_spec *spec,
		     io_brainvision_source_cb cb, void *arg, char **cause)
{
	static const char *const ext[3] = {"eeg", "vmrk", "vhdr"};
	struct io_brainvision_writer w = {.spec = spec, .cb = cb, .arg = arg};
	size_t stem;
	int rc;

	if ((rc = io_brainvision_write_check(path, spec, cause)) != 0)
		return rc;
	stem = strlen(path) - 5;
	for (int i = 0; i < 3; i++) {
		w.paths[i] = xasprintf("%.*s.%s", (int)stem, path, ext[i]);
		w.tmps[i] = paths_hidden_temp(w.paths[i], NULL);
	}
	w.to_raw = xcalloc(spec->n_channels, sizeof *w.to_raw);
	w.res = xcalloc(spec->n_channels, sizeof *w.res);
	w.block = xmalloc(IO_BRAINVISION_BLOCK * spec->n_channels * sizeof *w.block);
	rc = io_brainvision_write_files(&w, cause);
	for (int i = 0; i < 3; i++) { /* the header last: it names the others */
		rc = paths_publish(w.tmps[i], w.paths[i], rc, PATHS_OUTPUT, cause);
		free(w.paths[i]);
		free(w.tmps[i]);
	}
	free(w.to_raw);
	free(w.res);
	free(w.block);
	return rc;
}
