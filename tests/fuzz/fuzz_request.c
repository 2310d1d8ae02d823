// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target over the agent's whole request path, without a kernel:
 * the input is a stream of newline-delimited requests, framed as
 * agent/server.c frames them, parsed by nc_msg_parse() and dispatched by the
 * real agent/handlers.c. Only the layer below the handlers is fake: the
 * nc_faults_* functions here do what agent/faults.c does with a spec
 * (nc_spec_validate, limits, nc_rule_table_count_entries, nc_rule_from_spec,
 * nc_rule_table_insert/remove) but write the maps through an in-memory
 * nc_map_ops instead of BPF maps, and resolve interfaces and namespaces by
 * name instead of asking the kernel (names starting with "missing" do not
 * exist). Whatever else needs the kernel or Docker answers from fixed facts:
 * container rules are refused as with Docker away, netem is unavailable,
 * doctor reports one check.
 *
 * Besides memory errors and undefined behaviour (ASan, UBSan), a crash is
 * any broken promise the rest of the system relies on:
 *   - every reply serializes to exactly one line that chaosctl's
 *     nc_reply_parse() accepts (valid UTF-8 included);
 *   - a rule echoed in an add/list reply decodes (nc_wire_rule_from_json) to
 *     the spec that was applied;
 *   - a peer that may not change faults changes nothing;
 *   - map writes are canonical, never name a free slot or another scope's
 *     rule, and the fake maps always hold exactly what the table says;
 *   - an insert or remove that fails part-way leaves the maps as they were;
 *   - once every rule is removed, nothing is left in any map.
 */
#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "doctor.h"
#include "faults.h"
#include "handlers.h"
#include "proto_json.h"
#include "qdisc.h"
#include "rule_table.h"
#include "spec.h"
#include "units.h"

#define FZ_MAX_RULES	  1000 /* netchaosd's default --max-rules */
#define FZ_INJECT_MAX	  8192 /* larger inserts/removes: no failure injected (speed) */
/* Harness helpers: not coverage the fuzzer should chase, and hot. */
#ifdef __clang__
#define FZ_HELPER	  __attribute__((no_sanitize("coverage")))
#else
#define FZ_HELPER
#endif
#define FZ_INJECTED	  (-EIO)
#define KEY_DATA_OFF	  offsetof(struct nc_match_key, scope)
#define KEY_FULL_BITS	  ((uint32_t)((sizeof(struct nc_match_key) - KEY_DATA_OFF) * 8))

/* A broken invariant: print where and why, then crash for libFuzzer. */
#define fz_assert(cond, ...)                                                               \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_request: %s:%d: invariant '%s' broken: ",      \
				__FILE__, __LINE__, #cond);                                   \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* ---- fake maps ------------------------------------------------------------ */

struct fake_entry {
	struct nc_match_key key; /* first: tsearch compares it */
	struct nc_match_val val;
};

struct fake_maps {
	void *root;
	size_t n_entries;
	bool rule_set[NC_MAX_RULES];
	uint32_t rule_id[NC_MAX_RULES];
	uint32_t patterns[NC_MAX_SCOPES];
	uint64_t ports[NC_PORT_WORDS];
	uint64_t digest;       /* XOR of a hash of every map element */
	unsigned long calls;   /* callbacks so far */
	unsigned long fail_at; /* the callback number that fails; 0 = none */
};

static struct fake_maps maps;
static bool updating; /* the next rule writes are in-place updates */

/* Which scope owns a slot (set by the fake faults before each insert). */
static uint32_t slot_scope[NC_MAX_RULES];
static uint32_t inserting_scope;

FZ_HELPER static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

FZ_HELPER static uint64_t entry_hash(const struct fake_entry *e)
{
	return hash_bytes(hash_bytes(0xcbf29ce484222325ull, &e->key, sizeof(e->key)), &e->val,
			  sizeof(e->val));
}

static uint64_t rule_hash(uint32_t slot, const struct nc_rule *r)
{
	return hash_bytes(hash_bytes(0x84222325cbf29ce4ull, &slot, sizeof(slot)), r, sizeof(*r));
}

static uint64_t rule_hashes[NC_MAX_RULES];

static uint64_t scope_hash(uint32_t scope, uint32_t patterns)
{
	uint64_t h = hash_bytes(0x9e3779b97f4a7c15ull, &scope, sizeof(scope));

	return patterns ? hash_bytes(h, &patterns, sizeof(patterns)) : 0;
}

_Static_assert(sizeof(struct nc_match_key) % sizeof(uint32_t) == 0, "key_cmp compares words");

