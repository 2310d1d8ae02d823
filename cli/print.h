/* SPDX-License-Identifier: GPL-2.0-only */
/* How chaosctl shows the agent's replies to people: the one-line rule
 * summary, the rule table, and key: value trees for status and plans. */
#ifndef NC_PRINT_H
#define NC_PRINT_H

#include <json-c/json.h>
#include <stdio.h>

#include "proto_json.h"

/* "rule 3: loss 30% on port 5000 for 2m", "rule 4: delay 200ms on container
 * mysql port 3306 (in mysql) for 5m"; obj is the reply's rule object (for
 * the containers the agent found, "containers":[{"name":...}]), or NULL. */
void nc_print_rule_added(FILE *out, const struct nc_wire_rule *rule, json_object *obj);

/* "rule 3 changed: delay 300ms on port 3306, 4m12s left" (dry run: "dry
 * run, nothing changed: rule 3 would be: ..."). */
void nc_print_rule_changed(FILE *out, const struct nc_wire_rule *rule, bool dry_run);

/* The table ID FAULT TARGET LEFT MATCHED AFFECTED [STATE], sorted by id, or
 * "no active rules". STATE ("ended: container removed") is shown when a rule
 * is not simply active. rules is the reply's "rules" array. 0 or -ENOMEM. */
int nc_print_rules(FILE *out, json_object *rules);

/* "key: value" lines for every member of obj except those named in skip
 * (NULL-terminated, may be NULL); nested objects are indented. */
void nc_print_tree(FILE *out, json_object *obj, int indent, const char *const *skip);

/* "cleared rule 3", "cleared 2 rules: 1, 4", "no rules to clear". */
void nc_print_cleared(FILE *out, json_object *cleared);

/* doctor's checks ([{"name","ok","detail","fix"}]): one line each, a "fix:"
 * line under a failed one, and a summary. Returns the number of failed
 * checks (a check without "ok": true has failed); out NULL only counts. */
int nc_print_checks(FILE *out, json_object *checks);

#endif
