// SPDX-License-Identifier: GPL-2.0-only
/* One-line error messages (see errmsg.h). */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

/* Length of the valid UTF-8 sequence at s, or 0 (bad or cut short: a
 * message truncated to its buffer can end in half a character). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* One line of valid UTF-8: control characters and broken sequences become
 * '?', so the message is safe in a terminal and in a JSON reply. */
static void make_one_line(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (!n || *p < 0x20 || *p == 0x7f) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
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