/* By hand: libFuzzer hooks every memcmp(), which made tsearch the hot spot. */
FZ_HELPER static int key_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	for (size_t i = 0; i < sizeof(struct nc_match_key) / sizeof(*x); i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static bool inject(void)
{
	return ++maps.calls == maps.fail_at;
}

FZ_HELPER static void check_key(const struct nc_match_key *k)
{
	const uint8_t *data = (const uint8_t *)k + KEY_DATA_OFF;

	fz_assert(k->prefixlen == NC_KEY_FIXED_BITS ||
			  (k->prefixlen >= NC_KEY_PREFIX(0) && k->prefixlen <= KEY_FULL_BITS),
		  "prefixlen %u", k->prefixlen);
	fz_assert(k->scope < NC_MAX_SCOPES, "scope %u", k->scope);
	fz_assert(k->port_kind <= NC_PORT_DST, "port kind %u", k->port_kind);
	fz_assert(k->port_kind != NC_PORT_ANY || k->port == 0, "port %u with ANY", k->port);
	fz_assert(!k->pad[0] && !k->pad[1] && !k->pad[2], "key padding set");
	if (k->prefixlen == NC_KEY_FIXED_BITS)
		fz_assert(k->family == 0, "family %u without address", k->family);
	else
		fz_assert((k->family == 4 && k->prefixlen <= NC_KEY_PREFIX(32)) || k->family == 6,
			  "family %u prefixlen %u", k->family, k->prefixlen);
	for (uint32_t bit = k->prefixlen; bit < KEY_FULL_BITS; bit++)
		fz_assert(!(data[bit / 8] & (0x80 >> (bit % 8))), "bit %u set past the prefix %u",
			  bit, k->prefixlen);
}

static void check_val(const struct nc_match_key *k, const struct nc_match_val *v)
{
	fz_assert(v->count >= 1 && v->count <= NC_STACK_MAX, "value count %u", v->count);
	for (unsigned int i = 0; i < NC_STACK_MAX; i++) {
		uint16_t s = v->slot[i];

		if (i >= v->count) {
			fz_assert(s == 0, "slot %u past count %u", s, v->count);
			continue;
		}
		fz_assert(s < NC_MAX_RULES && maps.rule_set[s], "entry names free slot %u", s);
		fz_assert(slot_scope[s] == k->scope, "slot %u of scope %u under scope %u", s,
			  slot_scope[s], k->scope);
		if (i)
			fz_assert(maps.rule_id[v->slot[i - 1]] < maps.rule_id[s],
				  "value not sorted by rule id");
	}
	fz_assert(v->pad == 0, "value padding set");
}

static int fake_match_update(void *ctx, const struct nc_match_key *key,
			     const struct nc_match_val *val)
{
	struct fake_entry *e, **node;

	if (inject())
		return FZ_INJECTED;
	check_key(key);
	check_val(key, val);
	node = tfind(key, &maps.root, key_cmp);
	if (node) {
		maps.digest ^= entry_hash(*node);
		(*node)->val = *val;
		maps.digest ^= entry_hash(*node);
		return 0;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->key = *key;
	e->val = *val;
	if (!tsearch(e, &maps.root, key_cmp)) {
		free(e);
		return -ENOMEM;
	}
	maps.digest ^= entry_hash(e);
	maps.n_entries++;
	return 0;
}

static int fake_match_delete(void *ctx, const struct nc_match_key *key)
{
	struct fake_entry **node, *e;

	if (inject())
		return FZ_INJECTED;
	node = tfind(key, &maps.root, key_cmp);
	fz_assert(node, "delete of a key never written");
	e = *node;
	maps.digest ^= entry_hash(e);
	tdelete(key, &maps.root, key_cmp);
	free(e);
	maps.n_entries--;
	return 0;
}

static int fake_rule_update(void *ctx, uint32_t slot, const struct nc_rule *rule)
{
	if (inject())
		return FZ_INJECTED;
	fz_assert(slot < NC_MAX_RULES, "rule slot %u", slot);
	fz_assert(rule->expires_ns && rule->id, "rule written without id or expiry");
	if (updating) { /* change: the same rule, rewritten in place */
		fz_assert(maps.rule_set[slot] && maps.rule_id[slot] == rule->id,
			  "in-place update of slot %u that holds no rule %u", slot, rule->id);
		maps.digest ^= rule_hashes[slot];
		rule_hashes[slot] = rule_hash(slot, rule);
		maps.digest ^= rule_hashes[slot];
		return 0;
	}
	fz_assert(!maps.rule_set[slot], "slot %u written twice", slot);
	maps.rule_set[slot] = true;
	maps.rule_id[slot] = rule->id;
	slot_scope[slot] = inserting_scope;
	rule_hashes[slot] = rule_hash(slot, rule);
	maps.digest ^= rule_hashes[slot];
	return 0;
}

static int fake_rule_clear(void *ctx, uint32_t slot)
{
	if (inject())
		return FZ_INJECTED;
	fz_assert(slot < NC_MAX_RULES && maps.rule_set[slot], "clear of free slot %u", slot);
	maps.rule_set[slot] = false;
	maps.digest ^= rule_hashes[slot];
	return 0;
}

static int fake_scope_update(void *ctx, uint32_t scope, const struct nc_scope *val)
{
	if (inject())
		return FZ_INJECTED;
	fz_assert(scope < NC_MAX_SCOPES, "scope %u", scope);
	fz_assert(!(val->patterns & ~0x3fu) && !val->pad, "scope patterns 0x%x", val->patterns);
	maps.digest ^= scope_hash(scope, maps.patterns[scope]);
	maps.patterns[scope] = val->patterns;
	maps.digest ^= scope_hash(scope, val->patterns);
	return 0;
}

static uint64_t word_hash(uint32_t word, uint64_t bits)
{
	uint64_t h = hash_bytes(0x2545f4914f6cdd1dull, &word, sizeof(word));

	return bits ? hash_bytes(h, &bits, sizeof(bits)) : 0;
}

static int fake_ports_update(void *ctx, uint32_t word, uint64_t bits)
{
	if (inject())
		return FZ_INJECTED;
	fz_assert(word < NC_PORT_WORDS, "port word %u", word);
	fz_assert(maps.ports[word] != bits, "port word %u rewritten unchanged", word);
	maps.digest ^= word_hash(word, maps.ports[word]) ^ word_hash(word, bits);
	maps.ports[word] = bits;
	return 0;
}

static const struct nc_map_ops fake_ops = {
	.match_update = fake_match_update,
	.match_delete = fake_match_delete,
	.rule_update = fake_rule_update,
	.rule_clear = fake_rule_clear,
	.scope_update = fake_scope_update,
	.ports_update = fake_ports_update,
};

/* ---- fake faults: agent/faults.c with names instead of a kernel --------- */

struct fake_fault {
	uint32_t id;
	uint32_t slot;
	uint32_t scope;
	size_t entries;
	struct nc_rule_spec spec;
	char interfaces[NC_FAULT_IFACES_STR];
};

struct nc_faults {
	struct nc_rule_table *table;
	struct fake_fault rules[FZ_MAX_RULES]; /* ascending id */
	size_t count;
	uint32_t next_id;
	char scope_names[NC_MAX_SCOPES][NC_NETNS_MAX]; /* [0] = the agent's own */
	uint32_t n_scopes;
	uint64_t ops; /* varies the injected failure between operations */
	/* What the last successful add applied, for the reply check. */
	bool added;
	struct nc_rule_spec last_spec;
};

static struct nc_faults faults;
static uint64_t fake_now_ns = 1000000000ull;

uint64_t nc_now_boottime_ns(void)
{
	return fake_now_ns;
}

static uint32_t scope_of(struct nc_faults *f, const char *netns, bool create)
{
	if (!netns[0])
		return 0;
	for (uint32_t i = 1; i < f->n_scopes; i++)
		if (!strcmp(f->scope_names[i], netns))
			return i;
	if (!create || f->n_scopes >= NC_MAX_SCOPES)
		return UINT32_MAX;
	snprintf(f->scope_names[f->n_scopes], NC_NETNS_MAX, "%s", netns);
	return f->n_scopes++;
}

/* Check what the maps hold against the table, after every operation. */
static void check_maps_match_table(struct nc_faults *f)
{
	size_t live = 0;

	for (uint32_t s = 0; s < NC_MAX_RULES; s++)
		live += maps.rule_set[s];
	fz_assert(live == f->count && nc_rule_table_live(f->table) == f->count,
		  "%zu rules in the map, %zu in the table, %zu faults", live,
		  nc_rule_table_live(f->table), f->count);
	fz_assert(maps.n_entries == nc_rule_table_match_entries(f->table),
		  "%zu match entries in the map, the table says %zu", maps.n_entries,
		  nc_rule_table_match_entries(f->table));
}

/* Insert or remove with one injected map failure somewhere in it: the
 * failed attempt must leave the maps exactly as they were. */
static unsigned long pick_fail_at(struct nc_faults *f, const void *p, size_t n, size_t entries)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull ^ f->ops++, p, n);

	return 1 + (unsigned long)(h % (2 * entries + 4));
}

