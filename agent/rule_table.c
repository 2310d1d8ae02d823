// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule table: the userspace mirror of nc_rules, nc_match, nc_scopes and
 * nc_ports (the policy is described in rule_table.h). It owns rule slots (a
 * free list), match entries indexed by key, groups (scope, proto, port kind,
 * port) with their entries, per-scope pattern bits and port bitmaps.
 *
 * Every insert or remove first changes the in-memory ownership of entries,
 * then plans the new value of each entry it can affect (the rule's own
 * entries and the entries they cover), and only then writes through
 * nc_map_ops. A failed write undoes the writes before it and the ownership
 * change, so the maps and the mirror stay what they were.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rule_table.h"

#define RT_NO_SLOT	 UINT32_MAX
#define RT_N_PATTERNS	 6 /* NC_PATTERN() bit positions in use */
#define RT_MAX_CIDR_LEN	 128
#define RT_MAX_KEY_PORTS (NC_RULE_MAX_PORTS * NC_EXPAND_PORTS_MAX)

/* tsearch compares the first bytes of the stored objects: keep keys first
 * and free of implicit padding. */
struct rt_group_key {
	uint32_t scope;
	uint8_t proto;
	uint8_t port_kind;
	uint16_t port; /* network order */
};
_Static_assert(sizeof(struct rt_group_key) == 8, "rt_group_key has no padding");

struct rt_entry;

/* Entries sharing (scope, proto, port kind, port): the only ones whose
 * prefixes can cover each other. */
struct rt_group {
	struct rt_group_key key;
	struct rt_entry **entries;
	uint32_t n_entries;
	uint32_t cap_entries;
	uint32_t n_live;		/* entries with at least one owner */
	struct rt_entry *any;		/* the entry at NC_KEY_FIXED_BITS, if any */
	uint32_t *len_count[2];		/* per family: entries per CIDR length */
};

struct rt_entry {
	struct nc_match_key key;
	struct rt_group *group;
	uint32_t group_idx;
	uint16_t n_owners;
	uint16_t owners[NC_STACK_MAX];	/* slots whose own expansion has this key */
	bool in_map;
	struct nc_match_val val;	/* what nc_match holds for key, when in_map */
	uint64_t plan_mark;		/* == table's plan_mark: already planned */
};

struct rt_slot {
	struct nc_rule rule;
	struct rt_entry **entries;	/* the keys this rule expanded to */
	uint32_t n_entries;
	uint32_t scope;
	uint32_t next_free;
	bool live;
};

struct rt_change {
	struct rt_entry *entry;
	struct nc_match_val val;
	bool del;
};

/* A port word written to nc_ports, and what it held before. */
struct rt_word_change {
	uint32_t word;
	uint64_t old;
};

struct nc_rule_table {
	const struct nc_map_ops *ops;
	void *ctx;
	struct rt_slot *slots; /* NC_MAX_RULES */
	uint32_t free_head;
	size_t live;
	void *entry_root;      /* tsearch tree of struct rt_entry */
	void *group_root;      /* tsearch tree of struct rt_group */
	size_t n_entries;      /* entries in the tree, written or planned */
	uint64_t plan_mark;
	struct rt_change *plan;
	size_t n_plan;
	size_t cap_plan;
	uint32_t pattern_groups[NC_MAX_SCOPES][RT_N_PATTERNS]; /* live groups per bit */
	uint32_t patterns[NC_MAX_SCOPES];		       /* as written to nc_scopes */
	uint64_t *port_words[NC_MAX_SCOPES]; /* as written to nc_ports; NULL = all 0 */
	struct rt_word_change *words;	     /* port words the current call wrote */
	size_t n_words;
	size_t cap_words;
};

/* A spec, reduced to the three deduplicated dimensions of its keys. */
struct rt_expansion {
	uint8_t protos[3];
	uint32_t n_protos;
	uint8_t port_kind; /* key dimension: NC_PORT_ANY, _SRC, _DST or _EITHER */
	uint32_t n_ports;
	uint16_t ports[RT_MAX_KEY_PORTS]; /* host order, sorted, unique */
	uint32_t n_cidrs;
	struct nc_cidr cidrs[NC_RULE_MAX_CIDRS]; /* host bits cleared, unique */
};

static int rt_family_idx(uint8_t family)
{
	return family == 6;
}

static uint32_t rt_family_max_len(uint8_t family)
{
	return family == 6 ? 128 : 32;
}

static bool rt_key_is_any(const struct nc_match_key *key)
{
	return key->prefixlen == NC_KEY_FIXED_BITS;
}

static uint32_t rt_key_cidr_len(const struct nc_match_key *key)
{
	return key->prefixlen - NC_KEY_PREFIX(0);
}

static void rt_addr_mask(uint8_t *addr, uint32_t bits)
{
	uint32_t byte = bits / 8;

	if (byte >= 16)
		return;
	if (bits % 8)
		addr[byte++] &= (uint8_t)(0xff << (8 - bits % 8));
	memset(addr + byte, 0, 16 - byte);
}

