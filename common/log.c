/* Logging to stderr or a file: one line per message with a UTC timestamp, level and tag. */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	char tag[32];
	enum log_level level;
	FILE *file;
	pthread_mutex_t lock;
} log_state = {"neurodag", LOG_LEVEL_INFO, NULL, PTHREAD_MUTEX_INITIALIZER};

static const char *const log_level_names[] = {"error", "warn", "info", "debug", "trace"};

int
log_init(const char *tag, enum log_level level, const char *path)
{
	snprintf(log_state.tag, sizeof log_state.tag, "%s", tag);
	log_state.level = level;
	if (path != NULL) {
		FILE *f = fopen(path, "a");
		if (f == NULL)
			return -errno;
		setvbuf(f, NULL, _IOLBF, 0);
		log_state.file = f;
	}
	return 0;
}

void
log_set_level(enum log_level level)
{
	log_state.level = level;
}

enum log_level
log_get_level(void)
{
	return log_state.level;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	FILE *out;

	if (level > log_state.level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_state.lock);
	out = log_state.file != NULL ? log_state.file : stderr;
	fprintf(out, "%s.%03ldZ %s[%d] %s: ", when, ts.tv_nsec / 1000000, log_state.tag,
		(int)getpid(), log_level_names[level]);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_state.lock);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	abort();
}
