/* SPDX-License-Identifier: GPL-2.0-only */
/* chaosctl's side of the Unix socket: one request line out, one reply line
 * back, within a time limit. */
#ifndef NC_CLIENT_H
#define NC_CLIENT_H

#include <stddef.h>

#define NC_CLIENT_TIMEOUT_MS 10000

/*
 * Connect to path, send req (one line, '\n' included), read one reply line
 * of at most NC_PROTO_MAX_MSG bytes. *reply is malloc'ed, NUL-terminated,
 * without its '\n'. 0, or -errno with a one-line reason in err:
 * "cannot reach netchaosd at PATH: is it running?" when nothing listens.
 */
int nc_client_call(const char *path, const char *req, size_t req_len, int timeout_ms,
		   char **reply, size_t *reply_len, char *err, size_t errlen);

#endif
