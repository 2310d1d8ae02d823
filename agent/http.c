// SPDX-License-Identifier: GPL-2.0-only
/* HTTP/1.1 response parser (RFC 9112 framing): status line and headers are
 * gathered in a fixed buffer and parsed once complete; the body is then
 * de-framed byte-exactly whatever the split of the input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

enum http_state {
	ST_HEAD,
	ST_BODY_LENGTH,
	ST_BODY_CLOSE,
	ST_CHUNK_SIZE,
	ST_CHUNK_BWS,	  /* whitespace after the size digits */
	ST_CHUNK_EXT,	  /* ";ext" up to the end of the size line */
	ST_CHUNK_SIZE_LF, /* CR seen on the size line */
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_CR, /* CRLF after chunk data */
	ST_CHUNK_DATA_LF,
	ST_TRAILER,
	ST_DONE,
};

void nc_http_resp_init(struct nc_http_resp *r, unsigned int flags, nc_http_body_fn on_body,
		       void *arg)
{
	/* head[] is overwritten as bytes arrive: no need to clear 16 KiB */
	memset(r, 0, offsetof(struct nc_http_resp, head));
	r->head[0] = '\0';
	r->flags = flags;
	r->on_body = on_body;
	r->arg = arg;
	r->state = ST_HEAD;
}

void nc_http_resp_free(struct nc_http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->body_cap = 0;
}

int nc_http_resp_append_body(struct nc_http_resp *r, const char *data, size_t len)
{
	if (len > NC_HTTP_MAX_BODY - r->body_len)
		return -EMSGSIZE;
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		char *p;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > NC_HTTP_MAX_BODY + 1)
			cap = NC_HTTP_MAX_BODY + 1;
		p = realloc(r->body, cap);
		if (!p)
			return -ENOMEM;
		r->body = p;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

