/* Writing a correction report's HTML: text escaped, images with their size and alt text, a
 * small inline style; no scripts, nothing fetched from elsewhere. */
#include "worker/report/report-page.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"

static void
report_page_esc(FILE *fp, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

static void
report_page_body(FILE *fp, const struct report_page *p)
{
	fputs("<h1>", fp);
	report_page_esc(fp, p->title);
	fputs("</h1>\n<dl>\n", fp);
	for (size_t i = 0; i < p->nfacts; i++) {
		fputs("<dt>", fp);
		report_page_esc(fp, p->facts[2 * i]);
		fputs("</dt><dd>", fp);
		report_page_esc(fp, p->facts[2 * i + 1]);
		fputs("</dd>\n", fp);
	}
	fputs("</dl>\n", fp);
	for (size_t i = 0; i < p->nfigures; i++) {
		fputs("<figure><img src=\"", fp);
		report_page_esc(fp, p->figures[i].src);
		fputs("\" alt=\"", fp);
		report_page_esc(fp, p->figures[i].caption);
		fputs("\" width=\"900\"><figcaption>", fp);
		report_page_esc(fp, p->figures[i].caption);
		fputs("</figcaption></figure>\n", fp);
	}
	if (p->ncolumns == 0)
		return;
	fputs("<table>\n<tr>", fp);
	for (size_t c = 0; c < p->ncolumns; c++) {
		fputs("<th>", fp);
		report_page_esc(fp, p->columns[c]);
		fputs("</th>", fp);
	}
	fputs("</tr>\n", fp);
	for (size_t r = 0; r < p->nrows; r++) {
		fputs("<tr>", fp);
		for (size_t c = 0; c < p->ncolumns; c++) {
			fputs("<td>", fp);
			report_page_esc(fp, p->cells[r * p->ncolumns + c]);
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

int
report_page_write(const char *path, const struct report_page *p, char **cause)
{
	char *tmp = paths_hidden_temp(path, NULL);
	FILE *fp = fopen(tmp, "w");
	int rc = 0;

	if (fp == NULL) {
		rc = error_set(cause, -errno, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", fp);
	report_page_esc(fp, p->title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:960px}"
	      "dt{font-weight:bold;float:left;clear:left;width:14em}dd{margin-left:15em}"
	      "figure{margin:1.5em 0}figcaption{color:#444}table{border-collapse:collapse}"
	      "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}</style>\n"
	      "</head>\n<body>\n",
	      fp);
	report_page_body(fp, p);
	fputs("</body>\n</html>\n", fp);
	rc = paths_close_stream(fp, path, cause);
	rc = paths_publish(tmp, path, rc, PATHS_OUTPUT, cause);
	free(tmp);
	return rc;
}
