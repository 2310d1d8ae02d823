// SPDX-License-Identifier: GPL-2.0-only
/*
 * chaosctl's human output (see print.h). Scripts should use --json: this
 * layout is for people and may change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"
#include "spec.h"
#include "units.h"

/* Does the target name this container as it is (--container NAME, or a
 * group member NAME)? */
static bool named_in_target(const struct nc_rule_spec *spec, const char *name)
{
	unsigned int i, g;

	for (i = 0; i < spec->n_containers && i < NC_RULE_MAX_CONTAINERS; i++)
		if (!strncmp(spec->containers[i], name, NC_CONTAINER_REF_MAX))
			return true;
	for (g = 0; g < spec->n_groups && g < NC_MAX_GROUPS; g++)
		for (i = 0; i < spec->groups[g].n_members && i < NC_GROUP_MAX_MEMBERS; i++)
			if (spec->groups[g].members[i].kind == NC_MEMBER_CONTAINER &&
			    !strncmp(spec->groups[g].members[i].ref, name, NC_CONTAINER_REF_MAX))
				return true;
	return false;
}

/* " (in web, api)": the containers the agent found for the rule, from the
 * rule object's "containers":[{"name":...}], when they say more than the
 * target does (a label, a service, an id prefix); "" otherwise. */
static void resolved_containers(json_object *obj, const struct nc_rule_spec *spec, char *buf,
				size_t len)
{
	json_object *arr, *c, *name;
	size_t i, n, pos = 0;

	buf[0] = '\0';
	if (!obj || !json_object_object_get_ex(obj, "containers", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && pos + 1 < len; i++) {
		c = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(c, json_type_object) ||
		    !json_object_object_get_ex(c, "name", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    named_in_target(spec, json_object_get_string(name)))
			continue;
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : " (in ",
					json_object_get_string(name));
	}
	if (pos && pos + 1 < len)
		snprintf(buf + pos, len - pos, ")");
}

void nc_print_rule_added(FILE *out, const struct nc_wire_rule *rule, json_object *obj)
{
	char fault[NC_DESCRIBE_FAULT_MAX], target[NC_DESCRIBE_TARGET_MAX], dur[32], in[1024];

	nc_spec_describe_fault(&rule->spec, fault, sizeof(fault));
	nc_spec_describe_target(&rule->spec, target, sizeof(target));
	nc_format_duration(rule->spec.duration_ms, dur, sizeof(dur));
	resolved_containers(obj, &rule->spec, in, sizeof(in));
	fprintf(out, "rule %" PRIu32 ": %s on %s%s for %s\n", rule->id, fault, target, in, dur);
}

enum { COL_ID, COL_FAULT, COL_TARGET, COL_LEFT, COL_MATCHED, COL_AFFECTED, COL_STATE, N_COLS };