static bool rt_addr_prefix_eq(const uint8_t *a, const uint8_t *b, uint32_t bits)
{
	uint32_t bytes = bits / 8;
	uint8_t mask;

	if (memcmp(a, b, bytes))
		return false;
	if (!(bits % 8))
		return true;
	mask = (uint8_t)(0xff << (8 - bits % 8));
	return !((a[bytes] ^ b[bytes]) & mask);
}

static int rt_pattern_bit(const struct rt_group_key *gk)
{
	return gk->proto ? 3 + gk->port_kind : gk->port_kind;
}

static int rt_entry_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct nc_match_key));
}

static int rt_group_cmp(const void *a, const void *b)
{
	const struct rt_group_key *x = a, *y = b;

	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port_kind != y->port_kind)
		return x->port_kind < y->port_kind ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

static int rt_u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static bool rt_range_narrow(const struct nc_port_spec *p)
{
	return (uint32_t)p->hi - p->lo + 1 <= NC_EXPAND_PORTS_MAX;
}

/* The key's port dimension: the first of EITHER, DST, SRC whose specs are
 * all narrow; NC_PORT_ANY when none is (the post-check does the rest). */
static uint8_t rt_key_port_kind(const struct nc_rule_spec *spec)
{
	static const uint8_t order[] = { NC_PORT_EITHER, NC_PORT_DST, NC_PORT_SRC };

	for (size_t k = 0; k < sizeof(order); k++) {
		bool present = false, narrow = true;

		for (uint32_t i = 0; i < spec->n_ports; i++) {
			if (spec->ports[i].kind != order[k])
				continue;
			present = true;
			narrow = narrow && rt_range_narrow(&spec->ports[i]);
		}
		if (present && narrow)
			return order[k];
	}
	return NC_PORT_ANY;
}

static int rt_check_spec(const struct nc_rule_spec *spec)
{
	if (spec->n_ports > NC_RULE_MAX_PORTS || spec->n_cidrs > NC_RULE_MAX_CIDRS)
		return -EINVAL;
	if (spec->proto_mask & ~(NC_PROTO_TCP | NC_PROTO_UDP | NC_PROTO_ICMP))
		return -EINVAL;
	for (uint32_t i = 0; i < spec->n_ports; i++) {
		const struct nc_port_spec *p = &spec->ports[i];

		if (p->kind != NC_PORT_SRC && p->kind != NC_PORT_DST && p->kind != NC_PORT_EITHER)
			return -EINVAL;
		if (p->lo > p->hi)
			return -EINVAL;
	}
	for (uint32_t i = 0; i < spec->n_cidrs; i++) {
		const struct nc_cidr *c = &spec->cidrs[i];

		if (c->family != 4 && c->family != 6)
			return -EINVAL;
		if (c->prefixlen > rt_family_max_len(c->family))
			return -EINVAL;
	}
	return 0;
}

static int rt_expand(const struct nc_rule_spec *spec, struct rt_expansion *exp)
{
	uint32_t n = 0;
	int err = rt_check_spec(spec);

	if (err)
		return err;
	memset(exp, 0, sizeof(*exp));

	if (!spec->proto_mask)
		exp->protos[exp->n_protos++] = 0;
	if (spec->proto_mask & NC_PROTO_TCP)
		exp->protos[exp->n_protos++] = IPPROTO_TCP;
	if (spec->proto_mask & NC_PROTO_UDP)
		exp->protos[exp->n_protos++] = IPPROTO_UDP;
	if (spec->proto_mask & NC_PROTO_ICMP)
		exp->protos[exp->n_protos++] = IPPROTO_ICMP;

	/* OR within a kind: the key ports are the union of its ranges. */
	exp->port_kind = rt_key_port_kind(spec);
	if (exp->port_kind != NC_PORT_ANY) {
		for (uint32_t i = 0; i < spec->n_ports; i++) {
			const struct nc_port_spec *p = &spec->ports[i];

			if (p->kind != exp->port_kind)
				continue;
			for (uint32_t port = p->lo; port <= p->hi; port++)
				exp->ports[exp->n_ports++] = (uint16_t)port;
		}
		qsort(exp->ports, exp->n_ports, sizeof(exp->ports[0]), rt_u16_cmp);
		for (uint32_t i = 0; i < exp->n_ports; i++)
			if (!n || exp->ports[n - 1] != exp->ports[i])
				exp->ports[n++] = exp->ports[i];
		exp->n_ports = n;
	}

	for (uint32_t i = 0; i < spec->n_cidrs; i++) {
		struct nc_cidr c = spec->cidrs[i];
		bool dup = false;

		memset(c.pad, 0, sizeof(c.pad));
		rt_addr_mask(c.addr, c.prefixlen);
		if (c.family == 4) /* the key compares all 16 bytes of an address */
			memset(c.addr + 4, 0, 12);
		for (uint32_t j = 0; j < exp->n_cidrs && !dup; j++)
			dup = !memcmp(&exp->cidrs[j], &c, sizeof(c));
		if (!dup)
			exp->cidrs[exp->n_cidrs++] = c;
	}
	return 0;
}

