/* What an EDF, EDF+, BDF or BDF+ file says about itself, as plain structs: the file type, each
 * channel's label, rate and scaling, the annotations and the recording's fields. Filled by the
 * reader (io-edf.c), read by the direct sample reads (io-edf-direct.c) and the writer. */
#ifndef ND_IO_EDF_HEADER_H
#define ND_IO_EDF_HEADER_H

#include <stdbool.h>
#include <stddef.h>

enum io_edf_type {
	IO_EDF_TYPE_EDF = 0,
	IO_EDF_TYPE_EDFPLUS = 1,
	IO_EDF_TYPE_BDF = 2,
	IO_EDF_TYPE_BDFPLUS = 3,
};

struct io_edf_channel {
	char label[17];
	char dimension[9]; /* physical dimension as written ("uV", "mV", "bpm", ...) */
	double rate;       /* samples per second (may differ per channel) */
	size_t n_samples;  /* samples of this channel in the file */
	int samples_per_record;
	double phys_min, phys_max; /* in `dimension` units */
	int dig_min, dig_max;
	char transducer[81];
	char prefilter[81];
	double volt_scale; /* physical value × volt_scale = volts (1 when not a voltage) */
	bool is_voltage;   /* false: dimension unknown, values are left in their own unit */
};

struct io_edf_annotation {
	double onset;    /* seconds from the start of the recording */
	double duration; /* seconds, < 0 when absent */
	char *text;      /* UTF-8 */
};

struct io_edf_header {
	char *path;
	enum io_edf_type type;
	size_t n_channels; /* data channels only, annotation signals are not counted */
	struct io_edf_channel *channels;
	double duration;        /* seconds */
	double record_duration; /* seconds */
	long long n_records;
	int start_year, start_month, start_day;
	int start_hour, start_minute, start_second;
	double start_subsecond;
	/* EDF/BDF: the raw fields; EDF+/BDF+: the parsed subfields (the raw ones stay empty). */
	char patient[81], recording[81];
	char patient_code[81], gender[16], birthdate[16], patient_name[81];
	char patient_additional[81], admincode[81], technician[81], equipment[81];
	char recording_additional[81];
	size_t n_annotations;
	struct io_edf_annotation *annotations;
};

#endif
