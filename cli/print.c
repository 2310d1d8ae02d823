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

void nc_print_rule_added(FILE *out, const struct nc_wire_rule *rule)
{
	char fault[64], target[1024], dur[32];

	nc_spec_describe_fault(&rule->spec, fault, sizeof(fault));
	nc_spec_describe_target(&rule->spec, target, sizeof(target));
	nc_format_duration(rule->spec.duration_ms, dur, sizeof(dur));
	fprintf(out, "rule %" PRIu32 ": %s on %s for %s\n", rule->id, fault, target, dur);
}

enum { COL_ID, COL_FAULT, COL_TARGET, COL_LEFT, COL_MATCHED, COL_AFFECTED, N_COLS };

struct row {
	uint64_t id; /* sort key; UINT64_MAX for a rule without a readable id */
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
	char dur[32];

	if (ms >= 1000)
		ms = (ms + 999) / 1000 * 1000;
	nc_format_duration(ms, dur, sizeof(dur));
	if (rule->state[0] && strcmp(rule->state, "active"))
		snprintf(buf, len, "%s (%s)", dur, rule->state);
	else
		snprintf(buf, len, "%s", dur);
}

static int fill_row(json_object *obj, struct row *row)
{
	char buf[N_COLS][1024];
	struct nc_wire_rule rule;
	int c;

	if (!nc_wire_rule_from_json(obj, &rule, NULL, 0)) {
		row->id = rule.id;
		snprintf(buf[COL_ID], sizeof(buf[COL_ID]), "%" PRIu32, rule.id);
		nc_spec_describe_fault(&rule.spec, buf[COL_FAULT], sizeof(buf[COL_FAULT]));
		nc_spec_describe_target(&rule.spec, buf[COL_TARGET], sizeof(buf[COL_TARGET]));
		format_left(&rule, buf[COL_LEFT], sizeof(buf[COL_LEFT]));
		snprintf(buf[COL_MATCHED], sizeof(buf[COL_MATCHED]), "%" PRIu64, rule.matched);
		snprintf(buf[COL_AFFECTED], sizeof(buf[COL_AFFECTED]), "%" PRIu64, rule.affected);
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

int nc_print_rules(FILE *out, json_object *rules)
{
	static const char *const header[N_COLS] = { "ID", "FAULT", "TARGET", "LEFT", "MATCHED",
						    "AFFECTED" };
	size_t n = json_object_array_length(rules), i;
	int width[N_COLS], c, ret = 0;
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
	}
	if (!ret) {
		qsort(rows, n, sizeof(*rows), row_cmp);
		/* Text columns left-aligned, counters right-aligned; no trailing blanks. */
		fprintf(out, "%-*s  %-*s  %-*s  %-*s  %*s  %*s\n", width[0], header[0], width[1],
			header[1], width[2], header[2], width[3], header[3], width[4], header[4],
			width[5], header[5]);
		for (i = 0; i < n; i++)
			fprintf(out, "%-*s  %-*s  %-*s  %-*s  %*s  %*s\n", width[0], rows[i].cell[0],
				width[1], rows[i].cell[1], width[2], rows[i].cell[2], width[3],
				rows[i].cell[3], width[4], rows[i].cell[4], width[5], rows[i].cell[5]);
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