static size_t rt_expansion_port_keys(const struct rt_expansion *exp)
{
	if (exp->port_kind == NC_PORT_ANY)
		return 1;
	return exp->port_kind == NC_PORT_EITHER ? 2 * (size_t)exp->n_ports : exp->n_ports;
}

static size_t rt_expansion_addrs(const struct rt_expansion *exp)
{
	return exp->n_cidrs ? exp->n_cidrs : 1;
}

static size_t rt_expansion_count(const struct rt_expansion *exp)
{
	return exp->n_protos * rt_expansion_port_keys(exp) * rt_expansion_addrs(exp);
}

/* Key number `idx` of the expansion, in the order proto x port x CIDR. */
static void rt_expansion_key(const struct rt_expansion *exp, uint32_t scope, size_t idx,
			     struct nc_match_key *key)
{
	size_t n_addr = rt_expansion_addrs(exp), n_port_keys = rt_expansion_port_keys(exp);
	size_t addr_idx = idx % n_addr;
	size_t port_idx = idx / n_addr % n_port_keys;
	size_t proto_idx = idx / n_addr / n_port_keys;

	memset(key, 0, sizeof(*key));
	key->scope = scope;
	key->proto = exp->protos[proto_idx];
	switch (exp->port_kind) {
	case NC_PORT_ANY:
		key->port_kind = NC_PORT_ANY;
		break;
	case NC_PORT_EITHER: /* each port under SRC, then under DST */
		key->port_kind = port_idx % 2 ? NC_PORT_DST : NC_PORT_SRC;
		key->port = htons(exp->ports[port_idx / 2]);
		break;
	default:
		key->port_kind = exp->port_kind;
		key->port = htons(exp->ports[port_idx]);
		break;
	}
	if (!exp->n_cidrs) {
		key->prefixlen = NC_KEY_FIXED_BITS;
		return;
	}
	key->prefixlen = NC_KEY_PREFIX(exp->cidrs[addr_idx].prefixlen);
	key->family = exp->cidrs[addr_idx].family;
	memcpy(key->addr, exp->cidrs[addr_idx].addr, sizeof(key->addr));
}

int nc_rule_from_spec(const struct nc_rule_spec *spec, struct nc_rule *out)
{
	int err = rt_check_spec(spec);

	if (err)
		return err;
	if (!spec->dir_mask || (spec->dir_mask & ~NC_DIR_BOTH))
		return -EINVAL;

	memset(out, 0, sizeof(*out));
	switch (spec->kind) {
	case NC_FAULT_DROP:
	case NC_FAULT_PARTITION:
		out->action = NC_ACT_DROP;
		out->prob = UINT32_MAX;
		break;
	case NC_FAULT_LOSS:
		if (spec->netem.loss_model.model != NC_NETEM_LOSS_RANDOM) {
			/* a loss model is netem's job: steer into its class */
			out->action = NC_ACT_STEER;
			break;
		}
		out->action = NC_ACT_LOSS;
		out->prob = spec->prob;
		break;
	case NC_FAULT_DELAY:
	case NC_FAULT_DUPLICATE:
	case NC_FAULT_REORDER:
	case NC_FAULT_RATE:
		out->action = NC_ACT_STEER; /* the caller sets classid */
		break;
	case NC_FAULT_CORRUPT:
		out->action = NC_ACT_CORRUPT;
		out->prob = spec->prob;
		break;
	default:
		return -EINVAL;
	}
	out->dir_mask = spec->dir_mask;
	out->proto_mask = spec->proto_mask;
	if (spec->payload)
		out->flags |= NC_RF_PAYLOAD;
	if (rt_key_port_kind(spec) == NC_PORT_EITHER)
		out->flags |= NC_RF_KEY_EITHER;
	/* Every spec goes to the post-check, the keyed ones too: the key only
	 * selects candidates, and the post-check ANDs the kinds. */
	out->n_ports = spec->n_ports;
	for (uint32_t i = 0; i < spec->n_ports; i++) {
		out->port_kind[i] = spec->ports[i].kind;
		out->ports[i].lo = spec->ports[i].lo;
		out->ports[i].hi = spec->ports[i].hi;
	}
	return 0;
}

int nc_rule_table_count_entries(const struct nc_rule_spec *spec, size_t *count)
{
	struct rt_expansion exp;
	int err = rt_expand(spec, &exp);

	if (err)
		return err;
	*count = rt_expansion_count(&exp);
	return *count > NC_RULE_MAX_ENTRIES ? -E2BIG : 0;
}

/* --- groups and entries ------------------------------------------------ */

static struct rt_group *rt_group_get(struct nc_rule_table *t, const struct rt_group_key *gk)
{
	struct rt_group *g, **node;

	node = tfind(gk, &t->group_root, rt_group_cmp);
	if (node)
		return *node;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = *gk;
	node = tsearch(g, &t->group_root, rt_group_cmp);
	if (!node) {
		free(g);
		return NULL;
	}
	return g;
}

