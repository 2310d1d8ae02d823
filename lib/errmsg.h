/* SPDX-License-Identifier: GPL-2.0-only */
/* One-line error messages for the lib/ parsers and validators: every public
 * function that can reject user input fills a caller-provided buffer. */
#ifndef NC_ERRMSG_H
#define NC_ERRMSG_H

#include <stddef.h>

/* printf into err (which may be NULL); control characters (a newline in a
 * user's value, say) become '?' so the result is always exactly one line. */
void nc_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to the message already in err. */
void nc_prefix_err(char *err, size_t errlen, const char *prefix);

#endif