const char *nc_http_resp_header(const struct nc_http_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int deliver(struct nc_http_resp *r, const char *data, size_t len)
{
	if (!len)
		return 0;
	if (r->on_body)
		return r->on_body(r, data, len, r->arg);
	return nc_http_resp_append_body(r, data, len);
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *trim_ows(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int parse_status_line(struct nc_http_resp *r, const char *line)
{
	const char *p = line;

	if (strncmp(p, "HTTP/1.", 7) || p[7] < '0' || p[7] > '9' || p[8] != ' ')
		return -EPROTO;
	r->minor_version = p[7] - '0';
	p += 9;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -EPROTO;
	if (p[3] != ' ' && p[3] != '\0')
		return -EPROTO;
	r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return 0;
}

static int parse_header_line(struct nc_http_resp *r, char *line)
{
	char *colon = strchr(line, ':');

	/* a leading space would be an obsolete line folding: refused (RFC 9112 5.2) */
	if (!colon || colon == line)
		return -EPROTO;
	for (char *c = line; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return -EPROTO;
	if (r->nheaders == NC_HTTP_MAX_HEADERS)
		return -EMSGSIZE;
	*colon = '\0';
	r->headers[r->nheaders].name = line;
	r->headers[r->nheaders].value = trim_ows(colon + 1);
	r->nheaders++;
	return 0;
}

/* Content-Length: digits only; repeated headers must agree. */
static int parse_content_length(struct nc_http_resp *r, bool *present)
{
	uint64_t len = 0;

	*present = false;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = r->headers[i].value;
		uint64_t n = 0;

		if (strcasecmp(r->headers[i].name, "Content-Length"))
			continue;
		if (!*v)
			return -EPROTO;
		for (; *v; v++) {
			if (*v < '0' || *v > '9')
				return -EPROTO;
			if (n > (UINT64_MAX - 9) / 10)
				return -EMSGSIZE;
			n = n * 10 + (uint64_t)(*v - '0');
		}
		if (*present && n != len)
			return -EPROTO;
		len = n;
		*present = true;
	}
	r->remaining = len;
	return 0;
}

/* Transfer-Encoding: chunked must be the last coding applied (RFC 9112 6.3). */
static int parse_transfer_encoding(const struct nc_http_resp *r, bool *present, bool *chunked)
{
	*present = false;
	*chunked = false;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = r->headers[i].value;

		if (strcasecmp(r->headers[i].name, "Transfer-Encoding"))
			continue;
		*present = true;
		while (*v) {
			size_t n = strcspn(v, ",");
			const char *s = v, *e = v + n;

			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e > s) {
				if (*chunked)
					return -EPROTO; /* a coding after chunked */
				*chunked = (size_t)(e - s) == 7 && !strncasecmp(s, "chunked", 7);
			}
			v += n;
			if (*v == ',')
				v++;
		}
	}
	return 0;
}

static int choose_body_mode(struct nc_http_resp *r)
{
	bool te, chunked, cl;
	int err;

	if ((r->flags & NC_HTTP_F_NO_BODY) || r->status == 204 || r->status == 304) {
		r->body_mode = NC_HTTP_BODY_NONE;
		r->state = ST_DONE;
		return 0;
	}
	err = parse_transfer_encoding(r, &te, &chunked);
	if (err)
		return err;
	if (te) {
		/* Transfer-Encoding overrides Content-Length */
		r->body_mode = chunked ? NC_HTTP_BODY_CHUNKED : NC_HTTP_BODY_CLOSE;
		r->state = chunked ? ST_CHUNK_SIZE : ST_BODY_CLOSE;
		r->remaining = 0;
		r->aux_len = 0;
		return 0;
	}
	err = parse_content_length(r, &cl);
	if (err)
		return err;
	if (cl) {
		if (!r->on_body && r->remaining > NC_HTTP_MAX_BODY)
			return -EMSGSIZE;
		r->body_mode = NC_HTTP_BODY_LENGTH;
		r->state = r->remaining ? ST_BODY_LENGTH : ST_DONE;
		return 0;
	}
	r->body_mode = NC_HTTP_BODY_CLOSE;
	r->state = ST_BODY_CLOSE;
	return 0;
}

/* The whole head is in head[0..head_len): split it into lines in place. */
static int parse_head(struct nc_http_resp *r)
{
	char *line = r->head, *end = r->head + r->head_len;
	bool first = true;
	int err;

	r->head[r->head_len] = '\0';
	r->nheaders = 0;
	while (line < end) {
		char *lf = memchr(line, '\n', (size_t)(end - line));
		size_t n;

		if (!lf)
			return -EPROTO;
		*lf = '\0';
		n = (size_t)(lf - line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		/* a bare CR or a NUL inside a line is never valid */
		if (strlen(line) != n || memchr(line, '\r', n))
			return -EPROTO;
		if (!n)
			break;
		err = first ? parse_status_line(r, line) : parse_header_line(r, line);
		if (err)
			return err;
		first = false;
		line = lf + 1;
	}
	if (r->status == 101)
		return -EPROTO; /* we never ask to switch protocols */
	if (r->status < 200) {
		/* interim response (100 Continue): the real one follows */
		r->head_len = 0;
		r->line_len = 0;
		r->nheaders = 0;
		r->status = 0;
		return 0;
	}
	r->headers_done = true;
	return choose_body_mode(r);
}

/* Gather head bytes up to the empty line; *used tells how many were taken. */
static int feed_head(struct nc_http_resp *r, const char *data, size_t len, size_t *used)
{
	size_t i = 0;

	while (i < len) {
		const char *lf = memchr(data + i, '\n', len - i);
		size_t n = lf ? (size_t)(lf - (data + i)) + 1 : len - i;
		size_t line;

		if (n > NC_HTTP_MAX_HEAD - r->head_len)
			return -EMSGSIZE;
		memcpy(r->head + r->head_len, data + i, n);
		r->head_len += n;
		i += n;
		if (!lf) {
			r->line_len += n;
			break;
		}
		line = r->line_len + n - 1;
		r->line_len = 0;
		if (line && r->head[r->head_len - 2] == '\r')
			line--;
		if (line)
			continue;
		if (r->head_len <= 2)
			return -EPROTO; /* empty line instead of a status line */
		*used = i;
		return parse_head(r);
	}
	*used = i;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* End of a chunk-size line: data follows, or the trailer after the last chunk. */
static void chunk_size_line_done(struct nc_http_resp *r)
{
	r->aux_len = 0;
	r->line_len = 0;
	r->state = r->remaining ? ST_CHUNK_DATA : ST_TRAILER;
}

/* The line break after chunk data: the next size line follows. */
static int chunk_data_end(struct nc_http_resp *r, char c)
{
	if (c != '\n')
		return -EPROTO;
	r->state = ST_CHUNK_SIZE;
	r->remaining = 0;
	r->aux_len = 0;
	return 0;
}

/* One byte of chunk framing (size line, data CRLF, trailer). */
static int feed_chunk_framing(struct nc_http_resp *r, char c)
{
	int v;

	switch (r->state) {
	case ST_CHUNK_SIZE:
		v = hex_value(c);
		if (v >= 0) {
			if (r->remaining > (UINT64_MAX >> 4))
				return -EMSGSIZE;
			r->remaining = (r->remaining << 4) | (uint64_t)v;
			r->aux_len++;
			return 0;
		}
		if (!r->aux_len)
			return -EPROTO; /* no size digits */
		r->aux_len = 0;
		if (c == ' ' || c == '\t')
			r->state = ST_CHUNK_BWS;
		else if (c == ';')
			r->state = ST_CHUNK_EXT;
		else if (c == '\r')
			r->state = ST_CHUNK_SIZE_LF;
		else if (c == '\n')
			chunk_size_line_done(r);
		else
			return -EPROTO;
		return 0;
	case ST_CHUNK_BWS:
		if (c == ' ' || c == '\t')
			return 0;
		if (c == ';')
			r->state = ST_CHUNK_EXT;
		else if (c == '\r')
			r->state = ST_CHUNK_SIZE_LF;
		else if (c == '\n')
			chunk_size_line_done(r);
		else
			return -EPROTO;
		return 0;
	case ST_CHUNK_EXT:
		/* extensions are allowed and ignored; only their length matters */
		if (c == '\r')
			r->state = ST_CHUNK_SIZE_LF;
		else if (c == '\n')
			chunk_size_line_done(r);
		else if (++r->aux_len > NC_HTTP_MAX_CHUNK_EXT)
			return -EMSGSIZE;
		return 0;
	case ST_CHUNK_SIZE_LF:
		if (c != '\n')
			return -EPROTO;
		chunk_size_line_done(r);
		return 0;
	case ST_CHUNK_DATA_CR:
		if (c == '\r') {
			r->state = ST_CHUNK_DATA_LF;
			return 0;
		}
		return chunk_data_end(r, c); /* a bare LF is tolerated */
	case ST_CHUNK_DATA_LF:
		return chunk_data_end(r, c);
	case ST_TRAILER:
		/* trailer fields are read and dropped: nothing we use travels there */
		if (++r->aux_len > NC_HTTP_MAX_HEAD)
			return -EMSGSIZE;
		if (c == '\n') {
			if (!r->line_len)
				r->state = ST_DONE;
			r->line_len = 0;
		} else if (c != '\r') {
			r->line_len++;
		}
		return 0;
	default:
		return -EPROTO;
	}
}

static int feed(struct nc_http_resp *r, const char *data, size_t len)
{
	size_t used, n;
	int err;

	while (len && r->state != ST_DONE) {
		switch (r->state) {
		case ST_HEAD:
			err = feed_head(r, data, len, &used);
			if (err)
				return err;
			data += used;
			len -= used;
			break;
		case ST_BODY_LENGTH:
		case ST_CHUNK_DATA:
			n = len < r->remaining ? len : (size_t)r->remaining;
			err = deliver(r, data, n);
			if (err)
				return err;
			data += n;
			len -= n;
			r->remaining -= n;
			if (!r->remaining)
				r->state = r->state == ST_BODY_LENGTH ? ST_DONE : ST_CHUNK_DATA_CR;
			break;
		case ST_BODY_CLOSE:
			err = deliver(r, data, len);
			if (err)
				return err;
			len = 0;
			break;
		default:
			err = feed_chunk_framing(r, *data);
			if (err)
				return err;
			data++;
			len--;
			break;
		}
	}
	return r->state == ST_DONE ? NC_HTTP_DONE : NC_HTTP_MORE;
}

int nc_http_resp_feed(struct nc_http_resp *r, const char *data, size_t len)
{
	int ret;

	if (r->error)
		return r->error;
	ret = feed(r, data, len);
	if (ret < 0)
		r->error = ret;
	return ret;
}

int nc_http_resp_eof(struct nc_http_resp *r)
{
	if (r->error)
		return r->error;
	if (r->state == ST_BODY_CLOSE)
		r->state = ST_DONE;
	if (r->state == ST_DONE)
		return NC_HTTP_DONE;
	r->error = -EPROTO;
	return r->error;
}
