// SPDX-License-Identifier: GPL-2.0-only
/* Docker Engine API client: socket resolution, request objects driven by the
 * agent's epoll loop (connect, send, parse the answer with http.c), the
 * synchronous helpers on top, and the JSON -> struct parsers (json-c).
 *
 * Paths are unversioned on purpose: a /vX.Y prefix is refused by daemons
 * older than X.Y and by newer ones that dropped X.Y, while the few fields read
 * here have not changed since API 1.24. One request per connection
 * ("Connection: close") keeps the state machine small; Docker answers in well
 * under a millisecond over the socket, so reuse would save nothing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "docker.h"
#include "http.h"
#include "log.h"

#define EVENT_LINE_MAX	(64 * 1024) /* one event with all its labels */
#define RECV_BUF	(16 * 1024)
#define RECV_PER_READY	64 /* reads per on_ready: a busy stream cannot starve the loop */

enum req_op { OP_NONE, OP_INSPECT, OP_LIST, OP_EVENTS };
enum req_state { RQ_IDLE, RQ_SEND, RQ_RECV, RQ_DONE };

struct nc_docker_req {
	struct nc_docker dock;
	int fd;
	enum req_state state;
	enum req_op op;
	bool connecting; /* connect() said EINPROGRESS */
	int status;
	nc_docker_done_fn done;
	void *arg;
	nc_docker_event_fn on_event;
	struct nc_docker_container *container;
	struct nc_docker_list *list;
	char *out; /* the request text */
	size_t out_len, out_off;
	char *line; /* events: the incomplete line so far */
	size_t line_len, line_cap;
	char what[NC_DOCKER_NAME_MAX]; /* what the caller named, for messages */
	char err[NC_DOCKER_ERR_MAX];
	struct nc_http_resp resp; /* last: 16 KiB */
};

/* ---- socket resolution and filters ------------------------------------ */

