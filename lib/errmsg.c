// SPDX-License-Identifier: GPL-2.0-only
/* One-line error messages (see errmsg.h). */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

static void make_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void nc_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	make_one_line(err);
}

void nc_prefix_err(char *err, size_t errlen, const char *prefix)
{
	char msg[1024];

	if (!err || !errlen)
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	nc_set_err(err, errlen, "%s: %s", prefix, msg);
}
