// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of agent/http.c: framing (Content-Length, chunked, close),
 * every split of the input, bounds and malformed answers, streaming. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

/* A parser is 17 KiB: keep them off the stack. */
static struct nc_http_resp *new_resp(unsigned int flags, nc_http_body_fn fn, void *arg)
{
	struct nc_http_resp *r = malloc(sizeof(*r));

	assert_non_null(r);
	nc_http_resp_init(r, flags, fn, arg);
	return r;
}

static void free_resp(struct nc_http_resp *r)
{
	nc_http_resp_free(r);
	free(r);
}

/* Feed msg in pieces cut at the given offsets; the last result. */
static int feed_split(struct nc_http_resp *r, const char *msg, size_t len, const size_t *cuts,
		      size_t ncuts)
{
	size_t pos = 0;
	int ret = NC_HTTP_MORE;

	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		ret = nc_http_resp_feed(r, msg + pos, end - pos);
		if (ret < 0 || (ret == NC_HTTP_DONE && end == len))
			return ret;
		if (ret == NC_HTTP_DONE)
			return -EALREADY; /* done before the end of the message */
		pos = end;
	}
	return ret;
}

static int feed_str(struct nc_http_resp *r, const char *msg)
{
	return nc_http_resp_feed(r, msg, strlen(msg));
}

static void expect_body(const struct nc_http_resp *r, const char *body)
{
	assert_int_equal(r->body_len, strlen(body));
	if (r->body_len)
		assert_memory_equal(r->body, body, r->body_len);
}

/* ---- Content-Length ------------------------------------------------------ */

static const char cl_msg[] = "HTTP/1.1 200 OK\r\n"
			     "Content-Type: application/json\r\n"
			     "Api-Version: 1.41\r\n"
			     "Content-Length: 13\r\n"
			     "\r\n"
			     "{\"a\":\"hello\"}";

static void test_content_length(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, cl_msg), NC_HTTP_DONE);
	assert_true(r->headers_done);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->minor_version, 1);
	assert_int_equal(r->body_mode, NC_HTTP_BODY_LENGTH);
	expect_body(r, "{\"a\":\"hello\"}");
	assert_string_equal(r->body, "{\"a\":\"hello\"}"); /* NUL-terminated */
	assert_string_equal(nc_http_resp_header(r, "content-type"), "application/json");
	assert_string_equal(nc_http_resp_header(r, "API-VERSION"), "1.41");
	assert_null(nc_http_resp_header(r, "Transfer-Encoding"));
	/* bytes past the end are ignored, and the result stays */
	assert_int_equal(feed_str(r, "HTTP/1.1 500 x\r\n\r\n"), NC_HTTP_DONE);
	assert_int_equal(r->status, 200);
	assert_int_equal(nc_http_resp_eof(r), NC_HTTP_DONE);
	free_resp(r);
}

static void test_content_length_every_split(void **state)
{
	size_t len = strlen(cl_msg);

	for (size_t cut = 1; cut < len; cut++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_split(r, cl_msg, len, &cut, 1), NC_HTTP_DONE);
		expect_body(r, "{\"a\":\"hello\"}");
		free_resp(r);
	}
}

static void test_content_length_zero_and_no_body(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), NC_HTTP_DONE);
	assert_int_equal(r->body_len, 0);
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n"), NC_HTTP_DONE);
	assert_int_equal(r->body_mode, NC_HTTP_BODY_NONE);
	free_resp(r);

	/* answer to HEAD: Content-Length describes a body that is not sent */
	r = new_resp(NC_HTTP_F_NO_BODY, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), NC_HTTP_DONE);
	free_resp(r);
}

static void test_content_length_values(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	/* repeated and equal: fine */
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				     "content-length:2\r\n\r\nok"),
			 NC_HTTP_DONE);
	expect_body(r, "ok");
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
				     "Content-Length: 3\r\n\r\n"),
			 -EPROTO);
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"), -EPROTO);
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), -EPROTO);
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: "
				     "99999999999999999999999\r\n\r\n"),
			 -EMSGSIZE);
	free_resp(r);
}

/* ---- chunked -------------------------------------------------------------- */