int nc_docker_resolve_sock(const char *sock_opt, const char *docker_host, char *out,
			   size_t outlen, char *err, size_t errlen)
{
	const char *path = NC_DOCKER_DEFAULT_SOCK;
	size_t outmax = outlen < sizeof(((struct sockaddr_un *)0)->sun_path) ?
				outlen : sizeof(((struct sockaddr_un *)0)->sun_path);

	if (sock_opt && *sock_opt) {
		path = sock_opt;
		if (!strncmp(path, "unix://", 7))
			path += 7;
		else if (strstr(path, "://")) {
			snprintf(err, errlen, "docker socket %s: only unix:// is supported", sock_opt);
			return -EPROTONOSUPPORT;
		}
	} else if (docker_host && *docker_host) {
		if (strncmp(docker_host, "unix://", 7)) {
			snprintf(err, errlen,
				 "DOCKER_HOST=%s is not a unix:// socket; netchaosd talks to the "
				 "local daemon only (give the socket path explicitly)",
				 docker_host);
			return -EPROTONOSUPPORT;
		}
		path = docker_host + 7;
	}
	if (!*path) {
		snprintf(err, errlen, "empty docker socket path");
		return -EINVAL;
	}
	if (strlen(path) >= outmax) {
		snprintf(err, errlen, "docker socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(out, path);
	return 0;
}

int nc_docker_init(struct nc_docker *d, const char *sock_opt, char *err, size_t errlen)
{
	return nc_docker_resolve_sock(sock_opt, getenv("DOCKER_HOST"), d->sock_path,
				      sizeof(d->sock_path), err, errlen);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int nc_docker_label_filter(const char *arg, char *out, size_t outlen)
{
	if (!arg || !*arg || *arg == '=' || !printable(arg))
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, "%s", arg) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int nc_docker_service_filter(const char *service, char *out, size_t outlen)
{
	if (!service || !*service || strchr(service, '=') || !printable(service))
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, NC_DOCKER_SERVICE_LABEL "=%s", service) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static int url_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p);

		if (o + (plain ? 1 : 3) >= outlen)
			return -ENAMETOOLONG;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int add_string_array(struct json_object *obj, const char *key, const char *const *vals,
			    size_t n)
{
	struct json_object *arr = json_object_new_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_new_string(vals[i]);

		if (!s || json_object_array_add(arr, s)) {
			json_object_put(s);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	if (json_object_object_add(obj, key, arr)) {
		json_object_put(arr);
		return -ENOMEM;
	}
	return 0;
}

/* "filters=" + url-encoded {"label":[...]} (+ event/type lists). */
static int filters_query(const char *const *labels, size_t nlabels, bool events, char *out,
			 size_t outlen)
{
	static const char *const types[] = { "container" };
	static const char *const actions[] = { "start", "restart", "die", "destroy" };
	struct json_object *f = json_object_new_object();
	int err = -ENOMEM;

	if (!f)
		return -ENOMEM;
	if (events) {
		err = add_string_array(f, "type", types, 1);
		if (!err)
			err = add_string_array(f, "event", actions, 4);
		if (err)
			goto out;
	}
	if (nlabels) {
		err = add_string_array(f, "label", labels, nlabels);
		if (err)
			goto out;
	}
	if (outlen < 9) {
		err = -ENAMETOOLONG;
		goto out;
	}
	strcpy(out, "filters=");
	err = url_encode(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE),
			 out + 8, outlen - 8);
out:
	json_object_put(f);
	return err;
}

int nc_docker_list_query(const char *const *labels, size_t nlabels, char *out, size_t outlen)
{
	if (!nlabels) {
		if (!outlen)
			return -ENAMETOOLONG;
		out[0] = '\0';
		return 0;
	}
	return filters_query(labels, nlabels, false, out, outlen);
}

int nc_docker_events_query(const char *const *labels, size_t nlabels, int64_t since_ns,
			   char *out, size_t outlen)
{
	int err = filters_query(labels, nlabels, true, out, outlen);
	size_t n;

	if (err || since_ns <= 0)
		return err;
	/* since=SECONDS.NANOSECONDS: the daemon replays what it still holds */
	n = strlen(out);
	if ((size_t)snprintf(out + n, outlen - n, "&since=%" PRId64 ".%09" PRId64,
			     since_ns / 1000000000, since_ns % 1000000000) >= outlen - n)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- JSON parsers --------------------------------------------------------- */

static struct json_object *parse_json(const char *body, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (!body || !len) {
		snprintf(err, errlen, "empty answer from Docker");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj) {
		snprintf(err, errlen, "invalid JSON from Docker: %s",
			 jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", body[end])) {
			snprintf(err, errlen, "invalid JSON from Docker: data after the value");
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

static struct json_object *get_path(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return v;
}

/* Optional string field copied into dst ("" when absent or null). */
static int copy_field(struct json_object *v, const char *what, char *dst, size_t size, char *err,
		      size_t errlen)
{
	const char *s;

	dst[0] = '\0';
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "Docker sent a non-string %s", what);
		return -EPROTO;
	}
	s = json_object_get_string(v);
	if (strlen(s) >= size) {
		snprintf(err, errlen, "Docker sent a %s longer than %zu bytes", what, size - 1);
		return -EPROTO;
	}
	strcpy(dst, s);
	return 0;
}

static int copy_id(struct json_object *v, char *dst, char *err, size_t errlen)
{
	int ret = copy_field(v, "container id", dst, NC_DOCKER_ID_MAX, err, errlen);

	if (!ret && !dst[0]) {
		snprintf(err, errlen, "Docker sent no container id");
		ret = -EPROTO;
	}
	return ret;
}

/* Names come as "/web"; ours are without the slash. */
static int copy_name(struct json_object *v, char *dst, char *err, size_t errlen)
{
	int ret = copy_field(v, "container name", dst, NC_DOCKER_NAME_MAX, err, errlen);

	if (!ret && dst[0] == '/')
		memmove(dst, dst + 1, strlen(dst));
	return ret;
}

static void classify_netmode(struct nc_docker_container *c)
{
	const char *m = c->network_mode;

	c->netmode_target[0] = '\0';
	if (!strcmp(m, "host")) {
		c->netmode = NC_DOCKER_NET_HOST;
	} else if (!strcmp(m, "none")) {
		c->netmode = NC_DOCKER_NET_NONE;
	} else if (!*m || !strcmp(m, "bridge") || !strcmp(m, "default")) {
		c->netmode = NC_DOCKER_NET_BRIDGE;
	} else if (!strncmp(m, "container:", 10)) {
		c->netmode = NC_DOCKER_NET_CONTAINER;
		snprintf(c->netmode_target, sizeof(c->netmode_target), "%s", m + 10);
	} else {
		c->netmode = NC_DOCKER_NET_CUSTOM;
	}
}

/* NetworkSettings.Networks.*.{IPAddress,GlobalIPv6Address}; "" skipped. */
static int parse_addrs(struct json_object *networks, struct nc_docker_container *out, char *err,
		       size_t errlen)
{
	static const char *const keys[] = { "IPAddress", "GlobalIPv6Address" };

	if (!networks || !json_object_is_type(networks, json_type_object))
		return 0;
	json_object_object_foreach(networks, name, net)
	{
		(void)name;
		for (size_t k = 0; k < 2; k++) {
			char addr[NC_DOCKER_ADDR_MAX];

			if (copy_field(get_path(net, keys[k], NULL), "network address", addr,
				       sizeof(addr), err, errlen))
				return -EPROTO;
			if (!addr[0] || out->n_addrs >= NC_DOCKER_MAX_ADDRS)
				continue;
			strcpy(out->addrs[out->n_addrs++], addr);
		}
	}
	return 0;
}

static void parse_labels(struct json_object *labels, struct nc_docker_container *out)
{
	size_t off = 0;

	if (!labels || !json_object_is_type(labels, json_type_object))
		return;
	json_object_object_foreach(labels, key, val)
	{
		const char *v = json_object_is_type(val, json_type_string) ?
					json_object_get_string(val) : "";
		size_t n = strlen(key) + 1 + strlen(v) + 1;

		if (off + n + 1 > sizeof(out->labels)) {
			out->labels_truncated = true;
			break;
		}
		off += (size_t)snprintf(out->labels + off, sizeof(out->labels) - off, "%s=%s",
					key, v) + 1;
	}
	out->labels[off] = '\0';
}

bool nc_docker_has_label(const struct nc_docker_container *c, const char *filter)
{
	const char *eq = strchr(filter, '=');
	size_t klen = eq ? (size_t)(eq - filter) : strlen(filter);

	for (const char *l = c->labels; *l; l += strlen(l) + 1) {
		if (strncmp(l, filter, klen) || l[klen] != '=')
			continue;
		if (!eq || !strcmp(l + klen + 1, eq + 1))
			return true;
	}
	return false;
}

int nc_docker_parse_inspect(const char *body, size_t len, struct nc_docker_container *out,
			    char *err, size_t errlen)
{
	struct json_object *root, *state, *v;
	int64_t pid = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	root = parse_json(body, len, err, errlen);
	if (!root)
		return -EPROTO;
	ret = -EPROTO;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "Docker's inspect answer is not an object");
		goto out;
	}
	if (copy_id(get_path(root, "Id", NULL), out->id, err, errlen) ||
	    copy_name(get_path(root, "Name", NULL), out->name, err, errlen) ||
	    copy_field(get_path(root, "HostConfig", "NetworkMode"), "network mode",
		       out->network_mode, sizeof(out->network_mode), err, errlen) ||
	    copy_field(get_path(get_path(root, "Config", "Labels"), NC_DOCKER_SERVICE_LABEL, NULL),
		       "service label", out->service, sizeof(out->service), err, errlen) ||
	    copy_field(get_path(root, "NetworkSettings", "SandboxKey"), "sandbox key",
		       out->sandbox_key, sizeof(out->sandbox_key), err, errlen))
		goto out;

	state = get_path(root, "State", NULL);
	if (!state || !json_object_is_type(state, json_type_object)) {
		snprintf(err, errlen, "Docker's inspect answer has no State");
		goto out;
	}
	v = get_path(state, "Pid", NULL);
	if (v) {
		if (!json_object_is_type(v, json_type_int)) {
			snprintf(err, errlen, "Docker sent a non-integer State.Pid");
			goto out;
		}
		pid = json_object_get_int64(v);
	}
	if (pid < 0 || pid > INT32_MAX) {
		snprintf(err, errlen, "Docker sent State.Pid %" PRId64, pid);
		goto out;
	}
	if (parse_addrs(get_path(root, "NetworkSettings", "Networks"), out, err, errlen))
		goto out;
	parse_labels(get_path(root, "Config", "Labels"), out);
	out->pid = (pid_t)pid;
	v = get_path(state, "Running", NULL);
	out->running = v && json_object_get_boolean(v);
	if (out->pid)
		snprintf(out->netns_path, sizeof(out->netns_path), "/proc/%d/ns/net", out->pid);
	classify_netmode(out);
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

void nc_docker_list_free(struct nc_docker_list *l)
{
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

int nc_docker_parse_list(const char *body, size_t len, struct nc_docker_list *out, char *err,
			 size_t errlen)
{
	struct json_object *root;
	size_t n;
	int ret = -EPROTO;

	out->items = NULL;
	out->count = 0;
	root = parse_json(body, len, err, errlen);
	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_array)) {
		snprintf(err, errlen, "Docker's container list is not an array");
		goto out;
	}
	n = json_object_array_length(root);
	if (n) {
		out->items = calloc(n, sizeof(*out->items));
		if (!out->items) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(root, i);
		struct nc_docker_summary *s = &out->items[i];
		struct json_object *names = get_path(c, "Names", NULL);
		char state[32];

		if (!json_object_is_type(c, json_type_object)) {
			snprintf(err, errlen, "Docker's container list holds a non-object");
			goto fail;
		}
		if (copy_id(get_path(c, "Id", NULL), s->id, err, errlen) ||
		    copy_field(get_path(get_path(c, "Labels", NULL), NC_DOCKER_SERVICE_LABEL, NULL),
			       "service label", s->service, sizeof(s->service), err, errlen) ||
		    copy_field(get_path(c, "State", NULL), "state", state, sizeof(state), err,
			       errlen))
			goto fail;
		/* Names also lists links ("/other/alias"); the first is the name */
		if (names && json_object_is_type(names, json_type_array) &&
		    json_object_array_length(names) &&
		    copy_name(json_object_array_get_idx(names, 0), s->name, err, errlen))
			goto fail;
		s->running = !strcmp(state, "running");
		out->count++;
	}
	ret = 0;
	goto out;
fail:
	nc_docker_list_free(out);
out:
	json_object_put(root);
	return ret;
}

int nc_docker_parse_event(const char *line, size_t len, struct nc_docker_event *out, char *err,
			  size_t errlen)
{
	struct json_object *root, *actor, *attrs, *v;
	int ret = -EPROTO;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	root = parse_json(line, len, err, errlen);
	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "Docker event is not an object");
		goto out;
	}
	v = get_path(root, "Type", NULL);
	if (v && strcmp(json_object_get_string(v), "container")) {
		ret = 1;
		goto out;
	}
	actor = get_path(root, "Actor", NULL);
	attrs = get_path(actor, "Attributes", NULL);
	v = get_path(root, "Action", NULL);
	if (copy_field(v ? v : get_path(root, "status", NULL), "event action", out->action,
		       sizeof(out->action), err, errlen))
		goto out;
	v = get_path(actor, "ID", NULL);
	if (copy_id(v ? v : get_path(root, "id", NULL), out->id, err, errlen) ||
	    copy_name(get_path(attrs, "name", NULL), out->name, err, errlen) ||
	    copy_field(get_path(attrs, NC_DOCKER_SERVICE_LABEL, NULL), "service label",
		       out->service, sizeof(out->service), err, errlen))
		goto out;
	if (!out->action[0]) {
		snprintf(err, errlen, "Docker event without an action");
		goto out;
	}
	v = get_path(attrs, "exitCode", NULL);
	if (v) /* a string in Attributes */
		out->exit_code = atoi(json_object_get_string(v));
	v = get_path(root, "timeNano", NULL);
	if (v)
		out->time_nano = json_object_get_int64(v);
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

int nc_docker_api_error(int status, const char *body, size_t len, char *err, size_t errlen)
{
	struct json_object *root = NULL, *msg;
	char jerr[64];

	if (body && len)
		root = parse_json(body, len, jerr, sizeof(jerr));
	if (root && json_object_object_get_ex(root, "message", &msg) &&
	    json_object_is_type(msg, json_type_string))
		snprintf(err, errlen, "%s", json_object_get_string(msg));
	else
		snprintf(err, errlen, "Docker answered HTTP %d", status);
	json_object_put(root);

	switch (status) {
	case 400:
		return -EINVAL;
	case 404:
		return -ENOENT;
	case 409:
		return -EBUSY;
	default:
		return status >= 500 ? -EIO : -EPROTO;
	}
}

/* ---- requests ------------------------------------------------------------- */

struct nc_docker_req *nc_docker_req_new(const struct nc_docker *d, nc_docker_done_fn done,
					void *arg)
{
	struct nc_docker_req *req = malloc(sizeof(*req));

	if (!req)
		return NULL;
	memset(req, 0, offsetof(struct nc_docker_req, resp));
	nc_http_resp_init(&req->resp, 0, NULL, NULL);
	req->dock = *d;
	req->fd = -1;
	req->done = done;
	req->arg = arg;
	return req;
}

void nc_docker_req_free(struct nc_docker_req *req)
{
	if (!req)
		return;
	if (req->fd >= 0)
		close(req->fd);
	nc_http_resp_free(&req->resp);
	free(req->out);
	free(req->line);
	free(req);
}

int nc_docker_req_fd(const struct nc_docker_req *req)
{
	return req->fd;
}

uint32_t nc_docker_req_poll_events(const struct nc_docker_req *req)
{
	switch (req->state) {
	case RQ_SEND:
		return EPOLLOUT;
	case RQ_RECV:
		return EPOLLIN;
	default:
		return 0;
	}
}

bool nc_docker_req_finished(const struct nc_docker_req *req)
{
	return req->state == RQ_DONE;
}

bool nc_docker_req_streaming(const struct nc_docker_req *req)
{
	return req->op == OP_EVENTS && req->state == RQ_RECV && req->resp.headers_done &&
	       req->resp.status == 200;
}

int nc_docker_req_status(const struct nc_docker_req *req)
{
	return req->status;
}

const char *nc_docker_req_error(const struct nc_docker_req *req)
{
	return req->err;
}

static int event_line(struct nc_docker_req *req, const char *line, size_t len)
{
	struct nc_docker_event ev;
	char err[256];
	int ret;

	while (len && strchr(" \t\r", line[len - 1]))
		len--;
	if (!len)
		return 0;
	ret = nc_docker_parse_event(line, len, &ev, err, sizeof(err));
	if (ret < 0) {
		snprintf(req->err, sizeof(req->err), "Docker event stream at %s: %s",
			 req->dock.sock_path, err);
		return ret;
	}
	if (ret > 0)
		return 0;
	ret = req->on_event(req, &ev, req->arg);
	if (ret < 0 && !req->err[0])
		snprintf(req->err, sizeof(req->err), "event stream ended by its reader: %s",
			 strerror(-ret));
	return ret;
}

/* Body bytes of /events: one JSON object per line, lines split anyhow. */
static int events_body(struct nc_http_resp *r, const char *data, size_t len, void *arg)
{
	struct nc_docker_req *req = arg;

	if (r->status != 200)
		return nc_http_resp_append_body(r, data, len); /* the error message */
	while (len) {
		const char *lf = memchr(data, '\n', len);
		size_t n = lf ? (size_t)(lf - data) : len;
		int ret;

		if (req->line_len + n > EVENT_LINE_MAX) {
			snprintf(req->err, sizeof(req->err),
				 "Docker event stream at %s: an event over %d bytes",
				 req->dock.sock_path, EVENT_LINE_MAX);
			return -EMSGSIZE;
		}
		if (!lf || req->line_len) {
			if (req->line_len + n + 1 > req->line_cap) {
				size_t cap = req->line_cap ? req->line_cap * 2 : 4096;
				char *p;

				while (cap < req->line_len + n + 1)
					cap *= 2;
				p = realloc(req->line, cap);
				if (!p)
					return -ENOMEM;
				req->line = p;
				req->line_cap = cap;
			}
			memcpy(req->line + req->line_len, data, n);
			req->line_len += n;
		}
		if (!lf)
			return 0;
		/* complete line: straight from data unless it began earlier */
		ret = req->line_len ? event_line(req, req->line, req->line_len) :
				      event_line(req, data, n);
		req->line_len = 0;
		if (ret)
			return ret;
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* The whole answer is in: turn it into the result or an error. */
static int complete(struct nc_docker_req *req)
{
	struct nc_http_resp *r = &req->resp;
	char err[256];
	int ret;

	if (r->status < 200 || r->status > 299) {
		ret = nc_docker_api_error(r->status, r->body, r->body_len, err, sizeof(err));
		if (req->op == OP_INSPECT && r->status == 404)
			snprintf(req->err, sizeof(req->err), "no such container: %s", req->what);
		else
			snprintf(req->err, sizeof(req->err), "Docker at %s: %s", req->dock.sock_path,
				 err);
		return ret;
	}
	switch (req->op) {
	case OP_INSPECT:
		ret = nc_docker_parse_inspect(r->body, r->body_len, req->container, err, sizeof(err));
		break;
	case OP_LIST:
		ret = nc_docker_parse_list(r->body, r->body_len, req->list, err, sizeof(err));
		break;
	default:
		snprintf(req->err, sizeof(req->err), "Docker at %s closed the event stream",
			 req->dock.sock_path);
		return -ECONNRESET;
	}
	if (ret)
		snprintf(req->err, sizeof(req->err), "Docker at %s: %s", req->dock.sock_path, err);
	return ret;
}

static int finish(struct nc_docker_req *req, int status)
{
	if (status < 0 && !req->err[0]) {
		const char *p = req->dock.sock_path;

		if (status == -EPROTO)
			snprintf(req->err, sizeof(req->err), "malformed HTTP answer from Docker at %s",
				 p);
		else if (status == -EMSGSIZE)
			snprintf(req->err, sizeof(req->err), "answer from Docker at %s too large", p);
		else
			snprintf(req->err, sizeof(req->err), "Docker at %s: %s", p, strerror(-status));
	}
	req->state = RQ_DONE;
	req->status = status;
	pr_debug("docker: %.*s -> %d %s", (int)strcspn(req->out, "\r"), req->out,
		 req->resp.status, status ? req->err : "");
	if (req->done)
		req->done(req, status, req->arg); /* may free req: nothing after it */
	return 1;
}

static int lost(struct nc_docker_req *req, int errnum)
{
	snprintf(req->err, sizeof(req->err), "lost connection to Docker at %s: %s",
		 req->dock.sock_path, strerror(errnum));
	return -errnum;
}

static int do_send(struct nc_docker_req *req)
{
	if (req->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(req->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			soerr = errno;
		if (soerr) {
			snprintf(req->err, sizeof(req->err), "cannot reach Docker at %s: %s",
				 req->dock.sock_path, strerror(soerr));
			return -soerr;
		}
		req->connecting = false;
	}
	while (req->out_off < req->out_len) {
		ssize_t n = send(req->fd, req->out + req->out_off, req->out_len - req->out_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return lost(req, errno);
		}
		req->out_off += (size_t)n;
	}
	req->state = RQ_RECV;
	return 0;
}

/* 0: wait for more, NC_HTTP_DONE: answer complete, -errno. */
static int do_recv(struct nc_docker_req *req)
{
	char buf[RECV_BUF];

	for (int i = 0; i < RECV_PER_READY; i++) {
		ssize_t n = recv(req->fd, buf, sizeof(buf), 0);
		int ret;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return lost(req, errno);
		}
		if (n == 0) {
			if (!req->resp.headers_done && !req->resp.head_len) {
				snprintf(req->err, sizeof(req->err),
					 "Docker at %s closed the connection without answering",
					 req->dock.sock_path);
				return -ECONNRESET;
			}
			if (req->op == OP_EVENTS && nc_docker_req_streaming(req)) {
				snprintf(req->err, sizeof(req->err),
					 "Docker at %s closed the event stream", req->dock.sock_path);
				return -ECONNRESET;
			}
			ret = nc_http_resp_eof(&req->resp);
		} else {
			ret = nc_http_resp_feed(&req->resp, buf, (size_t)n);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int nc_docker_req_on_ready(struct nc_docker_req *req)
{
	int ret;

	if (req->state == RQ_DONE)
		return 1;
	if (req->state == RQ_SEND) {
		ret = do_send(req);
		if (ret < 0)
			return finish(req, ret);
		return 0;
	}
	if (req->state != RQ_RECV)
		return 0;
	ret = do_recv(req);
	if (ret == NC_HTTP_DONE)
		ret = complete(req);
	else if (!ret)
		return 0;
	return finish(req, ret);
}

static int req_start(struct nc_docker_req *req, enum req_op op, const char *what,
		     const char *path, const char *query)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (req->state != RQ_IDLE) {
		snprintf(req->err, sizeof(req->err), "docker request already started");
		return -EBUSY;
	}
	snprintf(req->what, sizeof(req->what), "%s", what);
	if (asprintf(&req->out,
		     "GET %s%s%s HTTP/1.1\r\n"
		     "Host: docker\r\n"
		     "User-Agent: netchaosd\r\n"
		     "Accept: application/json\r\n"
		     "Connection: close\r\n\r\n",
		     path, *query ? "?" : "", query) < 0) {
		req->out = NULL;
		snprintf(req->err, sizeof(req->err), "out of memory");
		return -ENOMEM;
	}
	req->out_len = strlen(req->out);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(req->err, sizeof(req->err), "cannot reach Docker at %s: %s",
			 req->dock.sock_path, strerror(errno));
		return ret;
	}
	strcpy(sa.sun_path, req->dock.sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			snprintf(req->err, sizeof(req->err), "cannot reach Docker at %s: %s",
				 req->dock.sock_path, strerror(errno));
			close(fd);
			return ret;
		}
		req->connecting = true;
	}
	req->fd = fd;
	req->op = op;
	req->state = RQ_SEND;
	nc_http_resp_init(&req->resp, 0, op == OP_EVENTS ? events_body : NULL, req);
	return 0;
}

/* Names are [A-Za-z0-9][A-Za-z0-9_.-]*, ids hex: anything else cannot exist
 * and must not reach the URL. */
static bool valid_container_ref(const char *s)
{
	if (!*s || *s == '.' || *s == '-' || *s == '_')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

int nc_docker_req_inspect(struct nc_docker_req *req, const char *name_or_id,
			  struct nc_docker_container *out)
{
	const char *ref = name_or_id && *name_or_id == '/' ? name_or_id + 1 : name_or_id;
	char path[NC_DOCKER_NAME_MAX + 32];

	if (!ref || strlen(ref) >= NC_DOCKER_NAME_MAX || !valid_container_ref(ref)) {
		snprintf(req->err, sizeof(req->err), "invalid container name or id: %s",
			 name_or_id ? name_or_id : "(null)");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/containers/%s/json", ref);
	req->container = out;
	return req_start(req, OP_INSPECT, name_or_id, path, "");
}

int nc_docker_req_list(struct nc_docker_req *req, const char *const *labels, size_t nlabels,
		       struct nc_docker_list *out)
{
	char query[4096];
	int ret;

	ret = nc_docker_list_query(labels, nlabels, query, sizeof(query));
	if (ret) {
		snprintf(req->err, sizeof(req->err), "label filters too long");
		return ret;
	}
	out->items = NULL;
	out->count = 0;
	req->list = out;
	return req_start(req, OP_LIST, "", "/containers/json", query);
}

int nc_docker_req_events(struct nc_docker_req *req, const char *const *labels, size_t nlabels,
			 int64_t since_ns, nc_docker_event_fn on_event)
{
	char query[4096];
	int ret;

	if (!on_event) {
		snprintf(req->err, sizeof(req->err), "docker events need a callback");
		return -EINVAL;
	}
	ret = nc_docker_events_query(labels, nlabels, since_ns, query, sizeof(query));
	if (ret) {
		snprintf(req->err, sizeof(req->err), "label filters too long");
		return ret;
	}
	req->on_event = on_event;
	return req_start(req, OP_EVENTS, "", "/events", query);
}

/* ---- synchronous helpers -------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nc_docker_req_wait(struct nc_docker_req *req, int timeout_ms, bool streaming_only)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (req->state != RQ_DONE) {
		struct pollfd pfd = { .fd = req->fd };
		int64_t left;
		int n;

		if (streaming_only && nc_docker_req_streaming(req))
			return 0;
		if (req->state == RQ_IDLE)
			return -EINVAL;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		pfd.events = nc_docker_req_poll_events(req) == EPOLLOUT ? POLLOUT : POLLIN;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			nc_docker_req_on_ready(req);
	}
	return req->status;
}

static int run_sync(struct nc_docker_req *req, int ret, int timeout_ms, char *err, size_t errlen)
{
	if (!ret)
		ret = nc_docker_req_wait(req, timeout_ms, false);
	if (ret == -ETIMEDOUT && !nc_docker_req_finished(req))
		snprintf(err, errlen, "Docker at %s did not answer within %d ms",
			 req->dock.sock_path, timeout_ms);
	else if (ret)
		snprintf(err, errlen, "%s", req->err);
	nc_docker_req_free(req);
	return ret;
}

int nc_docker_inspect(const struct nc_docker *d, const char *name_or_id,
		      struct nc_docker_container *out, int timeout_ms, char *err, size_t errlen)
{
	struct nc_docker_req *req = nc_docker_req_new(d, NULL, NULL);

	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return run_sync(req, nc_docker_req_inspect(req, name_or_id, out), timeout_ms, err, errlen);
}

int nc_docker_list(const struct nc_docker *d, const char *const *labels, size_t nlabels,
		   struct nc_docker_list *out, int timeout_ms, char *err, size_t errlen)
{
	struct nc_docker_req *req = nc_docker_req_new(d, NULL, NULL);
	int ret;

	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = run_sync(req, nc_docker_req_list(req, labels, nlabels, out), timeout_ms, err, errlen);
	if (ret)
		nc_docker_list_free(out);
	return ret;
}

int nc_docker_list_service(const struct nc_docker *d, const char *service,
			   struct nc_docker_list *out, int timeout_ms, char *err, size_t errlen)
{
	char label[NC_DOCKER_NAME_MAX + sizeof(NC_DOCKER_SERVICE_LABEL) + 1];
	const char *labels[] = { label };

	if (nc_docker_service_filter(service, label, sizeof(label))) {
		snprintf(err, errlen, "invalid compose service name: %s", service ? service : "");
		return -EINVAL;
	}
	return nc_docker_list(d, labels, 1, out, timeout_ms, err, errlen);
}
