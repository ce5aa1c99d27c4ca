/* The HTML page of a correction report: a title, facts (name and value), figures (PNG files
 * beside the page, with captions) and a table, written as one self-describing file. */
#ifndef ND_REPORT_PAGE_H
#define ND_REPORT_PAGE_H

#include <stddef.h>

struct report_page_figure {
	const char *src;     /* relative to the page */
	const char *caption; /* also the image's alt text */
};

struct report_page {
	const char *title;
	const char *const *facts; /* name, value, name, value, ... */
	size_t nfacts;            /* pairs */
	const struct report_page_figure *figures;
	size_t nfigures;
	const char *const *columns; /* table header */
	size_t ncolumns;
	const char *const *cells; /* nrows × ncolumns, row after row */
	size_t nrows;
};

/* Write the page to `path` (through a temporary name, then renamed). 0 or -errno with a cause. */
int report_page_write(const char *path, const struct report_page *p, char **cause);

#endif
