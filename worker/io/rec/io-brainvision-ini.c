/* The INI-like text of BrainVision .vhdr and .vmrk files: sections, Key=Value lines with their
 * line numbers, comments, the codepage (UTF-8, or Latin-1/ANSI turned into UTF-8), and the
 * comma-separated fields of a value with BrainVision's "\1" for a comma. */
#include "worker/io/rec/io-brainvision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/xmalloc.h"

#define IO_BRAINVISION_INI_MAX (64u << 20)

/* Sections whose lines must all be Key=Value; the others (e.g. [Comment]) hold free text. */
static const char *const io_brainvision_ini_strict[] = {"Common Infos", "Binary Infos",
							"Channel Infos", "Marker Infos", NULL};

static char *
io_brainvision_ini_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool
io_brainvision_ini_utf8(const unsigned char *s)
{
	while (*s != '\0') {
		int k = *s < 0x80             ? 0
			: (*s & 0xe0) == 0xc0 ? 1
			: (*s & 0xf0) == 0xe0 ? 2
			: (*s & 0xf8) == 0xf0 ? 3
					      : -1;
		if (k < 0)
			return false;
		s++;
		for (int i = 0; i < k; i++, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* Latin-1 to UTF-8 (Windows ANSI files: µ is 0xB5). */
static char *
io_brainvision_ini_latin1(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x80) {
			*o++ = (char)*p;
		} else {
			*o++ = (char)(0xc0 | (*p >> 6));
			*o++ = (char)(0x80 | (*p & 0x3f));
		}
	}
	*o = '\0';
	return out;
}

static int
io_brainvision_ini_read(const char *path, char **text, char **cause)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	size_t got;

	if (fp == NULL)
		return error_set(cause, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > IO_BRAINVISION_INI_MAX) {
		fclose(fp);
		return error_set(cause, -EINVAL, "%s: not a regular file of at most %u MiB", path,
				 IO_BRAINVISION_INI_MAX >> 20);
	}
	*text = xmalloc((size_t)st.st_size + 1);
	got = fread(*text, 1, (size_t)st.st_size, fp);
	fclose(fp);
	(*text)[got] = '\0';
	if (memchr(*text, '\0', got) != NULL) {
		const char *z = memchr(*text, '\0', got);
		int line = 1;

		for (const char *p = *text; p < z; p++)
			line += *p == '\n';
		free(*text);
		return error_set(cause, -EINVAL, "%s: line %d: a NUL byte in a text file", path,
				 line);
	}
	return 0;
}

