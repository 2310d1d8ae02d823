/* SPDX-License-Identifier: GPL-2.0-only */
/* JSON encoding and decoding of protocol messages (json-c). */
#ifndef NC_PROTO_JSON_H
#define NC_PROTO_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include "netchaos/proto.h"

/* Parse one message (no trailing newline required). Checks: size
 * <= NC_PROTO_MAX_MSG, a JSON object, "v" == NC_PROTO_VERSION, and for
 * requests a string "cmd". On error: -EINVAL/-EMSGSIZE/-EPROTO and err. */
int nc_msg_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen);

/* nc_msg_parse() for one side only (see below). */
int nc_request_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen);
int nc_reply_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen);

/* New request {"v":1,"cmd":cmd}. */
json_object *nc_request_new(const char *cmd);
/* New reply {"v":1,"ok":true}. */
json_object *nc_reply_ok(void);
/* New reply {"v":1,"ok":false,"error":"..."}. */
json_object *nc_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Add "fault", "target", "duration_ms", "dry_run", "force" of spec to obj. */
int nc_spec_to_json(const struct nc_rule_spec *spec, json_object *obj);
/* Read them back, strictly: unknown fields, wrong types, out-of-range values
 * are errors (-EINVAL and err). Does not run nc_spec_validate(). */
int nc_spec_from_json(json_object *obj, struct nc_rule_spec *spec, char *err, size_t errlen);

/* A change request's fields ("id", "fault" if has_fault, "duration_ms" if
 * has_duration, "dry_run" if set), and back, as strictly as
 * nc_spec_from_json(). */
int nc_change_to_json(const struct nc_change_req *req, json_object *obj);
int nc_change_from_json(json_object *obj, struct nc_change_req *req, char *err, size_t errlen);

/* Serialize to one line with '\n' (caller frees). */
char *nc_msg_serialize(json_object *obj, size_t *len);

/*
 * nc_msg_parse() tells requests from replies by the "ok" field: a reply has a
 * boolean "ok" (and, when false, a string "error"); a request has a string
 * "cmd". So a message with "ok" and no "cmd" passes it: the agent should use
 * nc_request_parse(), which always requires "cmd", and chaosctl
 * nc_reply_parse(), which always requires "ok". The version error names both
 * versions from the reader's side: "protocol version 2 not supported (this
 * agent speaks 1)" for a request, "netchaosd speaks protocol version 2; this
 * chaosctl speaks 1" for a reply.
 *
 * nc_spec_from_json() reads an add request: besides "v" and "cmd" only the
 * spec's fields are allowed. A missing "target" is an empty target (all
 * traffic), a missing "direction" is dir_mask 0 (not given: the agent
 * picks), a missing "duration_ms" is NC_DEFAULT_DURATION_MS; "fault" and
 * "fault.kind" are required. The encoder leaves out every optional member
 * that has its default: no "direction" for 0, no "netem" for a BPF fault and
 * only the netem values set, no empty arrays, no false booleans but "payload"
 * of corrupt.
 */

/* The rule object of add/list replies, without "interfaces". */
struct nc_wire_rule {
	uint32_t id;
	struct nc_rule_spec spec; /* dry_run and force are not part of a rule */
	uint64_t remaining_ms;
	uint64_t matched;
	uint64_t affected;
	char state[16];		  /* "active", "ended", ... */
	char reason[128];	  /* why it is not active ("container removed"); "" */
};

/* Add "id", "fault", "target", "duration_ms", "remaining_ms", "matched",
 * "affected", "state", and "reason" if there is one, to obj (the agent adds "interfaces"). 0 or -ENOMEM. */
int nc_wire_rule_to_json(const struct nc_wire_rule *rule, json_object *obj);
/* Read a rule object back. Tolerant, because replies only ever gain fields:
 * unknown fields (at any level) are skipped, known ones must have the right
 * type and value. -EINVAL and err. */
int nc_wire_rule_from_json(json_object *obj, struct nc_wire_rule *rule, char *err, size_t errlen);

#endif