static int table_insert(struct nc_faults *f, uint32_t scope, const struct nc_rule *rule,
			const struct nc_rule_spec *spec, size_t entries, uint32_t *slot)
{
	uint64_t digest = maps.digest;
	size_t n_entries = maps.n_entries;
	int ret;

	inserting_scope = scope;
	maps.calls = 0;
	maps.fail_at = entries <= FZ_INJECT_MAX ? pick_fail_at(f, spec, sizeof(*spec), entries) : 0;
	ret = nc_rule_table_insert(f->table, scope, rule, spec, slot);
	maps.fail_at = 0;
	if (ret != FZ_INJECTED)
		return ret;
	fz_assert(maps.digest == digest && maps.n_entries == n_entries,
		  "failed insert left the maps changed (%zu -> %zu entries)", n_entries,
		  maps.n_entries);
	check_maps_match_table(f);
	return nc_rule_table_insert(f->table, scope, rule, spec, slot);
}

static int table_remove(struct nc_faults *f, const struct fake_fault *ft)
{
	uint64_t digest = maps.digest;
	size_t n_entries = maps.n_entries;
	int ret;

	maps.calls = 0;
	maps.fail_at = ft->entries <= FZ_INJECT_MAX ?
			       pick_fail_at(f, &ft->id, sizeof(ft->id), ft->entries) : 0;
	ret = nc_rule_table_remove(f->table, ft->slot);
	maps.fail_at = 0;
	if (ret != FZ_INJECTED)
		return ret;
	fz_assert(maps.digest == digest && maps.n_entries == n_entries,
		  "failed remove left the maps changed (%zu -> %zu entries)", n_entries,
		  maps.n_entries);
	check_maps_match_table(f);
	return nc_rule_table_remove(f->table, ft->slot);
}

