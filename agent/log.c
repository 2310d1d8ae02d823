// SPDX-License-Identifier: GPL-2.0-only
/* Logging for netchaosd: stderr only, so the supervisor (systemd, docker,
 * a terminal) owns storage and rotation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "log.h"

static int log_max_level = NC_LOG_INFO;
static int log_journal; /* stderr goes to the journal: use <N> prefixes */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN ? NC_LOG_WARN :
		   level == LIBBPF_INFO ? NC_LOG_DEBUG : NC_LOG_DEBUG + 1;
	char line[1024];
	size_t n;

	if (ours > log_max_level)
		return 0;
	/* libbpf's own format string: a callback cannot have a literal one */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(line, sizeof(line), fmt, ap);
#pragma GCC diagnostic pop
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	nc_log(ours, "%s", line);
	return 0;
}

void nc_log_init(int max_level)
{
	log_max_level = max_level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	libbpf_set_print(libbpf_print);
}

void nc_log(int level, const char *fmt, ...)
{
	static const char *names[] = { [NC_LOG_ERR] = "error", [NC_LOG_WARN] = "warning",
				       [NC_LOG_INFO] = "info", [NC_LOG_DEBUG] = "debug" };
	char msg[2048];
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld netchaosd %s: %s\n", stamp, ts.tv_nsec / 1000000,
			level <= NC_LOG_DEBUG ? names[level] : "trace", msg);
	}
}
