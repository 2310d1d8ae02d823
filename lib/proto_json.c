// SPDX-License-Identifier: GPL-2.0-only
/*
 * The wire protocol in JSON (json-c): framing checks of one message, the
 * envelope of requests and replies, and the spec <-> JSON mapping. Decoding
 * of requests is strict because the agent acts on them with privileges: an
 * unknown field is an error rather than a silently ignored wish. Decoding of
 * rule objects in replies is tolerant, because replies only ever gain fields.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "netem.h"
#include "proto_json.h"
#include "spec.h"
#include "units.h"

#define NC_JSON_MAX_DEPTH 16

/* ---- framing and envelope ---- */

static bool only_blanks(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/*
 * json-c's strict mode still takes 'single-quoted' strings, which are not
 * JSON: find a quote outside a string. -1 if there is none.
 */
static long single_quote_at(const char *s, size_t n)
{
	bool in_string = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		} else if (s[i] == '"') {
			in_string = true;
		} else if (s[i] == '\'') {
			return (long)i;
		}
	}
	return -1;
}

static const char *type_name(json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

enum msg_kind { MSG_ANY, MSG_REQUEST, MSG_REPLY };

static int check_envelope(json_object *msg, enum msg_kind kind, char *err, size_t errlen)
{
	json_object *v, *ok = NULL, *cmd, *error;
	bool has_ok = json_object_object_get_ex(msg, "ok", &ok);
	bool is_reply = kind == MSG_REPLY || (kind == MSG_ANY && has_ok);
	int64_t version;

	if (!json_object_object_get_ex(msg, "v", &v)) {
		nc_set_err(err, errlen, "message has no protocol version field 'v'");
		return -EPROTO;
	}
	if (!json_object_is_type(v, json_type_int)) {
		nc_set_err(err, errlen, "field 'v' must be an integer, not %s", type_name(v));
		return -EINVAL;
	}
	version = json_object_get_int64(v);
	if (version != NC_PROTO_VERSION) {
		if (is_reply)
			nc_set_err(err, errlen, "netchaosd speaks protocol version %lld; this chaosctl speaks %d",
				   (long long)version, NC_PROTO_VERSION);
		else
			nc_set_err(err, errlen, "protocol version %lld not supported (this agent speaks %d)",
				   (long long)version, NC_PROTO_VERSION);
		return -EPROTO;
	}
	if (is_reply) {
		if (!has_ok) {
			nc_set_err(err, errlen, "reply has no field 'ok'");
			return -EINVAL;
		}
		if (!json_object_is_type(ok, json_type_boolean)) {
			nc_set_err(err, errlen, "field 'ok' must be a boolean, not %s", type_name(ok));
			return -EINVAL;
		}
		if (!json_object_get_boolean(ok) &&
		    (!json_object_object_get_ex(msg, "error", &error) ||
		     !json_object_is_type(error, json_type_string))) {
			nc_set_err(err, errlen, "error reply without a string field 'error'");
			return -EINVAL;
		}
		return 0;
	}
	if (!json_object_object_get_ex(msg, "cmd", &cmd)) {
		nc_set_err(err, errlen, "request has no field 'cmd'");
		return -EINVAL;
	}
	if (!json_object_is_type(cmd, json_type_string)) {
		nc_set_err(err, errlen, "field 'cmd' must be a string, not %s", type_name(cmd));
		return -EINVAL;
	}
	return 0;
}

static int msg_parse(const char *buf, size_t len, enum msg_kind kind, json_object **out,
		     char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *msg;
	size_t end;
	long quote;
	int ret;

	*out = NULL;
	if (len > (kind == MSG_REPLY ? (size_t)NC_PROTO_MAX_REPLY : NC_PROTO_MAX_MSG)) {
		nc_set_err(err, errlen, "message of %zu bytes exceeds the limit of %d", len,
			   kind == MSG_REPLY ? NC_PROTO_MAX_REPLY : NC_PROTO_MAX_MSG);
		return -EMSGSIZE;
	}
	if (memchr(buf, '\0', len)) {
		nc_set_err(err, errlen, "message contains a NUL byte");
		return -EINVAL;
	}
	if (only_blanks(buf, len)) {
		nc_set_err(err, errlen, "empty message");
		return -EINVAL;
	}
	/* Checked before parsing: a bare number is "incomplete" to the tokener. */
	if (buf[strspn(buf, " \t\r\n")] != '{') {
		nc_set_err(err, errlen, "message must be a JSON object");
		return -EINVAL;
	}
	quote = single_quote_at(buf, len);
	if (quote >= 0) {
		nc_set_err(err, errlen, "invalid JSON: single quote (at byte %ld)", quote);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(NC_JSON_MAX_DEPTH);
	if (!tok) {
		nc_set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	msg = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!msg || jerr != json_tokener_success) {
		/* A parser still waiting for input means the message was cut short. */
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			nc_set_err(err, errlen, "truncated JSON message");
		else
			nc_set_err(err, errlen, "invalid JSON: %s (at byte %zu)",
				   json_tokener_error_desc(jerr), end);
		json_object_put(msg);
		return -EINVAL;
	}
	if (!only_blanks(buf + end, len - end)) {
		nc_set_err(err, errlen, "invalid JSON: unexpected data after the message (at byte %zu)",
			   end);
		json_object_put(msg);
		return -EINVAL;
	}
	ret = check_envelope(msg, kind, err, errlen);
	if (ret) {
		json_object_put(msg);
		return ret;
	}
	*out = msg;
	return 0;
}

int nc_msg_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
	return msg_parse(buf, len, MSG_ANY, out, err, errlen);
}

int nc_request_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
	return msg_parse(buf, len, MSG_REQUEST, out, err, errlen);
}

