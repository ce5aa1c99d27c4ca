/* The .spy classes and element types: their names, extensions, ranks, frequency axes and sizes,
 * shared by the writer, the reader and the .info metadata. */
#include "worker/io/io-spy.h"

static const struct {
	const char *name;
	const char *ext;
	int rank;
} io_spy_classes[] = {
    [IO_SPY_ANALOG] = {"AnalogData", "analog", 2},
    [IO_SPY_SPECTRAL] = {"SpectralData", "spectral", 4},
    [IO_SPY_CROSSSPECTRAL] = {"CrossSpectralData", "crossspectral", 4},
    [IO_SPY_TIMELOCK] = {"TimeLockData", "timelock", 2},
};

static const struct {
	const char *name;
	size_t size;
} io_spy_dtypes[] = {
    [IO_SPY_FLOAT32] = {"float32", 4},
    [IO_SPY_FLOAT64] = {"float64", 8},
    [IO_SPY_COMPLEX64] = {"complex64", 8},
};

int
io_spy_rank(enum io_spy_class dataclass)
{
	return io_spy_classes[dataclass].rank;
}

const char *
io_spy_class_name(enum io_spy_class dataclass)
{
	return io_spy_classes[dataclass].name;
}

const char *
io_spy_class_ext(enum io_spy_class dataclass)
{
	return io_spy_classes[dataclass].ext;
}

int
io_spy_freq_axis(enum io_spy_class dataclass)
{
	return dataclass == IO_SPY_SPECTRAL ? 2 : dataclass == IO_SPY_CROSSSPECTRAL ? 1 : -1;
}

size_t
io_spy_dtype_size(enum io_spy_dtype dtype)
{
	return io_spy_dtypes[dtype].size;
}

const char *
io_spy_dtype_name(enum io_spy_dtype dtype)
{
	return io_spy_dtypes[dtype].name;
}
