/* SPDX-License-Identifier: GPL-2.0-only */
/* Agent logging: one line per event on stderr, systemd-friendly (<N> prefixes
 * when stderr is the journal), libbpf's own messages routed through it. */
#ifndef NC_LOG_H
#define NC_LOG_H

enum nc_log_level {
	NC_LOG_ERR = 3,
	NC_LOG_WARN = 4,
	NC_LOG_INFO = 6,
	NC_LOG_DEBUG = 7,
};

void nc_log_init(int max_level);
void nc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   nc_log(NC_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  nc_log(NC_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  nc_log(NC_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) nc_log(NC_LOG_DEBUG, __VA_ARGS__)

#endif