struct row {
	uint64_t id; /* sort key; UINT64_MAX for a rule without a readable id */
	bool unusual; /* its state is worth a column: not active, or a reason */
	char *cell[N_COLS];
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *ra = a, *rb = b;

	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

/* The remaining time as people read it: whole seconds once above one. */
static void format_left(const struct nc_wire_rule *rule, char *buf, size_t len)
{
	uint64_t ms = rule->remaining_ms;

	if (ms >= 1000)
		ms = (ms + 999) / 1000 * 1000;
	nc_format_duration(ms, buf, len);
}

void nc_print_rule_changed(FILE *out, const struct nc_wire_rule *rule, bool dry_run)
{
	char fault[NC_DESCRIBE_FAULT_MAX], target[NC_DESCRIBE_TARGET_MAX], left[32];

	nc_spec_describe_fault(&rule->spec, fault, sizeof(fault));
	nc_spec_describe_target(&rule->spec, target, sizeof(target));
	format_left(rule, left, sizeof(left));
	fprintf(out, "%srule %" PRIu32 "%s: %s on %s, %s left\n",
		dry_run ? "dry run, nothing changed: " : "", rule->id,
		dry_run ? " would be" : " changed", fault, target, left);
}

/* "active", "ended: container removed" */
static bool format_state(const struct nc_wire_rule *rule, char *buf, size_t len)
{
	const char *state = rule->state[0] ? rule->state : "active";

	if (rule->reason[0])
		snprintf(buf, len, "%s: %s", state, rule->reason);
	else
		snprintf(buf, len, "%s", state);
	return rule->reason[0] || strcmp(state, "active");
}

static int fill_row(json_object *obj, struct row *row)
{
	static char buf[N_COLS][NC_DESCRIBE_TARGET_MAX + 1024];
	struct nc_wire_rule rule;
	size_t n;
	int c;

	if (!nc_wire_rule_from_json(obj, &rule, NULL, 0)) {
		row->id = rule.id;
		snprintf(buf[COL_ID], sizeof(buf[COL_ID]), "%" PRIu32, rule.id);
		nc_spec_describe_fault(&rule.spec, buf[COL_FAULT], sizeof(buf[COL_FAULT]));
		nc_spec_describe_target(&rule.spec, buf[COL_TARGET], sizeof(buf[COL_TARGET]));
		n = strlen(buf[COL_TARGET]);
		resolved_containers(obj, &rule.spec, buf[COL_TARGET] + n, sizeof(buf[COL_TARGET]) - n);
		format_left(&rule, buf[COL_LEFT], sizeof(buf[COL_LEFT]));
		snprintf(buf[COL_MATCHED], sizeof(buf[COL_MATCHED]), "%" PRIu64, rule.matched);
		snprintf(buf[COL_AFFECTED], sizeof(buf[COL_AFFECTED]), "%" PRIu64, rule.affected);
		row->unusual = format_state(&rule, buf[COL_STATE], sizeof(buf[COL_STATE]));
	} else {
		/* A rule this chaosctl cannot read (from a newer agent, say) still
		 * gets its line: id and fault name as sent, the rest in --json. */
		json_object *id = NULL, *fault, *kind = NULL;

		row->id = UINT64_MAX;
		if (json_object_is_type(obj, json_type_object)) {
			if (json_object_object_get_ex(obj, "id", &id) &&
			    json_object_is_type(id, json_type_int))
				row->id = (uint64_t)json_object_get_int64(id);
			if (json_object_object_get_ex(obj, "fault", &fault) &&
			    json_object_is_type(fault, json_type_object))
				json_object_object_get_ex(fault, "kind", &kind);
		}
		snprintf(buf[COL_ID], sizeof(buf[COL_ID]), "%s",
			 row->id == UINT64_MAX ? "?" : json_object_get_string(id));
		snprintf(buf[COL_FAULT], sizeof(buf[COL_FAULT]), "%.40s",
			 json_object_is_type(kind, json_type_string) ? json_object_get_string(kind) : "?");
		snprintf(buf[COL_TARGET], sizeof(buf[COL_TARGET]), "(unreadable here; see --json)");
		for (c = COL_LEFT; c < N_COLS; c++)
			snprintf(buf[c], sizeof(buf[c]), "?");
	}
	for (c = 0; c < N_COLS; c++) {
		row->cell[c] = strdup(buf[c]);
		if (!row->cell[c])
			return -ENOMEM;
	}
	return 0;
}

/* One line of the table: text left-aligned, counters right-aligned, the
 * last column unpadded; no trailing blanks. */
static void print_line(FILE *out, char *const *cell, const int *width, int n_cols)
{
	int c;

	for (c = 0; c < n_cols; c++) {
		bool right = c == COL_MATCHED || c == COL_AFFECTED;
		bool last = c == n_cols - 1;

		fprintf(out, "%s%*s", c ? "  " : "", right ? width[c] : last ? 0 : -width[c],
			cell[c]);
	}
	fputc('\n', out);
}

int nc_print_rules(FILE *out, json_object *rules)
{
	static char *const header[N_COLS] = { "ID", "FAULT", "TARGET", "LEFT", "MATCHED",
					      "AFFECTED", "STATE" };
	size_t n = json_object_array_length(rules), i;
	int width[N_COLS], c, ret = 0, n_cols = COL_STATE;
	struct row *rows;

	if (n == 0) {
		fprintf(out, "no active rules\n");
		return 0;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (c = 0; c < N_COLS; c++)
		width[c] = (int)strlen(header[c]);
	for (i = 0; i < n && !ret; i++) {
		ret = fill_row(json_object_array_get_idx(rules, i), &rows[i]);
		for (c = 0; c < N_COLS && !ret; c++)
			if ((int)strlen(rows[i].cell[c]) > width[c])
				width[c] = (int)strlen(rows[i].cell[c]);
		/* STATE only when some rule is not simply active */
		if (!ret && rows[i].unusual)
			n_cols = N_COLS;
	}
	if (!ret) {
		qsort(rows, n, sizeof(*rows), row_cmp);
		print_line(out, header, width, n_cols);
		for (i = 0; i < n; i++)
			print_line(out, rows[i].cell, width, n_cols);
	}
	for (i = 0; i < n; i++)
		for (c = 0; c < N_COLS; c++)
			free(rows[i].cell[c]);
	free(rows);
	return ret;
}

static bool is_scalar(json_object *v)
{
	return !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array);
}

static const char *scalar_text(json_object *v)
{
	/* json_object_get_string() gives strings unquoted, others as JSON. */
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "yes" : "no";
	return v ? json_object_get_string(v) : "null";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void print_member(FILE *out, const char *key, json_object *val, int indent)
{
	size_t i, n;

	if (json_object_is_type(val, json_type_object)) {
		fprintf(out, "%*s%s:\n", indent, "", key);
		nc_print_tree(out, val, indent + 2, NULL);
		return;
	}
	if (!json_object_is_type(val, json_type_array)) {
		/* Milliseconds are also shown the way durations are typed. */
		if (ends_with(key, "_ms") && json_object_is_type(val, json_type_int) &&
		    json_object_get_int64(val) >= 0) {
			char dur[32];

			nc_format_duration((uint64_t)json_object_get_int64(val), dur, sizeof(dur));
			fprintf(out, "%*s%s: %s (%s)\n", indent, "", key, scalar_text(val), dur);
		} else {
			fprintf(out, "%*s%s: %s\n", indent, "", key, scalar_text(val));
		}
		return;
	}
	n = json_object_array_length(val);
	for (i = 0; i < n && is_scalar(json_object_array_get_idx(val, i)); i++)
		;
	if (i == n) {
		fprintf(out, "%*s%s: %s", indent, "", key, n ? "" : "(none)");
		for (i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? ", " : "", scalar_text(json_object_array_get_idx(val, i)));
		fputc('\n', out);
		return;
	}
	for (i = 0; i < n; i++) {
		char item[128];

		snprintf(item, sizeof(item), "%s[%zu]", key, i);
		print_member(out, item, json_object_array_get_idx(val, i), indent);
	}
}

void nc_print_tree(FILE *out, json_object *obj, int indent, const char *const *skip)
{
	json_object_object_foreach(obj, key, val) {
		const char *const *s;

		for (s = skip; s && *s; s++)
			if (!strcmp(*s, key))
				break;
		if (s && *s)
			continue;
		print_member(out, key, val, indent);
	}
}

void nc_print_cleared(FILE *out, json_object *cleared)
{
	size_t n = cleared ? json_object_array_length(cleared) : 0, i;

	if (n == 0) {
		fprintf(out, "no rules to clear\n");
		return;
	}
	if (n == 1) {
		fprintf(out, "cleared rule %s\n", scalar_text(json_object_array_get_idx(cleared, 0)));
		return;
	}
	fprintf(out, "cleared %zu rules: ", n);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", scalar_text(json_object_array_get_idx(cleared, i)));
	fputc('\n', out);
}

/* check[key] as text: a string as it is, anything else as JSON, "" if absent. */
static const char *check_text(json_object *check, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(check, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

int nc_print_checks(FILE *out, json_object *checks)
{
	size_t n = json_object_array_length(checks), i;
	int width = (int)strlen("CHECK"), failed = 0;

	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(checks, i);

		if (json_object_is_type(c, json_type_object) &&
		    (int)strlen(check_text(c, "name")) > width)
			width = (int)strlen(check_text(c, "name"));
	}
	if (out)
		fprintf(out, "%-*s  %-6s  %s\n", width, "CHECK", "RESULT", "DETAIL");
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(checks, i), *ok = NULL;
		bool good;
		const char *detail, *fix;

		if (!json_object_is_type(c, json_type_object)) {
			failed++;
			if (out)
				fprintf(out, "%-*s  %-6s  %s\n", width, "?", "FAIL",
					"(unreadable check; see --json)");
			continue;
		}
		json_object_object_get_ex(c, "ok", &ok);
		good = json_object_is_type(ok, json_type_boolean) && json_object_get_boolean(ok);
		failed += !good;
		if (!out)
			continue;
		detail = check_text(c, "detail");
		fix = check_text(c, "fix");
		fprintf(out, "%-*s  %-*s%s%s\n", width, check_text(c, "name"), *detail ? 6 : 0,
			good ? "ok" : "FAIL", *detail ? "  " : "", detail);
		if (!good && *fix)
			fprintf(out, "%-*s  fix: %s\n", width, "", fix);
	}
	if (out) {
		if (failed)
			fprintf(out, "\n%d of %zu checks failed\n", failed, n);
		else
			fprintf(out, "\nall %zu checks passed\n", n);
	}
	return failed;
}
