/* SPDX-License-Identifier: GPL-2.0-only */
/* Incremental HTTP/1.1 response parser: no I/O, no allocation except the
 * buffered body. Bytes may arrive in any split; the body is either buffered
 * (bounded) or handed to a callback as it arrives (streaming responses such
 * as Docker's /events). */
#ifndef NC_HTTP_H
#define NC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_HTTP_MAX_HEAD	(16 * 1024)	  /* status line + headers, and trailers */
#define NC_HTTP_MAX_BODY	(8 * 1024 * 1024) /* buffered body */
#define NC_HTTP_MAX_HEADERS	64
#define NC_HTTP_MAX_CHUNK_EXT	1024		  /* ";name=value" after a chunk size */

/* nc_http_resp_feed()/nc_http_resp_eof() results; errors are -errno:
 * -EPROTO malformed, -EMSGSIZE a bound above exceeded, -ENOMEM, or whatever a
 * body callback returned. Errors are sticky. */
#define NC_HTTP_MORE 0
#define NC_HTTP_DONE 1

/* Request flags for nc_http_resp_init(). */
#define NC_HTTP_F_NO_BODY 0x1 /* answer to HEAD: headers only */

struct nc_http_resp;

/* Receives body bytes (chunk framing removed) as they arrive. Return 0 to go
 * on, -errno to abort parsing with that error. It may call
 * nc_http_resp_append_body() to buffer them after all (e.g. an error body). */
typedef int (*nc_http_body_fn)(struct nc_http_resp *r, const char *data, size_t len, void *arg);

struct nc_http_header {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* surrounding whitespace removed */
};

enum nc_http_body_mode {
	NC_HTTP_BODY_NONE,
	NC_HTTP_BODY_LENGTH,  /* Content-Length */
	NC_HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	NC_HTTP_BODY_CLOSE,   /* until the server closes */
};

struct nc_http_resp {
	/* Valid once headers_done. Header strings point into head[]: the struct
	 * must not be copied. */
	bool headers_done;
	int status;		/* 200, 404, ... */
	int minor_version;	/* HTTP/1.x */
	enum nc_http_body_mode body_mode;
	size_t nheaders;
	struct nc_http_header headers[NC_HTTP_MAX_HEADERS];

	/* Buffered body (no callback, or a callback that appends):
	 * NUL-terminated, malloc'ed, freed by nc_http_resp_free(). */
	char *body;
	size_t body_len;

	/* private */
	nc_http_body_fn on_body;
	void *arg;
	unsigned int flags;
	int state;
	int error;
	uint64_t remaining;	/* Content-Length or current chunk bytes left */
	size_t body_cap;
	size_t head_len;
	size_t line_len;	/* bytes of the current head/trailer line */
	size_t aux_len;		/* chunk size digits, extension or trailer bytes */
	char head[NC_HTTP_MAX_HEAD + 1];
};

/* on_body NULL: buffer the body (at most NC_HTTP_MAX_BODY). */
void nc_http_resp_init(struct nc_http_resp *r, unsigned int flags, nc_http_body_fn on_body,
		       void *arg);
void nc_http_resp_free(struct nc_http_resp *r);

/* Feed the next len bytes received. NC_HTTP_MORE, NC_HTTP_DONE (bytes past
 * the end of the message are ignored), or -errno. */
int nc_http_resp_feed(struct nc_http_resp *r, const char *data, size_t len);
/* The server closed the connection: NC_HTTP_DONE if that ends the message
 * (close-delimited body, or already done), -EPROTO if it was cut short. */
int nc_http_resp_eof(struct nc_http_resp *r);

/* First header named name (case-insensitive), NULL if absent. */
const char *nc_http_resp_header(const struct nc_http_resp *r, const char *name);
/* Append to the buffered body; -EMSGSIZE beyond NC_HTTP_MAX_BODY. */
int nc_http_resp_append_body(struct nc_http_resp *r, const char *data, size_t len);

#endif