/* Docker's inspect answer shape, with an extension and trailers thrown in. */
static const char chunked_msg[] = "HTTP/1.1 200 OK\r\n"
				  "Content-Type: application/json\r\n"
				  "Transfer-Encoding: chunked\r\n"
				  "\r\n"
				  "7\r\n{\"Id\":\"\r\n"
				  "a;name=\"v;x\"\r\n0123456789\r\n"
				  "1B \t; ext\r\nabcdefghijklmnopqrstuvwxyz\"\r\n"
				  "1\r\n}\r\n"
				  "0;last\r\n"
				  "X-Trailer: one\r\n"
				  "Y: two\r\n"
				  "\r\n";
static const char chunked_body[] = "{\"Id\":\"0123456789abcdefghijklmnopqrstuvwxyz\"}";

static void test_chunked(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, chunked_msg), NC_HTTP_DONE);
	assert_int_equal(r->body_mode, NC_HTTP_BODY_CHUNKED);
	expect_body(r, chunked_body);
	/* trailers are consumed, not exposed as headers */
	assert_null(nc_http_resp_header(r, "X-Trailer"));
	free_resp(r);
}

static void test_chunked_every_split(void **state)
{
	size_t len = strlen(chunked_msg);

	/* every single cut, then every pair of cuts */
	for (size_t a = 1; a < len; a++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_split(r, chunked_msg, len, &a, 1), NC_HTTP_DONE);
		expect_body(r, chunked_body);
		free_resp(r);
	}
	for (size_t a = 1; a < len; a++) {
		for (size_t b = a + 1; b < len; b++) {
			struct nc_http_resp *r = new_resp(0, NULL, NULL);
			size_t cuts[2] = { a, b };

			assert_int_equal(feed_split(r, chunked_msg, len, cuts, 2), NC_HTTP_DONE);
			expect_body(r, chunked_body);
			free_resp(r);
		}
	}
}

static void test_chunked_byte_by_byte(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);
	size_t len = strlen(chunked_msg);

	for (size_t i = 0; i < len; i++)
		assert_int_equal(nc_http_resp_feed(r, chunked_msg + i, 1),
				 i + 1 == len ? NC_HTTP_DONE : NC_HTTP_MORE);
	expect_body(r, chunked_body);
	free_resp(r);
}

static void test_chunked_bare_lf_and_codings(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	/* LF-only line ends are tolerated */
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
				     "3\nabc\n0\n\n"),
			 NC_HTTP_DONE);
	expect_body(r, "abc");
	free_resp(r);

	/* chunked last of several codings; Transfer-Encoding beats Content-Length */
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
				     "Transfer-Encoding: identity , Chunked\r\n\r\n"
				     "2\r\nhi\r\n0\r\n\r\n"),
			 NC_HTTP_DONE);
	expect_body(r, "hi");
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
			 -EPROTO);
	free_resp(r);

	/* a coding other than chunked last: the body runs to the close */
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz"),
			 NC_HTTP_MORE);
	assert_int_equal(r->body_mode, NC_HTTP_BODY_CLOSE);
	assert_int_equal(nc_http_resp_eof(r), NC_HTTP_DONE);
	expect_body(r, "xyz");
	free_resp(r);
}

static void test_chunked_malformed(void **state)
{
	static const struct {
		const char *chunks;
		int err;
	} cases[] = {
		{ "zz\r\n", -EPROTO },		       /* not hex */
		{ "\r\n", -EPROTO },		       /* no digits */
		{ ";ext\r\n", -EPROTO },	       /* extension without a size */
		{ "3 x\r\n", -EPROTO },		       /* junk after the size */
		{ "3\rx", -EPROTO },		       /* CR not followed by LF */
		{ "3\r\nabcX", -EPROTO },	       /* data not followed by CRLF */
		{ "3\r\nabc\rX", -EPROTO },	       /* CR then junk */
		{ "-1\r\n", -EPROTO },		       /* negative */
		{ "FFFFFFFFFFFFFFFFF\r\n", -EMSGSIZE }, /* 68 bits */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
				 NC_HTTP_MORE);
		assert_int_equal(feed_str(r, cases[i].chunks), cases[i].err);
		/* errors are sticky */
		assert_int_equal(feed_str(r, "0\r\n\r\n"), cases[i].err);
		assert_int_equal(nc_http_resp_eof(r), cases[i].err);
		free_resp(r);
	}
}