int nc_faults_add(struct nc_faults *f, const struct nc_rule_spec *req,
		  struct nc_fault_info *info, char *err, size_t errlen)
{
	size_t entries, before = maps.n_entries;
	struct nc_rule_spec eff;
	const struct nc_rule_spec *spec = &eff;
	struct fake_fault *ft;
	struct nc_rule rule;
	uint32_t scope, slot;
	int ret;

	f->added = false;
	ret = nc_spec_validate(req, err, errlen);
	if (ret)
		return ret;
	nc_spec_effective(req, &eff);
	if (f->count >= FZ_MAX_RULES) {
		snprintf(err, errlen, "too many rules: the agent allows %u at once", FZ_MAX_RULES);
		return -ENOSPC;
	}
	ret = nc_rule_table_count_entries(spec, &entries);
	if (ret) {
		snprintf(err, errlen, "the target expands to too many match entries (limit %d)",
			 NC_RULE_MAX_ENTRIES);
		return ret;
	}
	fz_assert(entries >= 1 && entries <= NC_RULE_MAX_ENTRIES, "%zu entries", entries);
	/* Names stand for namespaces and interfaces; "missing" ones don't exist. */
	if (!strncmp(spec->netns, "missing", 7)) {
		snprintf(err, errlen, "no network namespace %s", spec->netns);
		return -ENOENT;
	}
	for (size_t i = 0; i < spec->n_ifaces; i++) {
		if (!strncmp(spec->ifaces[i], "missing", 7)) {
			snprintf(err, errlen, "no interface %s", spec->ifaces[i]);
			return -ENODEV;
		}
	}
	scope = scope_of(f, spec->netns, !spec->dry_run);

	memset(info, 0, sizeof(*info));
	info->spec = *spec;
	info->remaining_ms = spec->duration_ms;
	info->entries = entries;
	for (size_t i = 0, pos = 0; i < spec->n_ifaces; i++)
		pos += (size_t)snprintf(info->interfaces + pos, sizeof(info->interfaces) - pos,
					"%s%s", i ? "," : "", spec->ifaces[i]);
	if (!spec->n_ifaces)
		snprintf(info->interfaces, sizeof(info->interfaces), "lo,eth0");
	if (spec->dry_run) {
		f->added = true;
		f->last_spec = *spec;
		return 0;
	}
	if (scope == UINT32_MAX) {
		snprintf(err, errlen, "too many network namespaces in use (limit %d)",
			 NC_MAX_SCOPES);
		return -ENOSPC;
	}