static int
io_brainvision_ini_first(struct io_brainvision_ini *ini, char *line, const char *kind, char **cause)
{
	char want[32];

	if ((unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
	    (unsigned char)line[2] == 0xbf)
		line += 3; /* UTF-8 byte-order mark */
	line = io_brainvision_ini_trim(line);
	snprintf(want, sizeof want, "%s File", kind);
	if ((strncmp(line, "Brain Vision", 12) != 0 && strncmp(line, "BrainVision", 11) != 0) ||
	    strstr(line, want) == NULL)
		return error_set(cause, -EINVAL,
				 "%s: line 1: not a BrainVision %s file (the first line is not "
				 "\"Brain Vision Data Exchange %s File Version 1.0\"; the file's "
				 "own text is not quoted)",
				 ini->path, strcasecmp(kind, "Header") == 0 ? "header" : "marker",
				 kind);
	ini->first_line = xstrdup(line);
	return 0;
}

static bool
io_brainvision_ini_is_strict(const char *section)
{
	if (section[0] == '\0') /* before the first section: comments only */
		return true;
	for (const char *const *s = io_brainvision_ini_strict; *s != NULL; s++)
		if (strcasecmp(section, *s) == 0)
			return true;
	return false;
}

static int
io_brainvision_ini_line(struct io_brainvision_ini *ini, char *line, int no, char **cause)
{
	const char *section = ini->n_sections > 0 ? ini->sections[ini->n_sections - 1] : "";
	char *eq, *key;

	line = io_brainvision_ini_trim(line);
	if (line[0] == '\0' || line[0] == ';')
		return 0;
	if (line[0] == '[') {
		char *end = strchr(line, ']');
		if (end == NULL || end[1] != '\0')
			return error_set(cause, -EINVAL,
					 "%s: line %d: a section line needs a "
					 "closing ']': \"%.60s\"",
					 ini->path, no, line);
		ini->sections = xreallocarray(ini->sections, ini->n_sections + 1, sizeof(char *));
		ini->sections[ini->n_sections++] = xstrndup(line + 1, (size_t)(end - line - 1));
		return 0;
	}
	eq = strchr(line, '=');
	if (eq == NULL || eq == line) {
		if (!io_brainvision_ini_is_strict(section))
			return 0;
		return error_set(cause, -EINVAL,
				 "%s: line %d: [%s]: expected Key=Value, found \"%.60s\"",
				 ini->path, no, section, line);
	}
	*eq = '\0';
	key = io_brainvision_ini_trim(line);
	if (io_brainvision_ini_is_strict(section)) {
		const struct io_brainvision_entry *old = io_brainvision_ini_get(ini, section, key);
		if (old != NULL)
			return error_set(cause, -EINVAL,
					 "%s: line %d: [%s] %s: given again (first on line %d)",
					 ini->path, no, section, key, old->line);
	}
	ini->e = xreallocarray(ini->e, ini->n + 1, sizeof *ini->e);
	ini->e[ini->n].section = section;
	ini->e[ini->n].key = xstrdup(key);
	ini->e[ini->n].value = xstrdup(io_brainvision_ini_trim(eq + 1));
	ini->e[ini->n].line = no;
	ini->n++;
	return 0;
}

/* Values in UTF-8 whatever the file's codepage. */
static void
io_brainvision_ini_recode(struct io_brainvision_ini *ini)
{
	const struct io_brainvision_entry *cp =
	    io_brainvision_ini_get(ini, "Common Infos", "Codepage");
	bool utf8 = cp == NULL || strcasecmp(cp->value, "UTF-8") == 0;

	for (size_t i = 0; i < ini->n; i++) {
		if (utf8 && io_brainvision_ini_utf8((const unsigned char *)ini->e[i].value))
			continue;
		char *v = io_brainvision_ini_latin1(ini->e[i].value);
		free(ini->e[i].value);
		ini->e[i].value = v;
	}
}

int
io_brainvision_ini_load(const char *path, const char *kind, struct io_brainvision_ini *ini,
			char **cause)
{
	char *text = NULL, *line, *next;
	int rc, no = 1;

	memset(ini, 0, sizeof *ini);
	ini->path = xstrdup(path);
	if ((rc = io_brainvision_ini_read(path, &text, cause)) != 0)
		return rc;
	next = strchr(text, '\n');
	if (next != NULL)
		*next++ = '\0';
	rc = io_brainvision_ini_first(ini, text, kind, cause);
	for (line = next; rc == 0 && line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		rc = io_brainvision_ini_line(ini, line, ++no, cause);
	}
	free(text);
	if (rc == 0)
		io_brainvision_ini_recode(ini);
	return rc;
}

void
io_brainvision_ini_fini(struct io_brainvision_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->e[i].key);
		free(ini->e[i].value);
	}
	for (size_t i = 0; i < ini->n_sections; i++)
		free(ini->sections[i]);
	free(ini->sections);
	free(ini->e);
	free(ini->first_line);
	free(ini->path);
	memset(ini, 0, sizeof *ini);
}

const struct io_brainvision_entry *
io_brainvision_ini_get(const struct io_brainvision_ini *ini, const char *section, const char *key)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcasecmp(ini->e[i].section, section) == 0 &&
		    strcasecmp(ini->e[i].key, key) == 0)
			return &ini->e[i];
	return NULL;
}

size_t
io_brainvision_ini_split(char *value, char **parts, size_t max)
{
	size_t n = 0;
	char *p = value;

	while (n < max) {
		char *comma = n + 1 < max ? strchr(p, ',') : NULL, *r, *w;

		if (comma != NULL)
			*comma = '\0';
		for (r = w = p; *r != '\0'; r++) { /* "\1" stands for a comma */
			if (r[0] == '\\' && r[1] == '1') {
				*w++ = ',';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		parts[n++] = p;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return n;
}