static void test_chunked_bounds(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);
	char *ext = malloc(NC_HTTP_MAX_CHUNK_EXT + 16);

	assert_non_null(ext);
	/* a 16-hex-digit size is fine syntactically (leading zeros) */
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "0000000000000002\r\nok\r\n0\r\n\r\n"),
			 NC_HTTP_DONE);
	expect_body(r, "ok");
	free_resp(r);

	/* extension too long */
	r = new_resp(0, NULL, NULL);
	memset(ext, 'e', NC_HTTP_MAX_CHUNK_EXT + 1);
	ext[0] = ';';
	ext[NC_HTTP_MAX_CHUNK_EXT + 1] = '\0';
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1"),
			 NC_HTTP_MORE);
	assert_int_equal(feed_str(r, ext), NC_HTTP_MORE);
	assert_int_equal(feed_str(r, "x"), -EMSGSIZE);
	free_resp(r);
	free(ext);

	/* endless trailers */
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"),
			 NC_HTTP_MORE);
	for (int i = 0; i < NC_HTTP_MAX_HEAD / 8; i++)
		assert_int_equal(feed_str(r, "X: abc\r\n"), NC_HTTP_MORE);
	assert_int_equal(feed_str(r, "X: abc\r\n"), -EMSGSIZE);
	free_resp(r);
}

/* ---- close-delimited and truncation ---------------------------------------- */

static void test_close_delimited(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\npart one,"),
			 NC_HTTP_MORE);
	assert_int_equal(r->minor_version, 0);
	assert_int_equal(r->body_mode, NC_HTTP_BODY_CLOSE);
	assert_int_equal(feed_str(r, " part two"), NC_HTTP_MORE);
	assert_int_equal(nc_http_resp_eof(r), NC_HTTP_DONE);
	expect_body(r, "part one, part two");
	free_resp(r);

	/* empty close-delimited body */
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\n\r\n"), NC_HTTP_MORE);
	assert_int_equal(nc_http_resp_eof(r), NC_HTTP_DONE);
	assert_int_equal(r->body_len, 0);
	free_resp(r);
}

static void test_truncated(void **state)
{
	static const char *const cut[] = {
		"",
		"HTTP/1.1 200 OK\r\nContent-Le",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_str(r, cut[i]), NC_HTTP_MORE);
		assert_int_equal(nc_http_resp_eof(r), -EPROTO);
		free_resp(r);
	}
}

/* ---- errors answered by the server ------------------------------------------ */

static void test_404_json_error(void **state)
{
	/* as dockerd 20.10 sends it */
	static const char msg[] = "HTTP/1.1 404 Not Found\r\n"
				  "Api-Version: 1.41\r\n"
				  "Content-Type: application/json\r\n"
				  "Docker-Experimental: false\r\n"
				  "Ostype: linux\r\n"
				  "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
				  "Date: Sun, 22 Nov 2026 10:40:55 GMT\r\n"
				  "Content-Length: 38\r\n"
				  "\r\n"
				  "{\"message\":\"No such container: nope\"}\n";
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, msg), NC_HTTP_DONE);
	assert_int_equal(r->status, 404);
	assert_int_equal(r->nheaders, 7);
	assert_string_equal(nc_http_resp_header(r, "server"), "Docker/20.10.24+dfsg1 (linux)");
	assert_string_equal(r->body, "{\"message\":\"No such container: nope\"}\n");
	free_resp(r);
}

static void test_interim_response(void **state)
{
	struct nc_http_resp *r = new_resp(0, NULL, NULL);

	assert_int_equal(feed_str(r, "HTTP/1.1 100 Continue\r\n\r\n"
				     "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
			 NC_HTTP_DONE);
	assert_int_equal(r->status, 201);
	expect_body(r, "ok");
	free_resp(r);

	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, "HTTP/1.1 101 Switching Protocols\r\n\r\n"), -EPROTO);
	free_resp(r);
}

/* ---- bounds ------------------------------------------------------------------- */