	ret = nc_rule_from_spec(spec, &rule);
	fz_assert(!ret, "a validated spec has no rule: %d", ret);
	fz_assert(rule.n_ports == spec->n_ports && rule.dir_mask == spec->dir_mask,
		  "rule does not carry the spec's post-checks");
	if (rule.action == NC_ACT_STEER)
		rule.classid = 0x10000u | (f->next_id & 0xffffu); /* netem class of the rule */
	if (spec->force)
		rule.flags |= NC_RF_FORCE;
	rule.id = f->next_id;
	rule.expires_ns = fake_now_ns + spec->duration_ms * 1000000ull;
	for (size_t i = 0; i < spec->n_ifaces; i++)
		rule.ifindex[rule.n_ifindex++] = 2 + (uint32_t)i;

	ret = table_insert(f, scope, &rule, spec, entries, &slot);
	if (ret) {
		check_maps_match_table(f);
		fz_assert(ret == -E2BIG || ret == -ENOSPC || ret == -ENOMEM,
			  "insert of a validated spec failed with %d", ret);
		snprintf(err, errlen, "cannot insert: %s", strerror(-ret));
		return ret;
	}
	/* Nothing else in the table: the rule's keys are all new. */
	fz_assert(maps.n_entries - before <= entries && (before || maps.n_entries == entries),
		  "counted %zu entries, the maps grew by %zu", entries, maps.n_entries - before);
	fz_assert(slot < NC_MAX_RULES && maps.rule_set[slot], "insert returned free slot %u",
		  slot);

	ft = &f->rules[f->count++];
	memset(ft, 0, sizeof(*ft));
	ft->id = f->next_id++;
	ft->slot = slot;
	ft->scope = scope;
	ft->entries = entries;
	ft->spec = *spec;
	snprintf(ft->interfaces, sizeof(ft->interfaces), "%s", info->interfaces);
	info->id = ft->id;
	f->added = true;
	f->last_spec = *spec;
	check_maps_match_table(f);
	return 0;
}

static void check_entry(const void *node, VISIT which, int depth)
{
	const struct fake_entry *e = *(const struct fake_entry *const *)node;

	if (which == postorder || which == leaf)
		check_val(&e->key, &e->val);
}

static void fault_destroy(struct nc_faults *f, size_t idx)
{
	int ret = table_remove(f, &f->rules[idx]);

	fz_assert(!ret, "remove of rule %u failed: %d", f->rules[idx].id, ret);
	memmove(&f->rules[idx], &f->rules[idx + 1], (f->count - idx - 1) * sizeof(f->rules[0]));
	f->count--;
	check_maps_match_table(f);
	/* No entry left behind names the slot just freed (bounded for speed). */
	if (maps.n_entries <= 4096)
		twalk(maps.root, check_entry);
}

int nc_faults_remove(struct nc_faults *f, uint32_t id, const char *why)
{
	for (size_t i = 0; i < f->count; i++) {
		if (f->rules[i].id == id) {
			fault_destroy(f, i);
			return 0;
		}
	}
	return -ENOENT;
}

size_t nc_faults_remove_all(struct nc_faults *f, uint32_t *ids, size_t max_ids)
{
	size_t n = 0;

	while (f->count) {
		if (n < max_ids)
			ids[n] = f->rules[f->count - 1].id;
		n++;
		fault_destroy(f, f->count - 1);
	}
	return n;
}

/* change: the real spec merge and the real in-place table update; the maps
 * must not lose or gain an entry, and a refused change must leave the rule
 * exactly as it was. */
int nc_faults_change(struct nc_faults *f, uint32_t id, const struct nc_change_req *req,
		     struct nc_fault_info *info, char *err, size_t errlen)
{
	struct fake_fault *ft = NULL;
	struct nc_rule_spec spec;
	struct nc_rule rule;
	const struct nc_rule *cur;
	size_t n_entries = maps.n_entries;
	int ret;

