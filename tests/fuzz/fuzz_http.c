// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HTTP/1.1 response parser (agent/http.c), which
 * reads whatever a Docker daemon's socket sends. The first input byte picks
 * the request flags and how the rest is cut; the rest is the response.
 *
 * The same bytes go to three parsers: whole and buffered, cut into random
 * pieces and buffered, cut differently and streamed to a body callback. The
 * parser promises its result does not depend on the split ("bytes may arrive
 * in any split"), so any difference in outcome, status, headers or body is a
 * crash, as is a header pointer outside the parser's head buffer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define fz_assert(cond, ...)                                                               \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_http: %s:%d: invariant '%s' broken: ",         \
				__FILE__, __LINE__, #cond);                                   \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			abort();                                                           \
		}                                                                          \
	} while (0)

struct outcome {
	int ret; /* last feed/eof result */
	bool fed_all;
};

/* Streamed body bytes, gathered for comparison. */
struct sink {
	char *data;
	size_t len;
	size_t cap;
};

static int on_body(struct nc_http_resp *r, const char *data, size_t len, void *arg)
{
	struct sink *s = arg;

	fz_assert(len > 0, "empty body callback");
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2;
		char *p = realloc(s->data, cap);

		if (!p)
			return -ENOMEM;
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return 0;
}

/* Deterministic piece sizes from the selector byte. */
static size_t next_piece(uint32_t *state, size_t left)
{
	size_t n;

	*state = *state * 1103515245u + 12345u;
	n = 1 + ((*state >> 16) % 17);
	return n < left ? n : left;
}

static struct outcome run(struct nc_http_resp *r, const char *data, size_t size, uint32_t seed)
{
	struct outcome o = { .ret = NC_HTTP_MORE };
	size_t pos = 0;

	while (pos < size) {
		size_t n = seed ? next_piece(&seed, size - pos) : size - pos;

		o.ret = nc_http_resp_feed(r, data + pos, n);
		pos += n;
		if (o.ret != NC_HTTP_MORE)
			break;
	}
	o.fed_all = pos == size;
	if (o.ret == NC_HTTP_MORE)
		o.ret = nc_http_resp_eof(r);
	/* Errors are sticky; done is final. */
	if (o.ret < 0)
		fz_assert(nc_http_resp_feed(r, "x", 1) == o.ret && nc_http_resp_eof(r) == o.ret,
			  "error %d not sticky", o.ret);
	else
		fz_assert(o.ret == NC_HTTP_DONE && nc_http_resp_eof(r) == NC_HTTP_DONE,
			  "result %d after eof", o.ret);
	return o;
}

static void check_headers(const struct nc_http_resp *r)
{
	const char *lo = r->head, *hi = r->head + sizeof(r->head);

	if (!r->headers_done)
		return;
	fz_assert(r->status >= 200 && r->status <= 599, "status %d", r->status);
	fz_assert(r->nheaders <= NC_HTTP_MAX_HEADERS, "%zu headers", r->nheaders);
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct nc_http_header *h = &r->headers[i];

		fz_assert(h->name >= lo && h->name < hi && h->value >= lo && h->value < hi,
			  "header %zu points outside head[]", i);
		fz_assert(strlen(h->name) > 0 && h->name + strlen(h->name) < hi &&
				  h->value + strlen(h->value) < hi,
			  "header %zu not terminated in head[]", i);
		fz_assert(nc_http_resp_header(r, h->name) != NULL, "header %zu not found by name",
			  i);
	}
}

static void same(const struct nc_http_resp *a, struct outcome oa, const struct nc_http_resp *b,
		 struct outcome ob, const char *b_body, size_t b_len, const char *what)
{
	fz_assert(oa.ret == ob.ret, "%s: result %d, whole input gave %d", what, ob.ret, oa.ret);
	if (oa.ret < 0)
		return;
	fz_assert(a->headers_done == b->headers_done && a->status == b->status &&
			  a->minor_version == b->minor_version && a->body_mode == b->body_mode,
		  "%s: status %d/%d mode %d/%d", what, a->status, b->status, a->body_mode,
		  b->body_mode);
	fz_assert(a->nheaders == b->nheaders, "%s: %zu headers, whole input gave %zu", what,
		  b->nheaders, a->nheaders);
	for (size_t i = 0; i < a->nheaders; i++)
		fz_assert(!strcmp(a->headers[i].name, b->headers[i].name) &&
				  !strcmp(a->headers[i].value, b->headers[i].value),
			  "%s: header %zu differs", what, i);
	fz_assert(a->body_len == b_len && (!b_len || !memcmp(a->body, b_body, b_len)),
		  "%s: body of %zu bytes, whole input gave %zu", what, b_len, a->body_len);
}

/* Parsers are 17 KiB: on the heap, and filled with junk so that a parser
 * relying on bytes it never wrote shows up as a difference. */
static struct nc_http_resp *new_parser(unsigned int flags, nc_http_body_fn fn, void *arg)
{
	struct nc_http_resp *r = malloc(sizeof(*r));

	if (!r)
		abort();
	memset(r, 0xa5, sizeof(*r));
	nc_http_resp_init(r, flags, fn, arg);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_http_resp *whole, *split, *stream;
	struct outcome ow, os, ot;
	struct sink sink = { 0 };
	unsigned int flags;
	const char *msg;
	uint32_t seed;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? NC_HTTP_F_NO_BODY : 0;
	seed = (uint32_t)data[0] | 1u; /* never 0: 0 means "in one piece" */
	msg = (const char *)data + 1;
	size--;

	whole = new_parser(flags, NULL, NULL);
	split = new_parser(flags, NULL, NULL);
	stream = new_parser(flags, on_body, &sink);

	ow = run(whole, msg, size, 0);
	os = run(split, msg, size, seed);
	ot = run(stream, msg, size, seed * 7919u);
	check_headers(whole);
	check_headers(split);
	check_headers(stream);
	fz_assert(!whole->body || whole->body[whole->body_len] == '\0', "body not terminated");
	fz_assert(whole->body_len <= NC_HTTP_MAX_BODY, "body of %zu bytes", whole->body_len);

	same(whole, ow, split, os, split->body, split->body_len, "split");
	/* Only a buffered body is bounded: a streamed one may legitimately
	 * outlive a Content-Length the buffered parser refuses. */
	if (ow.ret != -EMSGSIZE)
		same(whole, ow, stream, ot, sink.data, sink.len, "streamed");

	nc_http_resp_free(whole);
	nc_http_resp_free(split);
	nc_http_resp_free(stream);
	free(whole);
	free(split);
	free(stream);
	free(sink.data);
	return 0;
}
