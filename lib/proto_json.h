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

/* Serialize to one line with '\n' (caller frees). */
char *nc_msg_serialize(json_object *obj, size_t *len);

#endif