	for (size_t i = 0; i < f->count && !ft; i++)
		if (f->rules[i].id == id)
			ft = &f->rules[i];
	if (!ft) {
		snprintf(err, errlen, "no rule %u", id);
		return -ENOENT;
	}
	spec = ft->spec;
	ret = req->has_fault ? nc_spec_change_fault(&spec, &req->fault, err, errlen) : 0;
	if (ret) {
		fz_assert(!memcmp(&spec, &ft->spec, sizeof(spec)),
			  "a refused change altered the spec");
		return ret;
	}
	if (req->has_duration)
		spec.duration_ms = req->duration_ms;
	ret = nc_spec_validate(&spec, err, errlen);
	if (ret)
		return ret;
	cur = nc_rule_table_rule(f->table, ft->slot);
	fz_assert(cur != NULL, "live rule %u has no table rule", id);
	ret = nc_rule_from_spec(&spec, &rule);
	fz_assert(!ret, "a validated changed spec has no rule: %d", ret);
	rule.id = cur->id;
	rule.classid = cur->classid;
	rule.n_ifindex = cur->n_ifindex;
	memcpy(rule.ifindex, cur->ifindex, sizeof(rule.ifindex));
	rule.flags |= cur->flags & NC_RF_FORCE;
	rule.expires_ns = req->has_duration ? fake_now_ns + spec.duration_ms * 1000000ull :
					      cur->expires_ns;
	memset(info, 0, sizeof(*info));
	info->id = id;
	info->spec = spec;
	info->entries = ft->entries;
	/* the reply echoes the changed rule */
	f->added = true;
	f->last_spec = spec;
	if (req->dry_run)
		return 0;
	updating = true;
	maps.calls = 0;
	ret = nc_rule_table_update(f->table, ft->slot, &rule);
	updating = false;
	fz_assert(!ret, "in-place update of rule %u failed: %d", id, ret);
	fz_assert(maps.n_entries == n_entries, "a change moved match entries (%zu -> %zu)",
		  n_entries, maps.n_entries);
	fz_assert(nc_rule_table_rule(f->table, ft->slot)->prob == rule.prob,
		  "the table did not keep the new rule");
	ft->spec = spec;
	check_maps_match_table(f);
	return 0;
}

int nc_faults_list(struct nc_faults *f, struct nc_fault_info **infos, size_t *count)
{
	struct nc_fault_info *out = calloc(f->count ? f->count : 1, sizeof(*out));

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < f->count; i++) {
		out[i].id = f->rules[i].id;
		out[i].spec = f->rules[i].spec;
		out[i].remaining_ms = f->rules[i].spec.duration_ms;
		out[i].entries = f->rules[i].entries;
		/* Large counters must survive JSON. (Above INT64_MAX they do not:
		 * handlers.c writes them with json_object_new_int64.) */
		out[i].counters.matched = (uint64_t)INT64_MAX - i;
		out[i].counters.affected = 1ull << 40;
		snprintf(out[i].interfaces, sizeof(out[i].interfaces), "%s", f->rules[i].interfaces);
	}
	*infos = out;
	*count = f->count;
	return 0;
}

size_t nc_faults_count(const struct nc_faults *f)
{
	return f->count;
}

/* ---- no Docker here: container rules are refused as when Docker is away ---- */

static json_object *deferred_reply; /* what nc_server_reply() got */

bool nc_containers_wanted(const struct nc_rule_spec *spec)
{
	return spec->n_containers || spec->n_labels || spec->n_services || spec->n_groups;
}

int nc_containers_add(struct nc_containers *cs, const struct nc_rule_spec *spec,
		      nc_containers_done_fn done, void *arg, char *err, size_t errlen)
{
	int ret = nc_spec_validate(spec, err, errlen);

	if (!ret) {
		snprintf(err, errlen, "cannot reach Docker at /fuzz/docker.sock: Connection refused");
		ret = -ECONNREFUSED;
	}
	return ret;
}

int nc_containers_list(struct nc_containers *cs, json_object *arr)
{
	return 0;
}

bool nc_containers_has(const struct nc_containers *cs, uint32_t id)
{
	return false;
}

int nc_containers_change(struct nc_containers *cs, const struct nc_change_req *req,
			 json_object **rule, char *err, size_t errlen)
{
	fz_assert(false, "container change of rule %u reached without a container rule", req->id);
	return -ENOENT;
}

int nc_containers_clear(struct nc_containers *cs, uint32_t id)
{
	return -ENOENT;
}

size_t nc_containers_clear_all(struct nc_containers *cs, uint32_t *ids, size_t max)
{
	return 0;
}

size_t nc_containers_count(const struct nc_containers *cs)
{
	return 0;
}

struct nc_deferred *nc_server_defer(struct nc_server *s)
{
	static char token;

	return (struct nc_deferred *)&token;
}

void nc_server_reply(struct nc_deferred *d, json_object *reply)
{
	fz_assert(!deferred_reply, "two deferred replies to one request");
	deferred_reply = reply;
}

/* ---- no kernel probes: status and doctor answer from fixed facts ---------- */

const char *nc_attach_mode_name(void)
{
	return "tcx";
}

int nc_qdisc_probe_netem(bool *available, char *reason, size_t len)
{
	*available = false;
	snprintf(reason, len, "sch_netem is not available (fuzzing)");
	return 0;
}