int nc_reply_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
	return msg_parse(buf, len, MSG_REPLY, out, err, errlen);
}

/* obj[key] = val, taking val's reference; false (and val freed) on failure. */
static bool put(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

json_object *nc_request_new(const char *cmd)
{
	json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	if (!put(obj, "v", json_object_new_int(NC_PROTO_VERSION)) ||
	    !put(obj, "cmd", json_object_new_string(cmd))) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

json_object *nc_reply_ok(void)
{
	json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	if (!put(obj, "v", json_object_new_int(NC_PROTO_VERSION)) ||
	    !put(obj, "ok", json_object_new_boolean(1))) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

json_object *nc_reply_error(const char *fmt, ...)
{
	json_object *obj = json_object_new_object();
	char msg[1024], line[1024];
	va_list ap;

	if (!obj)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nc_set_err(line, sizeof(line), "%s", msg); /* one line, whatever fmt said */
	if (!put(obj, "v", json_object_new_int(NC_PROTO_VERSION)) ||
	    !put(obj, "ok", json_object_new_boolean(0)) ||
	    !put(obj, "error", json_object_new_string(line))) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

char *nc_msg_serialize(json_object *obj, size_t *len)
{
	const char *s;
	size_t n;
	char *line;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return NULL;
	line = malloc(n + 2);
	if (!line)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

/* ---- spec -> JSON ---- */

/* Append s to obj[key], creating the array on first use. */
static bool put_string_array(json_object *obj, const char *key, json_object **arr,
			     const char *s)
{
	json_object *str;

	if (!*arr) {
		*arr = json_object_new_array();
		if (!put(obj, key, *arr)) {
			*arr = NULL;
			return false;
		}
	}
	str = json_object_new_string(s);
	if (!str)
		return false;
	if (json_object_array_add(*arr, str)) {
		json_object_put(str);
		return false;
	}
	return true;
}

/* obj[key] = prob as a percent number, written the way people write it:
 * the shortest decimal that reads back as the same probability, so "0.1"
 * goes out as 0.1 rather than 0.099999997. */
static json_object *percent_json(uint32_t prob)
{
	char pct[32];

	nc_format_percent_number(prob, pct, sizeof(pct));
	return json_object_new_double_s(nc_prob_to_percent(prob), pct);
}

/* Optional members: nothing to add when the value is the default (0). */
static bool put_pct(json_object *obj, const char *key, uint32_t prob)
{
	return !prob || put(obj, key, percent_json(prob));
}

static bool put_u64(json_object *obj, const char *key, uint64_t v)
{
	return !v || put(obj, key, json_object_new_uint64(v));
}

/* The "netem" object: only the values set (zero means "not used"); NULL
 * with *none when there are none. */
static json_object *netem_to_json(const struct nc_netem_params *p, bool *none)
{
	json_object *netem = json_object_new_object(), *arr;
	uint32_t v[5];
	int i, n;

	*none = false;
	if (!netem)
		return NULL;
	if (!put_u64(netem, "latency_ns", p->latency_ns) ||
	    !put_u64(netem, "jitter_ns", p->jitter_ns) ||
	    !put_pct(netem, "latency_corr", p->latency_corr))
		goto fail;
	if (p->dist != NC_NETEM_DIST_NONE &&
	    !put(netem, "distribution", json_object_new_string(nc_netem_dist_name(p->dist))))
		goto fail;
	if (p->loss_model.model != NC_NETEM_LOSS_RANDOM) {
		if (!put(netem, "loss_model",
			 json_object_new_string(nc_loss_model_name(p->loss_model.model))))
			goto fail;
		arr = json_object_new_array();
		if (!put(netem, "loss_params", arr))
			goto fail;
		n = nc_netem_loss_params(p, v);
		for (i = 0; i < n; i++) {
			json_object *num = percent_json(v[i]);

			if (!num || json_object_array_add(arr, num)) {
				json_object_put(num);
				goto fail;
			}
		}
	}
	if (!put_pct(netem, "loss_corr", p->loss_corr) ||
	    !put_pct(netem, "duplicate", p->duplicate) ||
	    !put_pct(netem, "dup_corr", p->dup_corr) || !put_pct(netem, "reorder", p->reorder) ||
	    !put_pct(netem, "reorder_corr", p->reorder_corr) || !put_u64(netem, "gap", p->gap) ||
	    !put_u64(netem, "rate_bps", p->rate_bps))
		goto fail;
	if (p->packet_overhead &&
	    !put(netem, "packet_overhead", json_object_new_int(p->packet_overhead)))
		goto fail;
	if (!put_u64(netem, "limit", p->limit))
		goto fail;
	if (p->ecn && !put(netem, "ecn", json_object_new_boolean(1)))
		goto fail;
	if (json_object_object_length(netem) == 0) {
		json_object_put(netem);
		*none = true;
		return NULL;
	}
	return netem;
fail:
	json_object_put(netem);
	return NULL;
}

static json_object *fault_to_json(const struct nc_rule_spec *spec)
{
	json_object *fault = json_object_new_object(), *netem;
	bool model = spec->netem.loss_model.model != NC_NETEM_LOSS_RANDOM, none;

	if (!fault)
		return NULL;
	if (!put(fault, "kind", json_object_new_string(nc_fault_kind_name(spec->kind))))
		goto fail;
	/* loss and corrupt always carry their percentage; a percentage where
	 * it does not belong goes out too, for the reader to refuse */
	if ((spec->kind == NC_FAULT_LOSS && !model) || spec->kind == NC_FAULT_CORRUPT ||
	    (spec->prob && nc_spec_is_netem(spec)))
		if (!put(fault, "percent", percent_json(spec->prob)))
			goto fail;
	if (spec->kind == NC_FAULT_CORRUPT || spec->payload)
		if (!put(fault, "payload", json_object_new_boolean(spec->payload)))
			goto fail;
	netem = netem_to_json(&spec->netem, &none);
	if (!none && !put(fault, "netem", netem))
		goto fail;
	return fault;
fail:
	json_object_put(fault);
	return NULL;
}

/* obj[key] = the n strings of refs, if there are any. */
static bool put_refs(json_object *obj, const char *key, uint8_t n,
		     const char (*refs)[NC_CONTAINER_REF_MAX])
{
	json_object *arr = NULL;
	char buf[NC_CONTAINER_REF_MAX];
	unsigned int i;

	for (i = 0; i < n && i < NC_RULE_MAX_CONTAINERS; i++) {
		snprintf(buf, sizeof(buf), "%.*s", NC_CONTAINER_REF_MAX - 1, refs[i]);
		if (!put_string_array(obj, key, &arr, buf))
			return false;
	}
	return true;
}

static json_object *target_to_json(const struct nc_rule_spec *spec)
{
	static const char *const port_keys[] = {
		[NC_PORT_EITHER] = "ports", [NC_PORT_SRC] = "sports", [NC_PORT_DST] = "dports",
	};
	static const uint8_t protos[] = { NC_PROTO_TCP, NC_PROTO_UDP, NC_PROTO_ICMP };
	json_object *target = json_object_new_object();
	json_object *arrs[4] = { NULL }, *arr = NULL;
	char buf[64], member[NC_CONTAINER_REF_MAX + 16];
	unsigned int i;

	if (!target)
		return NULL;
	/* One array per port kind, in the order the kinds are listed. */
	for (i = 0; i < spec->n_ports && i < NC_RULE_MAX_PORTS; i++) {
		uint8_t kind = spec->ports[i].kind;

		if (kind != NC_PORT_EITHER && kind != NC_PORT_SRC && kind != NC_PORT_DST)
			goto fail;
		nc_format_port(&spec->ports[i], buf, sizeof(buf));
		if (!put_string_array(target, port_keys[kind], &arrs[kind], buf))
			goto fail;
	}
	for (i = 0; i < sizeof(protos); i++)
		if ((spec->proto_mask & protos[i]) &&
		    !put_string_array(target, "protos", &arr, nc_proto_name(protos[i])))
			goto fail;
	arr = NULL;
	for (i = 0; i < spec->n_cidrs && i < NC_RULE_MAX_CIDRS; i++) {
		nc_format_cidr(&spec->cidrs[i], buf, sizeof(buf));
		if (!put_string_array(target, "ips", &arr, buf))
			goto fail;
	}
	arr = NULL;
	for (i = 0; i < spec->n_ifaces && i < NC_RULE_MAX_IFACES; i++) {
		snprintf(buf, sizeof(buf), "%.*s", IF_NAMESIZE, spec->ifaces[i]);
		if (!put_string_array(target, "ifaces", &arr, buf))
			goto fail;
	}
	if (spec->netns[0] &&
	    !put(target, "netns", json_object_new_string_len(spec->netns,
							      (int)strnlen(spec->netns, NC_NETNS_MAX))))
		goto fail;
	if (spec->dir_mask &&
	    !put(target, "direction", json_object_new_string(nc_direction_name(spec->dir_mask))))
		goto fail;
	if (!put_refs(target, "containers", spec->n_containers, spec->containers) ||
	    !put_refs(target, "labels", spec->n_labels, spec->labels) ||
	    !put_refs(target, "services", spec->n_services, spec->services))
		goto fail;
	if (spec->allow_host_network &&
	    !put(target, "allow_host_network", json_object_new_boolean(1)))
		goto fail;
	if (spec->n_groups) {
		json_object *groups = json_object_new_array();

		if (!put(target, "groups", groups))
			goto fail;
		for (i = 0; i < spec->n_groups && i < NC_MAX_GROUPS; i++) {
			const struct nc_group *g = &spec->groups[i];
			json_object *members = json_object_new_array();
			unsigned int m;

			if (!members || json_object_array_add(groups, members)) {
				json_object_put(members);
				goto fail;
			}
			for (m = 0; m < g->n_members && m < NC_GROUP_MAX_MEMBERS; m++) {
				json_object *str;

				nc_group_member_format(&g->members[m], member, sizeof(member));
				str = json_object_new_string(member);
				if (!str || json_object_array_add(members, str)) {
					json_object_put(str);
					goto fail;
				}
			}
		}
	}
	if (spec->one_way && !put(target, "one_way", json_object_new_boolean(1)))
		goto fail;
	return target;
fail:
	json_object_put(target);
	return NULL;
}

static int spec_fields_to_json(const struct nc_rule_spec *spec, json_object *obj, bool request)
{
	if (!put(obj, "fault", fault_to_json(spec)) || !put(obj, "target", target_to_json(spec)) ||
	    !put(obj, "duration_ms", json_object_new_uint64(spec->duration_ms)))
		return -ENOMEM;
	if (request && (!put(obj, "dry_run", json_object_new_boolean(spec->dry_run)) ||
			!put(obj, "force", json_object_new_boolean(spec->force))))
		return -ENOMEM;
	return 0;
}

int nc_spec_to_json(const struct nc_rule_spec *spec, json_object *obj)
{
	return spec_fields_to_json(spec, obj, true);
}

int nc_change_to_json(const struct nc_change_req *req, json_object *obj)
{
	if (!put(obj, "id", json_object_new_int64(req->id)))
		return -ENOMEM;
	if (req->has_fault && !put(obj, "fault", fault_to_json(&req->fault)))
		return -ENOMEM;
	if (req->has_duration && !put_u64(obj, "duration_ms", req->duration_ms))
		return -ENOMEM;
	if (req->dry_run && !put(obj, "dry_run", json_object_new_boolean(1)))
		return -ENOMEM;
	return 0;
}

int nc_wire_rule_to_json(const struct nc_wire_rule *rule, json_object *obj)
{
	if (!put(obj, "id", json_object_new_uint64(rule->id)))
		return -ENOMEM;
	if (spec_fields_to_json(&rule->spec, obj, false))
		return -ENOMEM;
	if (!put(obj, "remaining_ms", json_object_new_uint64(rule->remaining_ms)) ||
	    !put(obj, "matched", json_object_new_uint64(rule->matched)) ||
	    !put(obj, "affected", json_object_new_uint64(rule->affected)) ||
	    !put(obj, "state", json_object_new_string_len(rule->state,
							   (int)strnlen(rule->state, sizeof(rule->state)))))
		return -ENOMEM;
	if (rule->reason[0] &&
	    !put(obj, "reason", json_object_new_string_len(rule->reason,
							    (int)strnlen(rule->reason, sizeof(rule->reason)))))
		return -ENOMEM;
	return 0;
}

/* ---- JSON -> spec ---- */

struct decoder {
	bool strict; /* unknown fields are errors */
	char *err;
	size_t errlen;
};

/* In strict mode, every key of obj must be in known[] (NULL-terminated). */
static int check_known_fields(const struct decoder *d, json_object *obj, const char *const *known,
			      const char *where)
{
	if (!d->strict)
		return 0;
	json_object_object_foreach(obj, key, val) {
		const char *const *k;

		(void)val;
		for (k = known; *k; k++)
			if (!strcmp(key, *k))
				break;
		if (!*k) {
			nc_set_err(d->err, d->errlen, "unknown field '%s' in %s", key, where);
			return -EINVAL;
		}
	}
	return 0;
}

static int want_type(const struct decoder *d, json_object *val, json_type type, const char *path)
{
	static const char *const article[] = {
		[json_type_boolean] = "a boolean", [json_type_int] = "an integer",
		[json_type_string] = "a string",   [json_type_array] = "an array",
		[json_type_object] = "an object",  [json_type_double] = "a number",
	};

	if (json_object_is_type(val, type))
		return 0;
	nc_set_err(d->err, d->errlen, "%s must be %s, not %s", path, article[type], type_name(val));
	return -EINVAL;
}

/* A non-negative JSON integer. */
static int get_u64(const struct decoder *d, json_object *val, const char *path, uint64_t *out)
{
	if (want_type(d, val, json_type_int, path))
		return -EINVAL;
	if (json_object_get_int64(val) < 0) {
		nc_set_err(d->err, d->errlen, "%s must not be negative", path);
		return -EINVAL;
	}
	*out = json_object_get_uint64(val);
	return 0;
}

/* A percentage: an integer (30) or a decimal (0.1), 0 to 100. */
static int get_percent(const struct decoder *d, json_object *val, const char *path,
		       uint32_t *prob)
{
	if (!json_object_is_type(val, json_type_int) &&
	    want_type(d, val, json_type_double, path))
		return -EINVAL;
	if (nc_percent_to_prob(json_object_get_double(val), prob)) {
		nc_set_err(d->err, d->errlen, "%s %s is out of range (0 to 100)", path,
			   json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		return -EINVAL;
	}
	return 0;
}

static int get_u32(const struct decoder *d, json_object *val, const char *path, uint32_t *out)
{
	uint64_t v;

	if (get_u64(d, val, path, &v))
		return -EINVAL;
	if (v > UINT32_MAX) {
		nc_set_err(d->err, d->errlen, "%s %llu is out of range (at most %u)", path,
			   (unsigned long long)v, UINT32_MAX);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int decode_loss_model(const struct decoder *d, json_object *netem,
			     struct nc_netem_params *p)
{
	json_object *model, *params;
	uint32_t v[5];
	int m, max;
	size_t i, n;
	char path[48];

	if (!json_object_object_get_ex(netem, "loss_model", &model)) {
		if (json_object_object_get_ex(netem, "loss_params", &params)) {
			nc_set_err(d->err, d->errlen, "fault.netem.loss_params without a loss_model");
			return -EINVAL;
		}
		return 0;
	}
	if (want_type(d, model, json_type_string, "fault.netem.loss_model"))
		return -EINVAL;
	if (nc_loss_model_parse(json_object_get_string(model), &m, d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, "fault.netem.loss_model");
		return -EINVAL;
	}
	max = m == NC_NETEM_LOSS_GE ? 4 : 5;
	if (!json_object_object_get_ex(netem, "loss_params", &params)) {
		nc_set_err(d->err, d->errlen, "loss_model %s needs fault.netem.loss_params",
			   nc_loss_model_name(m));
		return -EINVAL;
	}
	if (want_type(d, params, json_type_array, "fault.netem.loss_params"))
		return -EINVAL;
	n = json_object_array_length(params);
	if (n < 1 || n > (size_t)max) {
		nc_set_err(d->err, d->errlen, "fault.netem.loss_params of %s has %zu values (1 to %d)",
			   nc_loss_model_name(m), n, max);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "fault.netem.loss_params[%zu]", i);
		if (get_percent(d, json_object_array_get_idx(params, i), path, &v[i]))
			return -EINVAL;
	}
	if (m == NC_NETEM_LOSS_GE)
		nc_netem_set_gemodel(p, v, (int)n);
	else
		nc_netem_set_gimodel(p, v, (int)n);
	return 0;
}

static int decode_netem(const struct decoder *d, json_object *netem, struct nc_netem_params *p)
{
	static const char *const known[] = {
		"latency_ns", "jitter_ns", "latency_corr", "distribution", "loss_model",
		"loss_params", "loss_corr", "duplicate", "dup_corr", "reorder", "reorder_corr",
		"gap", "rate_bps", "packet_overhead", "limit", "ecn", NULL
	};
	const struct {
		const char *key;
		uint32_t *prob;
	} percents[] = {
		{ "latency_corr", &p->latency_corr }, { "loss_corr", &p->loss_corr },
		{ "duplicate", &p->duplicate },	      { "dup_corr", &p->dup_corr },
		{ "reorder", &p->reorder },	      { "reorder_corr", &p->reorder_corr },
	};
	json_object *val;
	char path[48];
	size_t i;
	int ret;

	ret = want_type(d, netem, json_type_object, "fault.netem");
	if (!ret)
		ret = check_known_fields(d, netem, known, "fault.netem");
	if (ret)
		return ret;
	if (json_object_object_get_ex(netem, "latency_ns", &val) &&
	    get_u64(d, val, "fault.netem.latency_ns", &p->latency_ns))
		return -EINVAL;
	if (json_object_object_get_ex(netem, "jitter_ns", &val) &&
	    get_u64(d, val, "fault.netem.jitter_ns", &p->jitter_ns))
		return -EINVAL;
	for (i = 0; i < sizeof(percents) / sizeof(percents[0]); i++) {
		if (!json_object_object_get_ex(netem, percents[i].key, &val))
			continue;
		snprintf(path, sizeof(path), "fault.netem.%s", percents[i].key);
		if (get_percent(d, val, path, percents[i].prob))
			return -EINVAL;
	}
	if (json_object_object_get_ex(netem, "distribution", &val)) {
		if (want_type(d, val, json_type_string, "fault.netem.distribution"))
			return -EINVAL;
		if (nc_netem_parse_dist(json_object_get_string(val), &p->dist, d->err, d->errlen)) {
			nc_prefix_err(d->err, d->errlen, "fault.netem.distribution");
			return -EINVAL;
		}
	}
	if (decode_loss_model(d, netem, p))
		return -EINVAL;
	if (json_object_object_get_ex(netem, "gap", &val) &&
	    get_u32(d, val, "fault.netem.gap", &p->gap))
		return -EINVAL;
	if (json_object_object_get_ex(netem, "rate_bps", &val) &&
	    get_u64(d, val, "fault.netem.rate_bps", &p->rate_bps))
		return -EINVAL;
	if (json_object_object_get_ex(netem, "packet_overhead", &val)) {
		int64_t v;

		if (want_type(d, val, json_type_int, "fault.netem.packet_overhead"))
			return -EINVAL;
		v = json_object_get_int64(val);
		if (v < INT32_MIN || v > INT32_MAX) {
			nc_set_err(d->err, d->errlen, "fault.netem.packet_overhead %lld is out of range",
				   (long long)v);
			return -EINVAL;
		}
		p->packet_overhead = (int32_t)v;
	}
	if (json_object_object_get_ex(netem, "limit", &val) &&
	    get_u32(d, val, "fault.netem.limit", &p->limit))
		return -EINVAL;
	if (json_object_object_get_ex(netem, "ecn", &val)) {
		if (want_type(d, val, json_type_boolean, "fault.netem.ecn"))
			return -EINVAL;
		p->ecn = json_object_get_boolean(val);
	}
	return 0;
}

static int decode_fault(const struct decoder *d, json_object *fault, struct nc_rule_spec *spec)
{
	static const char *const known[] = { "kind", "percent", "payload", "netem", NULL };
	json_object *val;
	int ret;

	ret = want_type(d, fault, json_type_object, "fault");
	if (!ret)
		ret = check_known_fields(d, fault, known, "fault");
	if (ret)
		return ret;

	if (!json_object_object_get_ex(fault, "kind", &val)) {
		nc_set_err(d->err, d->errlen, "missing field 'fault.kind'");
		return -EINVAL;
	}
	if (want_type(d, val, json_type_string, "fault.kind"))
		return -EINVAL;
	if (nc_parse_fault_kind_err(json_object_get_string(val), &spec->kind, d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, "fault.kind");
		return -EINVAL;
	}

	/* Integers (30) and decimals (0.1) are both numbers here. */
	if (json_object_object_get_ex(fault, "percent", &val) &&
	    get_percent(d, val, "fault.percent", &spec->prob))
		return -EINVAL;
	if (json_object_object_get_ex(fault, "payload", &val)) {
		if (want_type(d, val, json_type_boolean, "fault.payload"))
			return -EINVAL;
		spec->payload = json_object_get_boolean(val);
	}
	if (json_object_object_get_ex(fault, "netem", &val))
		return decode_netem(d, val, &spec->netem);
	return 0;
}

/* Each string of the array arr (called where) goes through one(). */
static int decode_string_array(const struct decoder *d, json_object *arr, const char *where,
			       int (*one)(const struct decoder *, const char *, const char *, void *),
			       void *ctx)
{
	char path[64];
	size_t i, n;

	if (want_type(d, arr, json_type_array, where))
		return -EINVAL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(arr, i);
		int ret;

		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (want_type(d, item, json_type_string, path))
			return -EINVAL;
		ret = one(d, path, json_object_get_string(item), ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Each string of target[key] (if present) goes through one(). */
static int decode_strings(const struct decoder *d, json_object *target, const char *key,
			  int (*one)(const struct decoder *, const char *, const char *, void *),
			  void *ctx)
{
	json_object *arr;
	char where[48];

	if (!json_object_object_get_ex(target, key, &arr))
		return 0;
	snprintf(where, sizeof(where), "target.%s", key);
	return decode_string_array(d, arr, where, one, ctx);
}

/* obj[key], if present, must be a boolean (path names it in errors). */
static int decode_bool_at(const struct decoder *d, json_object *obj, const char *key,
			  const char *path, bool *out)
{
	json_object *val;

	if (!json_object_object_get_ex(obj, key, &val))
		return 0;
	if (want_type(d, val, json_type_boolean, path))
		return -EINVAL;
	*out = json_object_get_boolean(val);
	return 0;
}

struct port_ctx {
	struct nc_rule_spec *spec;
	uint8_t kind;
};

static int decode_port(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct port_ctx *pc = ctx;
	struct nc_port_spec *p;

	if (pc->spec->n_ports >= NC_RULE_MAX_PORTS) {
		nc_set_err(d->err, d->errlen, "too many ports in target (at most %d)",
			   NC_RULE_MAX_PORTS);
		return -EINVAL;
	}
	p = &pc->spec->ports[pc->spec->n_ports];
	if (nc_parse_port_range_err(s, &p->lo, &p->hi, d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, path);
		return -EINVAL;
	}
	p->kind = pc->kind;
	pc->spec->n_ports++;
	return 0;
}

static int decode_proto(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct nc_rule_spec *spec = ctx;
	uint8_t bit;

	if (nc_parse_proto_err(s, &bit, d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, path);
		return -EINVAL;
	}
	spec->proto_mask |= bit;
	return 0;
}

static int decode_ip(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct nc_rule_spec *spec = ctx;

	if (spec->n_cidrs >= NC_RULE_MAX_CIDRS) {
		nc_set_err(d->err, d->errlen, "too many addresses in target (at most %d)",
			   NC_RULE_MAX_CIDRS);
		return -EINVAL;
	}
	if (nc_parse_cidr_err(s, &spec->cidrs[spec->n_cidrs], d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, path);
		return -EINVAL;
	}
	spec->n_cidrs++;
	return 0;
}

static int decode_iface(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct nc_rule_spec *spec = ctx;

	if (spec->n_ifaces >= NC_RULE_MAX_IFACES) {
		nc_set_err(d->err, d->errlen, "too many interfaces in target (at most %d)",
			   NC_RULE_MAX_IFACES);
		return -EINVAL;
	}
	if (!nc_ifname_valid(s)) {
		nc_set_err(d->err, d->errlen, "%s: invalid interface name '%s'", path, s);
		return -EINVAL;
	}
	snprintf(spec->ifaces[spec->n_ifaces++], IF_NAMESIZE, "%s", s);
	return 0;
}

struct ref_ctx {
	enum nc_member_kind kind;
	const char *key;
	uint8_t *n;
	char (*refs)[NC_CONTAINER_REF_MAX];
};

static int decode_ref(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct ref_ctx *rc = ctx;

	if (*rc->n >= NC_RULE_MAX_CONTAINERS) {
		nc_set_err(d->err, d->errlen, "too many %s in target (at most %d)", rc->key,
			   NC_RULE_MAX_CONTAINERS);
		return -EINVAL;
	}
	if (nc_docker_ref_check(rc->kind, s, d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, path);
		return -EINVAL;
	}
	snprintf(rc->refs[(*rc->n)++], NC_CONTAINER_REF_MAX, "%s", s);
	return 0;
}

static int decode_member(const struct decoder *d, const char *path, const char *s, void *ctx)
{
	struct nc_group *g = ctx;

	if (g->n_members >= NC_GROUP_MAX_MEMBERS) {
		nc_set_err(d->err, d->errlen, "too many members in one group (at most %d)",
			   NC_GROUP_MAX_MEMBERS);
		return -EINVAL;
	}
	if (nc_group_member_parse(s, &g->members[g->n_members], d->err, d->errlen)) {
		nc_prefix_err(d->err, d->errlen, path);
		return -EINVAL;
	}
	g->n_members++;
	return 0;
}

/* "groups": [["web","label:k=v"],["db"]] */
static int decode_groups(const struct decoder *d, json_object *target, struct nc_rule_spec *spec)
{
	json_object *groups;
	char path[48];
	size_t i, n;

	if (!json_object_object_get_ex(target, "groups", &groups))
		return 0;
	if (want_type(d, groups, json_type_array, "target.groups"))
		return -EINVAL;
	n = json_object_array_length(groups);
	if (n > NC_MAX_GROUPS) {
		nc_set_err(d->err, d->errlen, "too many groups in target (at most %d)", NC_MAX_GROUPS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "target.groups[%zu]", i);
		if (decode_string_array(d, json_object_array_get_idx(groups, i), path,
					decode_member, &spec->groups[i]))
			return -EINVAL;
		spec->n_groups++;
	}
	return 0;
}

static int decode_target(const struct decoder *d, json_object *target, struct nc_rule_spec *spec)
{
	static const char *const known[] = { "ports", "sports", "dports", "protos", "ips",
					     "ifaces", "netns", "direction", "containers",
					     "labels", "services", "allow_host_network", "groups",
					     "one_way", NULL };
	struct port_ctx either = { spec, NC_PORT_EITHER }, src = { spec, NC_PORT_SRC },
			dst = { spec, NC_PORT_DST };
	struct ref_ctx containers = { NC_MEMBER_CONTAINER, "containers", &spec->n_containers,
				      spec->containers },
		       labels = { NC_MEMBER_LABEL, "labels", &spec->n_labels, spec->labels },
		       services = { NC_MEMBER_SERVICE, "services", &spec->n_services,
				    spec->services };
	json_object *val;
	int ret;

	ret = want_type(d, target, json_type_object, "target");
	if (!ret)
		ret = check_known_fields(d, target, known, "target");
	if (!ret)
		ret = decode_strings(d, target, "ports", decode_port, &either);
	if (!ret)
		ret = decode_strings(d, target, "sports", decode_port, &src);
	if (!ret)
		ret = decode_strings(d, target, "dports", decode_port, &dst);
	if (!ret)
		ret = decode_strings(d, target, "protos", decode_proto, spec);
	if (!ret)
		ret = decode_strings(d, target, "ips", decode_ip, spec);
	if (!ret)
		ret = decode_strings(d, target, "ifaces", decode_iface, spec);
	if (!ret)
		ret = decode_strings(d, target, "containers", decode_ref, &containers);
	if (!ret)
		ret = decode_strings(d, target, "labels", decode_ref, &labels);
	if (!ret)
		ret = decode_strings(d, target, "services", decode_ref, &services);
	if (!ret)
		ret = decode_groups(d, target, spec);
	if (!ret)
		ret = decode_bool_at(d, target, "allow_host_network", "target.allow_host_network",
				     &spec->allow_host_network);
	if (!ret)
		ret = decode_bool_at(d, target, "one_way", "target.one_way", &spec->one_way);
	if (ret)
		return ret;

	if (json_object_object_get_ex(target, "netns", &val)) {
		if (want_type(d, val, json_type_string, "target.netns"))
			return -EINVAL;
		if ((size_t)json_object_get_string_len(val) >= sizeof(spec->netns)) {
			nc_set_err(d->err, d->errlen, "target.netns is too long (at most %zu characters)",
				   sizeof(spec->netns) - 1);
			return -EINVAL;
		}
		snprintf(spec->netns, sizeof(spec->netns), "%s", json_object_get_string(val));
	}
	if (json_object_object_get_ex(target, "direction", &val)) {
		if (want_type(d, val, json_type_string, "target.direction"))
			return -EINVAL;
		if (nc_parse_direction_err(json_object_get_string(val), &spec->dir_mask, d->err,
					   d->errlen)) {
			nc_prefix_err(d->err, d->errlen, "target.direction");
			return -EINVAL;
		}
	}
	return 0;
}

static int decode_bool(const struct decoder *d, json_object *obj, const char *key, bool *out)
{
	return decode_bool_at(d, obj, key, key, out);
}

static int decode_spec(const struct decoder *d, json_object *obj, struct nc_rule_spec *spec)
{
	json_object *val;
	int ret;

	nc_spec_init(spec);
	if (!json_object_object_get_ex(obj, "fault", &val)) {
		nc_set_err(d->err, d->errlen, "missing field 'fault'");
		return -EINVAL;
	}
	ret = decode_fault(d, val, spec);
	if (ret)
		return ret;
	if (json_object_object_get_ex(obj, "target", &val)) {
		ret = decode_target(d, val, spec);
		if (ret)
			return ret;
	}
	if (json_object_object_get_ex(obj, "duration_ms", &val)) {
		ret = get_u64(d, val, "duration_ms", &spec->duration_ms);
		if (ret)
			return ret;
	}
	return 0;
}

int nc_spec_from_json(json_object *obj, struct nc_rule_spec *spec, char *err, size_t errlen)
{
	static const char *const known[] = { "v", "cmd", "fault", "target", "duration_ms",
					     "dry_run", "force", NULL };
	struct decoder d = { .strict = true, .err = err, .errlen = errlen };
	int ret;

	nc_spec_init(spec);
	ret = want_type(&d, obj, json_type_object, "request");
	if (!ret)
		ret = check_known_fields(&d, obj, known, "request");
	if (!ret)
		ret = decode_spec(&d, obj, spec);
	if (!ret)
		ret = decode_bool(&d, obj, "dry_run", &spec->dry_run);
	if (!ret)
		ret = decode_bool(&d, obj, "force", &spec->force);
	return ret;
}

int nc_change_from_json(json_object *obj, struct nc_change_req *req, char *err, size_t errlen)
{
	static const char *const known[] = { "v", "cmd", "id", "fault", "duration_ms", "dry_run",
					     NULL };
	struct decoder d = { .strict = true, .err = err, .errlen = errlen };
	json_object *val;
	uint64_t id;
	int ret;

	memset(req, 0, sizeof(*req));
	nc_spec_init(&req->fault);
	ret = want_type(&d, obj, json_type_object, "request");
	if (!ret)
		ret = check_known_fields(&d, obj, known, "change");
	if (ret)
		return ret;
	if (!json_object_object_get_ex(obj, "id", &val)) {
		nc_set_err(err, errlen, "change needs the id of a rule");
		return -EINVAL;
	}
	if (get_u64(&d, val, "id", &id))
		return -EINVAL;
	if (id == 0 || id > UINT32_MAX) {
		nc_set_err(err, errlen, "rule id must be a positive integer");
		return -EINVAL;
	}
	req->id = (uint32_t)id;
	if (json_object_object_get_ex(obj, "fault", &val)) {
		ret = decode_fault(&d, val, &req->fault);
		if (ret)
			return ret;
		req->has_fault = true;
	}
	if (json_object_object_get_ex(obj, "duration_ms", &val)) {
		if (get_u64(&d, val, "duration_ms", &req->duration_ms))
			return -EINVAL;
		req->has_duration = true;
		req->fault.duration_ms = req->duration_ms;
	}
	if (!req->has_fault && !req->has_duration) {
		nc_set_err(err, errlen, "change needs a 'fault', a 'duration_ms', or both");
		return -EINVAL;
	}
	return decode_bool(&d, obj, "dry_run", &req->dry_run);
}

int nc_wire_rule_from_json(json_object *obj, struct nc_wire_rule *rule, char *err, size_t errlen)
{
	struct decoder d = { .strict = false, .err = err, .errlen = errlen };
	json_object *val;
	uint64_t id;
	int ret;

	memset(rule, 0, sizeof(*rule));
	ret = want_type(&d, obj, json_type_object, "rule");
	if (!ret)
		ret = decode_spec(&d, obj, &rule->spec);
	if (ret)
		return ret;
	if (!json_object_object_get_ex(obj, "id", &val)) {
		nc_set_err(err, errlen, "rule without an 'id'");
		return -EINVAL;
	}
	if (get_u64(&d, val, "id", &id))
		return -EINVAL;
	if (id > UINT32_MAX) {
		nc_set_err(err, errlen, "rule id %llu is out of range", (unsigned long long)id);
		return -EINVAL;
	}
	rule->id = (uint32_t)id;
	if (json_object_object_get_ex(obj, "remaining_ms", &val) &&
	    get_u64(&d, val, "remaining_ms", &rule->remaining_ms))
		return -EINVAL;
	if (json_object_object_get_ex(obj, "matched", &val) &&
	    get_u64(&d, val, "matched", &rule->matched))
		return -EINVAL;
	if (json_object_object_get_ex(obj, "affected", &val) &&
	    get_u64(&d, val, "affected", &rule->affected))
		return -EINVAL;
	if (json_object_object_get_ex(obj, "state", &val)) {
		if (want_type(&d, val, json_type_string, "state"))
			return -EINVAL;
		snprintf(rule->state, sizeof(rule->state), "%s", json_object_get_string(val));
	}
	if (json_object_object_get_ex(obj, "reason", &val)) {
		if (want_type(&d, val, json_type_string, "reason"))
			return -EINVAL;
		snprintf(rule->reason, sizeof(rule->reason), "%s", json_object_get_string(val));
	}
	return 0;
}
