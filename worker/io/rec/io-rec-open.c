/* Opening a recording by format name or by extension: the one place that knows every reader. */
#include "worker/io/rec/io-rec.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"

int
io_rec_open(const char *path, const char *format, struct io_rec **out, char **cause)
{
	const char *name = format != NULL ? format : io_rec_format_from_path(path);
	enum io_rec_format f;

	*out = NULL;
	if (name == NULL)
		return error_set(
		    cause, -EINVAL,
		    "%s: cannot tell the format from the extension (.edf, .bdf, .vhdr, "
		    ".set): name it (%s)",
		    path, IO_REC_FORMATS);
	if (io_rec_format_parse(name, &f) != 0)
		return error_set(cause, -EINVAL, "%s: unknown format '%s' (known: %s)", path, name,
				 IO_REC_FORMATS);
	switch (f) {
	case IO_REC_EDF:
	case IO_REC_BDF:
		return io_rec_edf_open(path, out, cause);
	case IO_REC_BRAINVISION:
		return io_brainvision_open(path, out, cause);
	case IO_REC_EEGLAB:
		return io_eeglab_open(path, out, cause);
	}
	return error_set(cause, -EINVAL, "%s: unknown format '%s' (known: %s)", path, name,
			 IO_REC_FORMATS);
}