int nc_doctor_run(struct nc_datapath *dp, const char *docker_sock, json_object *reply)
{
	json_object *checks = json_object_new_array(), *c = json_object_new_object();

	if (!checks || !c) {
		json_object_put(checks);
		json_object_put(c);
		return -ENOMEM;
	}
	json_object_object_add(c, "name", json_object_new_string("btf"));
	json_object_object_add(c, "ok", json_object_new_boolean(1));
	json_object_array_add(checks, c);
	json_object_object_add(reply, "checks", checks);
	return 0;
}

/* ---- checks on replies ------------------------------------------------------ */

static bool cidr_eq(const struct nc_cidr *a, const struct nc_cidr *b)
{
	size_t n = a->family == 4 ? 4 : 16;

	return a->family == b->family && a->prefixlen == b->prefixlen && !memcmp(a->addr, b->addr, n);
}

/* Field by field: the struct has padding. */
static bool netem_eq(const struct nc_netem_params *a, const struct nc_netem_params *b)
{
	return a->latency_ns == b->latency_ns && a->jitter_ns == b->jitter_ns &&
	       a->latency_corr == b->latency_corr && a->dist == b->dist && a->loss == b->loss &&
	       a->loss_corr == b->loss_corr && a->loss_model.model == b->loss_model.model &&
	       !memcmp(a->loss_model.p, b->loss_model.p, sizeof(a->loss_model.p)) &&
	       a->duplicate == b->duplicate && a->dup_corr == b->dup_corr &&
	       a->reorder == b->reorder && a->reorder_corr == b->reorder_corr && a->gap == b->gap &&
	       a->corrupt == b->corrupt && a->corrupt_corr == b->corrupt_corr &&
	       a->rate_bps == b->rate_bps && a->packet_overhead == b->packet_overhead &&
	       a->limit == b->limit && a->ecn == b->ecn;
}

/* The rule object of a reply must say what was applied. */
static void check_rule_echo(json_object *obj, const struct nc_rule_spec *want)
{
	struct nc_wire_rule w;
	char err[512];
	int ret = nc_wire_rule_from_json(obj, &w, err, sizeof(err));
	const struct nc_rule_spec *got = &w.spec;

	fz_assert(!ret, "rule of a reply does not decode: %s", err);
	fz_assert(got->kind == want->kind, "kind %d echoed as %d", want->kind, got->kind);
	if (want->kind == NC_FAULT_LOSS || want->kind == NC_FAULT_CORRUPT)
		fz_assert(got->prob == want->prob, "prob %u echoed as %u", want->prob, got->prob);
	fz_assert(got->payload == want->payload, "payload echoed wrong");
	fz_assert(netem_eq(&got->netem, &want->netem), "netem parameters echoed wrong");
	fz_assert(got->duration_ms == want->duration_ms, "duration %llu echoed as %llu",
		  (unsigned long long)want->duration_ms, (unsigned long long)got->duration_ms);
	fz_assert(got->dir_mask == want->dir_mask && got->proto_mask == want->proto_mask,
		  "direction/protocols echoed wrong");
	fz_assert(got->n_ports == want->n_ports, "%u ports echoed as %u", want->n_ports,
		  got->n_ports);
	for (unsigned int i = 0; i < want->n_ports; i++)
		fz_assert(got->ports[i].kind == want->ports[i].kind &&
				  got->ports[i].lo == want->ports[i].lo &&
				  got->ports[i].hi == want->ports[i].hi,
			  "port %u echoed wrong", i);
	fz_assert(got->n_cidrs == want->n_cidrs, "%u addresses echoed as %u", want->n_cidrs,
		  got->n_cidrs);
	for (unsigned int i = 0; i < want->n_cidrs; i++)
		fz_assert(cidr_eq(&got->cidrs[i], &want->cidrs[i]), "address %u echoed wrong", i);
	fz_assert(got->n_ifaces == want->n_ifaces, "interfaces echoed wrong");
	for (unsigned int i = 0; i < want->n_ifaces; i++)
		fz_assert(!strcmp(got->ifaces[i], want->ifaces[i]), "interface %u echoed wrong", i);
	fz_assert(!strcmp(got->netns, want->netns), "netns '%s' echoed as '%s'", want->netns,
		  got->netns);
}

/* One reply (consumed) as chaosctl gets it: one line, a valid reply. */
static json_object *check_reply(json_object *reply)
{
	char err[512];
	json_object *back = NULL;
	size_t len;
	char *line;
	int ret;

	fz_assert(reply, "no reply");
	line = nc_msg_serialize(reply, &len);
	fz_assert(line && len >= 1 && line[len - 1] == '\n', "reply does not serialize");
	fz_assert(!memchr(line, '\n', len - 1), "reply spans several lines");
	if (getenv("NC_FUZZ_VERBOSE")) /* for curating the corpus */
		fprintf(stderr, "reply: %.*s\n", (int)len - 1, line);
	ret = nc_reply_parse(line, len - 1, &back, err, sizeof(err));
	fz_assert(!ret, "chaosctl cannot parse the agent's reply (%s): %.*s", err, (int)len - 1,
		  line);
	json_object_put(reply);
	free(line);
	return back;
}