static void rt_group_free(void *p)
{
	struct rt_group *g = p;

	free(g->entries);
	free(g->len_count[0]);
	free(g->len_count[1]);
	free(g);
}

static void rt_group_put(struct nc_rule_table *t, struct rt_group *g)
{
	if (g->n_entries)
		return;
	tdelete(g, &t->group_root, rt_group_cmp);
	rt_group_free(g);
}

static struct rt_entry *rt_entry_find(struct nc_rule_table *t, const struct nc_match_key *key)
{
	struct rt_entry **node = tfind(key, &t->entry_root, rt_entry_cmp);

	return node ? *node : NULL;
}

static int rt_group_link(struct rt_group *g, struct rt_entry *e)
{
	if (g->n_entries == g->cap_entries) {
		uint32_t cap = g->cap_entries ? 2 * g->cap_entries : 4;
		struct rt_entry **entries = realloc(g->entries, cap * sizeof(*entries));

		if (!entries)
			return -ENOMEM;
		g->entries = entries;
		g->cap_entries = cap;
	}
	if (!rt_key_is_any(&e->key)) {
		int fam = rt_family_idx(e->key.family);

		if (!g->len_count[fam]) {
			g->len_count[fam] = calloc(RT_MAX_CIDR_LEN + 1, sizeof(uint32_t));
			if (!g->len_count[fam])
				return -ENOMEM;
		}
		g->len_count[fam][rt_key_cidr_len(&e->key)]++;
	} else {
		g->any = e;
	}
	e->group = g;
	e->group_idx = g->n_entries;
	g->entries[g->n_entries++] = e;
	return 0;
}

static void rt_group_unlink(struct rt_group *g, struct rt_entry *e)
{
	struct rt_entry *last = g->entries[--g->n_entries];

	g->entries[e->group_idx] = last;
	last->group_idx = e->group_idx;
	if (rt_key_is_any(&e->key))
		g->any = NULL;
	else
		g->len_count[rt_family_idx(e->key.family)][rt_key_cidr_len(&e->key)]--;
}

/* The entry for key, created (ownerless, not in the map) if missing. */
static struct rt_entry *rt_entry_get(struct nc_rule_table *t, const struct nc_match_key *key)
{
	struct rt_group_key gk = {
		.scope = key->scope,
		.proto = key->proto,
		.port_kind = key->port_kind,
		.port = key->port,
	};
	struct rt_group *g;
	struct rt_entry *e = rt_entry_find(t, key);

	if (e)
		return e;
	g = rt_group_get(t, &gk);
	if (!g)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		goto err_group;
	e->key = *key;
	if (rt_group_link(g, e))
		goto err_entry;
	if (!tsearch(e, &t->entry_root, rt_entry_cmp))
		goto err_unlink;
	t->n_entries++;
	return e;

err_unlink:
	rt_group_unlink(g, e);
err_entry:
	free(e);
err_group:
	rt_group_put(t, g);
	return NULL;
}

/* Forget an entry that neither a rule nor the map needs any more. */
static void rt_entry_put(struct nc_rule_table *t, struct rt_entry *e)
{
	struct rt_group *g = e->group;

	if (e->n_owners || e->in_map)
		return;
	tdelete(e, &t->entry_root, rt_entry_cmp);
	rt_group_unlink(g, e);
	free(e);
	t->n_entries--;
	rt_group_put(t, g);
}

static void rt_group_live_change(struct nc_rule_table *t, struct rt_group *g, int delta)
{
	uint32_t *count = &t->pattern_groups[g->key.scope][rt_pattern_bit(&g->key)];

	if (delta > 0 && g->n_live++ == 0)
		(*count)++;
	else if (delta < 0 && --g->n_live == 0)
		(*count)--;
}

static int rt_entry_add_owner(struct nc_rule_table *t, struct rt_entry *e, uint16_t slot)
{
	/* Every owner is listed in the entry's own value. */
	if (e->n_owners == NC_STACK_MAX)
		return -E2BIG;
	if (!e->n_owners)
		rt_group_live_change(t, e->group, 1);
	e->owners[e->n_owners++] = slot;
	return 0;
}

static void rt_entry_del_owner(struct nc_rule_table *t, struct rt_entry *e, uint16_t slot)
{
	for (uint16_t i = 0; i < e->n_owners; i++) {
		if (e->owners[i] != slot)
			continue;
		e->owners[i] = e->owners[--e->n_owners];
		if (!e->n_owners)
			rt_group_live_change(t, e->group, -1);
		return;
	}
}

/* --- folding -------------------------------------------------------------- */

static int rt_val_add_owners(const struct rt_entry *from, uint16_t *slots, uint32_t *n)
{
	for (uint16_t i = 0; i < from->n_owners; i++) {
		uint32_t j;

		for (j = 0; j < *n && slots[j] != from->owners[i]; j++)
			;
		if (j < *n)
			continue;
		if (*n == NC_STACK_MAX)
			return -E2BIG;
		slots[(*n)++] = from->owners[i];
	}
	return 0;
}