static void test_oversized_headers(void **state)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";
	size_t fill = NC_HTTP_MAX_HEAD - strlen(status) - strlen("X: \r\n\r\n");
	char *msg = malloc(NC_HTTP_MAX_HEAD + 64);
	struct nc_http_resp *r;

	/* exactly NC_HTTP_MAX_HEAD bytes of head: accepted */
	assert_non_null(msg);
	strcpy(msg, status);
	strcat(msg, "X: ");
	memset(msg + strlen(msg), 'a', fill);
	strcpy(msg + strlen(status) + 3 + fill, "\r\n\r\n");
	assert_int_equal(strlen(msg), NC_HTTP_MAX_HEAD);
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, msg), NC_HTTP_MORE);
	assert_true(r->headers_done);
	assert_int_equal(strlen(nc_http_resp_header(r, "x")), fill);
	free_resp(r);

	/* one byte more: refused, even fed a byte at a time */
	strcpy(msg + strlen(status) + 3 + fill, "a\r\n\r\n");
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, msg), -EMSGSIZE);
	free_resp(r);
	r = new_resp(0, NULL, NULL);
	for (size_t i = 0; i < NC_HTTP_MAX_HEAD; i++)
		assert_int_equal(nc_http_resp_feed(r, msg + i, 1), NC_HTTP_MORE);
	assert_int_equal(nc_http_resp_feed(r, msg + NC_HTTP_MAX_HEAD, 1), -EMSGSIZE);
	free_resp(r);
	free(msg);

	/* too many header lines */
	r = new_resp(0, NULL, NULL);
	assert_int_equal(feed_str(r, status), NC_HTTP_MORE);
	for (int i = 0; i < NC_HTTP_MAX_HEADERS + 1; i++)
		assert_int_equal(feed_str(r, "A: b\r\n"), NC_HTTP_MORE);
	assert_int_equal(feed_str(r, "\r\n"), -EMSGSIZE);
	free_resp(r);
}

static void test_oversized_body(void **state)
{
	char hdr[128];
	char *block = malloc(64 * 1024);
	struct nc_http_resp *r;
	size_t sent = 0;
	int ret = NC_HTTP_MORE;

	assert_non_null(block);
	memset(block, 'x', 64 * 1024);

	/* announced too large: refused before any byte of it */
	r = new_resp(0, NULL, NULL);
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
		 NC_HTTP_MAX_BODY + 1);
	assert_int_equal(feed_str(r, hdr), -EMSGSIZE);
	free_resp(r);

	/* exactly the bound: accepted */
	r = new_resp(0, NULL, NULL);
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
		 NC_HTTP_MAX_BODY);
	assert_int_equal(feed_str(r, hdr), NC_HTTP_MORE);
	while (sent < NC_HTTP_MAX_BODY) {
		ret = nc_http_resp_feed(r, block, 64 * 1024);
		sent += 64 * 1024;
	}
	assert_int_equal(ret, NC_HTTP_DONE);
	assert_int_equal(r->body_len, NC_HTTP_MAX_BODY);
	free_resp(r);

	/* chunked and close-delimited bodies growing past it */
	for (int mode = 0; mode < 2; mode++) {
		r = new_resp(0, NULL, NULL);
		assert_int_equal(feed_str(r, mode ? "HTTP/1.1 200 OK\r\n\r\n" :
					  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
				 NC_HTTP_MORE);
		ret = NC_HTTP_MORE;
		for (sent = 0; ret == NC_HTTP_MORE && sent <= NC_HTTP_MAX_BODY; sent += 64 * 1024) {
			if (!mode)
				ret = feed_str(r, "10000\r\n");
			if (ret == NC_HTTP_MORE)
				ret = nc_http_resp_feed(r, block, 64 * 1024);
			if (ret == NC_HTTP_MORE && !mode)
				ret = feed_str(r, "\r\n");
		}
		assert_int_equal(ret, -EMSGSIZE);
		assert_int_equal(sent, NC_HTTP_MAX_BODY + 64 * 1024);
		free_resp(r);
	}
	free(block);
}

/* ---- malformed heads ---------------------------------------------------------- */

static void test_malformed_status_line(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.x 200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"FOO 200 OK\r\n\r\n",
		"HTTP/1.1 600 Nope\r\n\r\n",
		"HTTP/1.1 099 Nope\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 O\rK\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_str(r, bad[i]), -EPROTO);
		free_resp(r);
	}
}

static void test_malformed_headers(void **state)
{
	static const char *const bad[] = {
		"NoColon\r\n",
		"Bad Name: x\r\n",
		"Name : x\r\n",
		": empty\r\n",
		"A: b\r\n folded\r\n",
		"A: b\rc\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nc_http_resp *r = new_resp(0, NULL, NULL);
		char msg[128];

		snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\n%s\r\n", bad[i]);
		assert_int_equal(feed_str(r, msg), -EPROTO);
		free_resp(r);
	}
	/* a NUL inside the head */
	{
		static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(nc_http_resp_feed(r, nul, sizeof(nul) - 1), -EPROTO);
		free_resp(r);
	}
	/* reason phrase may be empty; values are trimmed */
	{
		struct nc_http_resp *r = new_resp(0, NULL, NULL);

		assert_int_equal(feed_str(r, "HTTP/1.1 200\r\nA:\t  b c \t\r\nB:\r\n"
					     "Content-Length: 0\r\n\r\n"),
				 NC_HTTP_DONE);
		assert_string_equal(nc_http_resp_header(r, "a"), "b c");
		assert_string_equal(nc_http_resp_header(r, "b"), "");
		free_resp(r);
	}
}