/* Describe every spec that passed validation, into tight and roomy buffers. */
static void check_describe(const struct nc_rule_spec *spec)
{
	char small[8], big[2048];

	nc_spec_describe_target(spec, small, sizeof(small));
	nc_spec_describe_target(spec, big, sizeof(big));
	fz_assert(strlen(big) < sizeof(big) && strlen(small) < sizeof(small), "describe overflow");
	nc_spec_describe_fault(spec, small, sizeof(small));
	nc_spec_describe_fault(spec, big, sizeof(big));
}

/* ---- one request, as agent/server.c's client_request() does it --------------- */

static struct nc_agent agent = { .socket_path = "/fuzz/netchaosd.sock" };

static json_object *dispatch(const char *buf, size_t len, const struct nc_peer *peer)
{
	json_object *req = NULL, *reply;
	char err[256];
	int ret;

	ret = nc_msg_parse(buf, len, &req, err, sizeof(err));
	if (ret)
		reply = nc_reply_error("%s", err);
	else
		reply = nc_handle_request(req, peer, &agent);
	json_object_put(req);
	if (!reply) { /* deferred: the fake answers at once */
		reply = deferred_reply;
		deferred_reply = NULL;
	}
	return reply;
}

static void one_request(const char *buf, size_t len)
{
	static const struct nc_peer user = { .pid = 4242, .uid = 1000, .gid = 1000 };
	static const struct nc_peer root = { .pid = 4243, .may_change = true };
	uint64_t digest = maps.digest;
	size_t count = faults.count;
	json_object *back, *val, *rules;
	char err[256];

	/* The strict request parser, the one server.c runs first: it must
	 * hold up on its own too. */
	if (!nc_request_parse(buf, len, &back, err, sizeof(err)))
		json_object_put(back);

	/* First as a user outside the control group: must change nothing. */
	back = check_reply(dispatch(buf, len, &user));
	json_object_put(back);
	fz_assert(maps.digest == digest && faults.count == count,
		  "an unprivileged request changed the rules");

	faults.added = false;
	back = check_reply(dispatch(buf, len, &root));
	if (json_object_object_get_ex(back, "ok", &val) && json_object_get_boolean(val)) {
		if (json_object_object_get_ex(back, "rule", &val) ||
		    json_object_object_get_ex(back, "plan", &val)) {
			fz_assert(faults.added, "a rule in the reply of a failed add or change");
			check_rule_echo(val, &faults.last_spec);
			check_describe(&faults.last_spec);
		}
		if (json_object_object_get_ex(back, "rules", &rules)) {
			size_t n = json_object_array_length(rules);

			fz_assert(n == faults.count, "list shows %zu of %zu rules", n, faults.count);
			for (size_t i = 0; i < n; i++)
				check_rule_echo(json_object_array_get_idx(rules, i),
						&faults.rules[i].spec);
		}
	}
	json_object_put(back);
	check_maps_match_table(&faults);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (nc_rule_table_new(&fake_ops, NULL, &faults.table)) {
		fprintf(stderr, "fuzz_request: cannot create the rule table\n");
		abort();
	}
	agent.faults = &faults;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t start = 0;
	uint32_t ids[FZ_MAX_RULES];

	faults.next_id = 1;
	faults.n_scopes = 1;
	faults.ops = 0;
	/* Framing of client_consume(): each '\n' ends a request, empty lines are
	 * skipped, a last request without its newline is taken at EOF. */
	while (start < size) {
		const char *nl = memchr(buf + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (buf + start)) : size - start;

		if (len)
			one_request(buf + start, len);
		start += len + 1;
	}

	/* The agent's exit: remove everything, then nothing may be left. */
	nc_faults_remove_all(&faults, ids, FZ_MAX_RULES);
	fz_assert(maps.n_entries == 0 && !maps.root, "%zu match entries left", maps.n_entries);
	for (uint32_t s = 0; s < NC_MAX_SCOPES; s++)
		fz_assert(!maps.patterns[s], "scope %u keeps patterns 0x%x", s, maps.patterns[s]);
	fz_assert(maps.digest == 0, "maps not empty after removing every rule");
	fake_now_ns += 1000000;
	return 0;
}