/* The value of e: every owner of an entry of its group whose prefix covers
 * e's (e included), once, by rule id. */
static int rt_entry_value(const struct nc_rule_table *t, struct rt_entry *e,
			  struct nc_match_val *val)
{
	const struct rt_group *g = e->group;
	uint16_t slots[NC_STACK_MAX];
	uint32_t n = 0;
	int err;

	if (g->any) {
		err = rt_val_add_owners(g->any, slots, &n);
		if (err)
			return err;
	}
	if (!rt_key_is_any(&e->key)) {
		const uint32_t *counts = g->len_count[rt_family_idx(e->key.family)];
		uint32_t len = rt_key_cidr_len(&e->key);

		for (uint32_t l = 0; l <= len; l++) {
			struct nc_match_key anc_key;
			const struct rt_entry *anc = e;

			if (!counts[l])
				continue;
			if (l < len) {
				anc_key = e->key;
				anc_key.prefixlen = NC_KEY_PREFIX(l);
				rt_addr_mask(anc_key.addr, l);
				anc = rt_entry_find((struct nc_rule_table *)t, &anc_key);
				if (!anc)
					continue;
			}
			err = rt_val_add_owners(anc, slots, &n);
			if (err)
				return err;
		}
	}

	/* Sorted by rule id, so values do not depend on slot history. */
	for (uint32_t i = 1; i < n; i++) {
		uint16_t s = slots[i];
		uint32_t id = t->slots[s].rule.id, j = i;

		for (; j > 0; j--) {
			const struct nc_rule *prev = &t->slots[slots[j - 1]].rule;

			if (prev->id < id || (prev->id == id && slots[j - 1] < s))
				break;
			slots[j] = slots[j - 1];
		}
		slots[j] = s;
	}
	memset(val, 0, sizeof(*val));
	val->count = (uint16_t)n;
	memcpy(val->slot, slots, n * sizeof(slots[0]));
	return 0;
}

