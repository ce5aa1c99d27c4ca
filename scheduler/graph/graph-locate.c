/* Finding where a JSON path ("steps[3].freq") sits in the pipeline text, so validation errors
 * can give a line and column: a small scanner that skips values without building them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/graph/graph.h"

struct locate {
	const char *s;
	size_t i;
};

static void
locate_ws(struct locate *l)
{
	while (l->s[l->i] != '\0' && isspace((unsigned char)l->s[l->i]))
		l->i++;
}

static int locate_skip(struct locate *l, int depth);

static int
locate_string(struct locate *l, const char **start, size_t *len)
{
	if (l->s[l->i] != '"')
		return -1;
	l->i++;
	if (start != NULL)
		*start = l->s + l->i;
	while (l->s[l->i] != '\0' && l->s[l->i] != '"') {
		if (l->s[l->i] == '\\' && l->s[l->i + 1] != '\0')
			l->i++;
		l->i++;
	}
	if (l->s[l->i] != '"')
		return -1;
	if (len != NULL)
		*len = (size_t)(l->s + l->i - *start);
	l->i++;
	return 0;
}

static int
locate_skip(struct locate *l, int depth)
{
	char open, close;

	locate_ws(l);
	if (depth > 64)
		return -1;
	open = l->s[l->i];
	if (open == '"')
		return locate_string(l, NULL, NULL);
	if (open != '{' && open != '[') {
		while (l->s[l->i] != '\0' && strchr(",}] \t\r\n", l->s[l->i]) == NULL)
			l->i++;
		return 0;
	}
	close = open == '{' ? '}' : ']';
	l->i++;
	for (;;) {
		locate_ws(l);
		if (l->s[l->i] == close) {
			l->i++;
			return 0;
		}
		if (open == '{') {
			if (locate_string(l, NULL, NULL) != 0)
				return -1;
			locate_ws(l);
			if (l->s[l->i++] != ':')
				return -1;
		}
		if (locate_skip(l, depth + 1) != 0)
			return -1;
		locate_ws(l);
		if (l->s[l->i] == ',')
			l->i++;
		else if (l->s[l->i] != close)
			return -1;
	}
}

/* Step into the member `key` (object) or element `index` (array) of the value at l->i. */
static int
locate_enter(struct locate *l, const char *key, size_t keylen, long index)
{
	locate_ws(l);
	if (key != NULL && l->s[l->i] == '{') {
		l->i++;
		for (;;) {
			const char *k;
			size_t kl;
			locate_ws(l);
			if (locate_string(l, &k, &kl) != 0)
				return -1;
			locate_ws(l);
			if (l->s[l->i++] != ':')
				return -1;
			locate_ws(l);
			if (kl == keylen && strncmp(k, key, kl) == 0)
				return 0;
			if (locate_skip(l, 0) != 0)
				return -1;
			locate_ws(l);
			if (l->s[l->i] != ',')
				return -1;
			l->i++;
		}
	}
	if (key == NULL && l->s[l->i] == '[') {
		l->i++;
		for (long n = 0;; n++) {
			locate_ws(l);
			if (l->s[l->i] == ']')
				return -1;
			if (n == index)
				return 0;
			if (locate_skip(l, 0) != 0)
				return -1;
			locate_ws(l);
			if (l->s[l->i] != ',')
				return -1;
			l->i++;
		}
	}
	return -1;
}

int
pipeline_locate(const char *text, const char *path, int *line, int *column)
{
	struct locate l = {text, 0};
	const char *p = path;

	while (*p != '\0') {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end;
			long idx = strtol(p + 1, &end, 10);
			if (*end != ']' || locate_enter(&l, NULL, 0, idx) != 0)
				return 0;
			p = end + 1;
			continue;
		}
		size_t n = strcspn(p, ".[");
		if (locate_enter(&l, p, n, 0) != 0)
			return 0;
		p += n;
	}
	locate_ws(&l);
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < l.i; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
	return 1;
}