/* ---- streaming ------------------------------------------------------------------ */

struct sink {
	char data[256];
	size_t len;
	int calls;
	int fail_after; /* calls before returning an error; 0: never */
};

static int sink_body(struct nc_http_resp *r, const char *data, size_t len, void *arg)
{
	struct sink *s = arg;

	assert_true(len > 0);
	assert_true(r->headers_done);
	s->calls++;
	if (s->fail_after && s->calls > s->fail_after)
		return -ECANCELED;
	assert_true(s->len + len < sizeof(s->data));
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
	return 0;
}

static void test_streaming_callback(void **state)
{
	struct sink s = { 0 };
	struct nc_http_resp *r = new_resp(0, sink_body, &s);

	/* the events API: headers first, then one chunk per event, no end */
	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
			 NC_HTTP_MORE);
	assert_true(r->headers_done);
	assert_int_equal(s.calls, 0);

	assert_int_equal(feed_str(r, "10\r\n{\"n\":1}\n{\"n\""), NC_HTTP_MORE);
	/* the part of the chunk received so far is delivered at once */
	assert_string_equal(s.data, "{\"n\":1}\n{\"n\"");
	assert_int_equal(feed_str(r, ":2}\n\r\n"), NC_HTTP_MORE);
	assert_string_equal(s.data, "{\"n\":1}\n{\"n\":2}\n");
	assert_int_equal(feed_str(r, "8\r\n{\"n\":3}\n\r\n"), NC_HTTP_MORE);
	assert_string_equal(s.data, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
	/* nothing is buffered by the parser */
	assert_null(r->body);
	assert_int_equal(feed_str(r, "0\r\n\r\n"), NC_HTTP_DONE);
	free_resp(r);
}

static void test_streaming_abort(void **state)
{
	struct sink s = { .fail_after = 1 };
	struct nc_http_resp *r = new_resp(0, sink_body, &s);

	assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nab"),
			 NC_HTTP_MORE); /* no bound on a streamed length */
	assert_int_equal(feed_str(r, "cd"), -ECANCELED);
	assert_int_equal(feed_str(r, "ef"), -ECANCELED);
	assert_string_equal(s.data, "ab");
	free_resp(r);
}

/* A streaming callback may buffer after all (error bodies). */
static int buffer_errors(struct nc_http_resp *r, const char *data, size_t len, void *arg)
{
	int *streamed = arg;

	if (r->status != 200)
		return nc_http_resp_append_body(r, data, len);
	*streamed += (int)len;
	return 0;
}

static void test_streaming_error_body(void **state)
{
	int streamed = 0;
	struct nc_http_resp *r = new_resp(0, buffer_errors, &streamed);

	assert_int_equal(feed_str(r, "HTTP/1.1 400 Bad Request\r\nContent-Length: 22\r\n\r\n"
				     "{\"message\":\"bad one\"}\n"),
			 NC_HTTP_DONE);
	assert_int_equal(streamed, 0);
	assert_string_equal(r->body, "{\"message\":\"bad one\"}\n");
	free_resp(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_content_length_every_split),
		cmocka_unit_test(test_content_length_zero_and_no_body),
		cmocka_unit_test(test_content_length_values),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_every_split),
		cmocka_unit_test(test_chunked_byte_by_byte),
		cmocka_unit_test(test_chunked_bare_lf_and_codings),
		cmocka_unit_test(test_chunked_malformed),
		cmocka_unit_test(test_chunked_bounds),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_404_json_error),
		cmocka_unit_test(test_interim_response),
		cmocka_unit_test(test_oversized_headers),
		cmocka_unit_test(test_oversized_body),
		cmocka_unit_test(test_malformed_status_line),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_streaming_callback),
		cmocka_unit_test(test_streaming_abort),
		cmocka_unit_test(test_streaming_error_body),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