/* Room for one more element in a growing array of n elements of size elem. */
static int rt_reserve(void **arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return 0;
	new_cap = *cap ? 2 * *cap : first;
	p = realloc(*arr, new_cap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = new_cap;
	return 0;
}

static int rt_plan_push(struct nc_rule_table *t, const struct rt_change *c)
{
	int err = rt_reserve((void **)&t->plan, &t->cap_plan, t->n_plan, sizeof(*t->plan), 64);

	if (err)
		return err;
	t->plan[t->n_plan++] = *c;
	return 0;
}

static int rt_plan_entry(struct nc_rule_table *t, struct rt_entry *e)
{
	struct rt_change c = { .entry = e };
	int err;

	if (e->plan_mark == t->plan_mark)
		return 0;
	e->plan_mark = t->plan_mark;
	if (!e->n_owners) {
		if (!e->in_map)
			return 0;
		c.del = true;
	} else {
		err = rt_entry_value(t, e, &c.val);
		if (err)
			return err;
		if (e->in_map && !memcmp(&c.val, &e->val, sizeof(c.val)))
			return 0;
	}
	return rt_plan_push(t, &c);
}

static bool rt_group_has_longer(const struct rt_group *g, const struct nc_match_key *key)
{
	const uint32_t *counts = g->len_count[rt_family_idx(key->family)];

	for (uint32_t l = rt_key_cidr_len(key) + 1; l <= rt_family_max_len(key->family); l++)
		if (counts[l])
			return true;
	return false;
}

/* Plan e and every entry of its group that e covers. */
static int rt_plan_covered(struct nc_rule_table *t, struct rt_entry *e)
{
	const struct rt_group *g = e->group;
	bool any = rt_key_is_any(&e->key);
	uint32_t len;
	int err;

	err = rt_plan_entry(t, e);
	if (err)
		return err;
	if (!any && !rt_group_has_longer(g, &e->key))
		return 0;
	len = rt_key_cidr_len(&e->key);
	for (uint32_t i = 0; i < g->n_entries; i++) {
		struct rt_entry *x = g->entries[i];

		if (!any && (rt_key_is_any(&x->key) || x->key.family != e->key.family ||
			     rt_key_cidr_len(&x->key) <= len ||
			     !rt_addr_prefix_eq(x->key.addr, e->key.addr, len)))
			continue;
		err = rt_plan_entry(t, x);
		if (err)
			return err;
	}
	return 0;
}

/* After the ownership change for slot s: the writes that make nc_match
 * reflect it, changed values only. */
static int rt_plan_build(struct nc_rule_table *t, const struct rt_slot *s)
{
	int err;

	t->n_plan = 0;
	t->plan_mark++;
	for (uint32_t i = 0; i < s->n_entries; i++) {
		err = rt_plan_covered(t, s->entries[i]);
		if (err)
			return err;
	}
	return 0;
}

static int rt_match_write(struct nc_rule_table *t, const struct rt_entry *e,
			  const struct nc_match_val *val)
{
	if (val)
		return t->ops->match_update(t->ctx, &e->key, val);
	return t->ops->match_delete(t->ctx, &e->key);
}

/* Put back what nc_match held before the first n changes of the plan. */
static void rt_plan_revert(struct nc_rule_table *t, size_t n)
{
	while (n--) {
		const struct rt_entry *e = t->plan[n].entry;
		int err = rt_match_write(t, e, e->in_map ? &e->val : NULL);

		if (err)
			pr_err("rule table: cannot roll back a match entry (scope %u): %s",
			       e->key.scope, strerror(-err));
	}
}

static int rt_plan_apply(struct nc_rule_table *t)
{
	for (size_t i = 0; i < t->n_plan; i++) {
		const struct rt_change *c = &t->plan[i];
		int err = rt_match_write(t, c->entry, c->del ? NULL : &c->val);

		if (err) {
			rt_plan_revert(t, i);
			return err;
		}
	}
	return 0;
}

static void rt_plan_commit(struct nc_rule_table *t)
{
	for (size_t i = 0; i < t->n_plan; i++) {
		struct rt_change *c = &t->plan[i];

		if (c->del) {
			c->entry->in_map = false;
			rt_entry_put(t, c->entry);
		} else {
			c->entry->val = c->val;
			c->entry->in_map = true;
		}
	}
	t->n_plan = 0;
}

static uint32_t rt_scope_patterns(const struct nc_rule_table *t, uint32_t scope)
{
	uint32_t bits = 0;

	for (int i = 0; i < RT_N_PATTERNS; i++)
		if (t->pattern_groups[scope][i])
			bits |= 1u << i;
	return bits;
}

static int rt_scope_write(struct nc_rule_table *t, uint32_t scope, uint32_t patterns)
{
	struct nc_scope val = { .patterns = patterns };

	return t->ops->scope_update(t->ctx, scope, &val);
}

/* --- port bitmaps --------------------------------------------------------- */

/* Is some group of (scope, kind, port) live, whatever its protocol? */
static bool rt_port_named(struct nc_rule_table *t, const struct rt_group_key *gk)
{
	static const uint8_t protos[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	struct rt_group_key k = *gk;

	for (size_t i = 0; i < sizeof(protos); i++) {
		struct rt_group **node;

		k.proto = protos[i];
		node = tfind(&k, &t->group_root, rt_group_cmp);
		if (node && (*node)->n_live)
			return true;
	}
	return false;
}

static int rt_words_push(struct nc_rule_table *t, uint32_t word, uint64_t old)
{
	int err = rt_reserve((void **)&t->words, &t->cap_words, t->n_words, sizeof(*t->words), 16);

	if (err)
		return err;
	t->words[t->n_words].word = word;
	t->words[t->n_words].old = old;
	t->n_words++;
	return 0;
}

static uint32_t rt_word_local(uint32_t word)
{
	return word % (2 * NC_PORT_WORDS_PER_KIND); /* the scope's own index */
}

/* Write back the old values of the first n recorded words, newest first. */
static void rt_words_unwrite(struct nc_rule_table *t, uint32_t scope, size_t n)
{
	while (n--) {
		const struct rt_word_change *c = &t->words[n];
		int err;

		if (t->port_words[scope][rt_word_local(c->word)] == c->old)
			continue; /* not written */
		err = t->ops->ports_update(t->ctx, c->word, c->old);
		if (err)
			pr_err("rule table: cannot roll back a port word (scope %u): %s", scope,
			       strerror(-err));
	}
}

/* The recorded words' mirror back to their old values; forget them. */
static void rt_words_forget(struct nc_rule_table *t, uint32_t scope)
{
	for (size_t i = 0; i < t->n_words; i++)
		t->port_words[scope][rt_word_local(t->words[i].word)] = t->words[i].old;
	t->n_words = 0;
}

/* Put back the port words the last rt_ports_sync() wrote. */
static void rt_ports_revert(struct nc_rule_table *t, uint32_t scope)
{
	rt_words_unwrite(t, scope, t->n_words);
	rt_words_forget(t, scope);
}

/*
 * Make nc_ports agree with the groups of slot s's entries after an ownership
 * change: bits of ports that became named are set, bits of ports no live
 * group names any more are cleared, each changed word written once. The old
 * words stay in t->words for rt_ports_revert(); on error nothing changed.
 */
static int rt_ports_sync(struct nc_rule_table *t, const struct rt_slot *s)
{
	uint64_t touched[2 * NC_PORT_WORDS_PER_KIND / 64] = { 0 };
	uint64_t *words = t->port_words[s->scope];
	int err;

	t->n_words = 0;
	for (uint32_t i = 0; i < s->n_entries; i++) {
		const struct rt_group_key *gk = &s->entries[i]->group->key;
		uint16_t port = ntohs(gk->port);
		uint32_t word = NC_PORT_WORD(s->scope, gk->port_kind, port);
		uint32_t local = rt_word_local(word);

		if (gk->port_kind != NC_PORT_SRC && gk->port_kind != NC_PORT_DST)
			continue;
		/* a group's entries (its CIDRs) are adjacent: one answer for them all */
		if (i && s->entries[i - 1]->group == s->entries[i]->group)
			continue;
		if (!words) {
			words = calloc(2 * NC_PORT_WORDS_PER_KIND, sizeof(*words));
			if (!words)
				return -ENOMEM;
			t->port_words[s->scope] = words;
		}
		if (!(touched[local / 64] & (1ull << (local % 64)))) {
			err = rt_words_push(t, word, words[local]);
			if (err) {
				rt_words_forget(t, s->scope);
				return err;
			}
			touched[local / 64] |= 1ull << (local % 64);
		}
		if (rt_port_named(t, gk))
			words[local] |= NC_PORT_BIT(port);
		else
			words[local] &= ~NC_PORT_BIT(port);
	}
	for (size_t i = 0; i < t->n_words; i++) {
		const struct rt_word_change *c = &t->words[i];
		uint64_t now = words[rt_word_local(c->word)];

		if (now == c->old)
			continue;
		err = t->ops->ports_update(t->ctx, c->word, now);
		if (err) {
			rt_words_unwrite(t, s->scope, i);
			rt_words_forget(t, s->scope);
			return err;
		}
	}
	return 0;
}

/* Drop slot's ownership of its entries, forgetting the ones only it needed
 * and that were never written. */
static void rt_slot_disown(struct nc_rule_table *t, struct rt_slot *s, uint32_t slot)
{
	for (uint32_t i = 0; i < s->n_entries; i++) {
		rt_entry_del_owner(t, s->entries[i], (uint16_t)slot);
		rt_entry_put(t, s->entries[i]);
	}
}

/* --- public API ---------------------------------------------------------- */

int nc_rule_table_new(const struct nc_map_ops *ops, void *ctx, struct nc_rule_table **out)
{
	struct nc_rule_table *t;

	if (!ops || !ops->match_update || !ops->match_delete || !ops->rule_update ||
	    !ops->rule_clear || !ops->scope_update || !ops->ports_update)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->slots = calloc(NC_MAX_RULES, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	t->ops = ops;
	t->ctx = ctx;
	for (uint32_t i = 0; i < NC_MAX_RULES; i++)
		t->slots[i].next_free = i + 1 < NC_MAX_RULES ? i + 1 : RT_NO_SLOT;
	t->free_head = 0;
	*out = t;
	return 0;
}

void nc_rule_table_free(struct nc_rule_table *t)
{
	if (!t)
		return;
	tdestroy(t->entry_root, free);
	tdestroy(t->group_root, rt_group_free);
	for (uint32_t i = 0; i < NC_MAX_RULES; i++)
		free(t->slots[i].entries);
	for (uint32_t i = 0; i < NC_MAX_SCOPES; i++)
		free(t->port_words[i]);
	free(t->slots);
	free(t->plan);
	free(t->words);
	free(t);
}

int nc_rule_table_insert(struct nc_rule_table *t, uint32_t scope, const struct nc_rule *rule,
			 const struct nc_rule_spec *spec, uint32_t *slot_out)
{
	struct rt_expansion *exp;
	uint32_t slot, patterns;
	struct rt_slot *s;
	size_t n_keys;
	int err, uerr;

	if (scope >= NC_MAX_SCOPES)
		return -EINVAL;
	exp = malloc(sizeof(*exp));
	if (!exp)
		return -ENOMEM;
	err = rt_expand(spec, exp);
	if (err)
		goto out;
	n_keys = rt_expansion_count(exp);
	if (n_keys > NC_RULE_MAX_ENTRIES) {
		err = -E2BIG;
		goto out;
	}
	if (t->free_head == RT_NO_SLOT) {
		err = -ENOSPC;
		goto out;
	}
	slot = t->free_head;
	s = &t->slots[slot];
	s->entries = calloc(n_keys, sizeof(*s->entries));
	if (!s->entries) {
		err = -ENOMEM;
		goto out;
	}
	s->n_entries = 0;
	s->scope = scope;
	/* The table decides the keys, so it also owns the flag that tells the
	 * datapath about them. */
	s->rule = *rule;
	s->rule.flags &= (uint8_t)~NC_RF_KEY_EITHER;
	if (exp->port_kind == NC_PORT_EITHER)
		s->rule.flags |= NC_RF_KEY_EITHER;

	for (size_t i = 0; i < n_keys; i++) {
		struct nc_match_key key;
		struct rt_entry *e;

		rt_expansion_key(exp, scope, i, &key);
		e = rt_entry_get(t, &key);
		if (!e) {
			err = -ENOMEM;
			goto err_disown;
		}
		err = rt_entry_add_owner(t, e, (uint16_t)slot);
		if (err) {
			rt_entry_put(t, e);
			goto err_disown;
		}
		s->entries[s->n_entries++] = e;
	}
	if (t->n_entries > NC_MAX_MATCH_ENTRIES) {
		err = -ENOSPC;
		goto err_disown;
	}
	err = rt_plan_build(t, s);
	if (err)
		goto err_disown;

	/* Rule first: a match entry never names a slot the datapath sees free.
	 * Port bits next: an entry is never written while its port bit is clear. */
	err = t->ops->rule_update(t->ctx, slot, &s->rule);
	if (err)
		goto err_disown;
	err = rt_ports_sync(t, s);
	if (err)
		goto err_rule;
	err = rt_plan_apply(t);
	if (err)
		goto err_ports;
	patterns = rt_scope_patterns(t, scope);
	if (patterns != t->patterns[scope]) {
		err = rt_scope_write(t, scope, patterns);
		if (err)
			goto err_plan;
		t->patterns[scope] = patterns;
	}

	rt_plan_commit(t);
	t->free_head = s->next_free;
	s->next_free = RT_NO_SLOT;
	s->live = true;
	t->live++;
	*slot_out = slot;
	goto out;

err_plan:
	rt_plan_revert(t, t->n_plan);
err_ports:
	rt_ports_revert(t, scope);
err_rule:
	uerr = t->ops->rule_clear(t->ctx, slot);
	if (uerr)
		pr_err("rule table: cannot roll back rule slot %u: %s", slot, strerror(-uerr));
err_disown:
	t->n_plan = 0;
	rt_slot_disown(t, s, slot);
	free(s->entries);
	s->entries = NULL;
	s->n_entries = 0;
out:
	free(exp);
	return err;
}

int nc_rule_table_update(struct nc_rule_table *t, uint32_t slot, const struct nc_rule *rule)
{
	struct nc_rule r = *rule, *cur;
	int err;

	if (slot >= NC_MAX_RULES || !t->slots[slot].live)
		return -ENOENT;
	cur = &t->slots[slot].rule;
	if (r.dir_mask != cur->dir_mask || r.proto_mask != cur->proto_mask ||
	    r.n_ports != cur->n_ports || r.n_ifindex != cur->n_ifindex ||
	    memcmp(r.port_kind, cur->port_kind, sizeof(r.port_kind)) ||
	    memcmp(r.ports, cur->ports, sizeof(r.ports)) ||
	    memcmp(r.ifindex, cur->ifindex, sizeof(r.ifindex)))
		return -EINVAL;
	r.flags = (uint8_t)((r.flags & ~NC_RF_KEY_EITHER) | (cur->flags & NC_RF_KEY_EITHER));
	err = t->ops->rule_update(t->ctx, slot, &r);
	if (!err)
		*cur = r;
	return err;
}

int nc_rule_table_remove(struct nc_rule_table *t, uint32_t slot)
{
	uint32_t patterns, old_patterns;
	struct rt_slot *s;
	int err, uerr;

	if (slot >= NC_MAX_RULES || !t->slots[slot].live)
		return -ENOENT;
	s = &t->slots[slot];
	old_patterns = t->patterns[s->scope];

	for (uint32_t i = 0; i < s->n_entries; i++)
		rt_entry_del_owner(t, s->entries[i], (uint16_t)slot);
	err = rt_plan_build(t, s);
	if (err)
		goto err_own;
	/* Entries first, rule last: clearing it also zeroes its counters, the
	 * one thing a rollback could not restore. */
	err = rt_plan_apply(t);
	if (err)
		goto err_own;
	patterns = rt_scope_patterns(t, s->scope);
	if (patterns != old_patterns) {
		err = rt_scope_write(t, s->scope, patterns);
		if (err)
			goto err_plan;
	}
	/* Port bits after the entries are gone, the rule last. */
	err = rt_ports_sync(t, s);
	if (err)
		goto err_scope;
	err = t->ops->rule_clear(t->ctx, slot);
	if (err)
		goto err_ports;

	t->patterns[s->scope] = patterns;
	rt_plan_commit(t); /* frees the entries no rule needs any more */
	free(s->entries);
	s->entries = NULL;
	s->n_entries = 0;
	s->live = false;
	s->next_free = t->free_head;
	t->free_head = slot;
	t->live--;
	return 0;

err_ports:
	rt_ports_revert(t, s->scope);
err_scope:
	if (patterns != old_patterns) {
		uerr = rt_scope_write(t, s->scope, old_patterns);
		if (uerr)
			pr_err("rule table: cannot roll back scope %u patterns: %s", s->scope,
			       strerror(-uerr));
	}
err_plan:
	rt_plan_revert(t, t->n_plan);
err_own:
	t->n_plan = 0;
	/* Cannot fail: each entry had this owner a moment ago. */
	for (uint32_t i = 0; i < s->n_entries; i++)
		rt_entry_add_owner(t, s->entries[i], (uint16_t)slot);
	return err;
}

size_t nc_rule_table_live(const struct nc_rule_table *t)
{
	return t->live;
}

size_t nc_rule_table_match_entries(const struct nc_rule_table *t)
{
	return t->n_entries;
}

const struct nc_rule *nc_rule_table_rule(const struct nc_rule_table *t, uint32_t slot)
{
	if (slot >= NC_MAX_RULES || !t->slots[slot].live)
		return NULL;
	return &t->slots[slot].rule;
}
