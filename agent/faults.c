// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live faults and their kernel footprint. A rule lives in one scope (network
 * namespace); a scope holds the namespace open, loads its program instance
 * and attaches it to the interfaces its rules need. The last rule of a scope
 * to go takes the scope's attachments with it, so nothing stays behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "faults.h"
#include "links.h"
#include "log.h"
#include "netem.h"
#include "netns.h"
#include "qdisc.h"
#include "rule_table.h"
#include "spec.h"
#include "state.h"
#include "units.h"

struct scope {
	bool used;
	struct nc_netns ns;
	struct nc_attachment *atts;
	size_t n_atts;
	unsigned int rules;
};

/* One netem class of a rule: on an interface, at egress or (IFB) ingress. */
struct qrule {
	int ifindex;
	bool ingress;
};

struct fault {
	struct fault *next; /* ascending id */
	uint32_t id;
	uint32_t owner; /* 0: a rule of its own; else a member of that rule */
	uint32_t slot;
	uint32_t scope;
	uint32_t minor; /* netem class minor, 0 for BPF-only faults */
	struct qrule *qrules;
	size_t n_qrules;
	uint64_t expires_ns;
	size_t entries;
	struct nc_rule_spec spec;
	char interfaces[NC_FAULT_IFACES_STR];
};

struct nc_faults {
	struct nc_datapath *dp;
	struct nc_rule_table *table;
	struct nc_faults_limits limits;
	struct scope scopes[NC_MAX_SCOPES];
	struct fault *head;
	size_t count;
	size_t owned; /* members of other rules (containers.c) among count */
	uint32_t next_id;
	uint32_t next_member_id;
	uint64_t next_expiry_ns; /* no rule of its own expires before this */
	const char *state_file; /* NULL: no record kept */
	uint8_t minors[NC_QDISC_MINOR_MAX / 8 + 1]; /* netem class minors in use */
};

static uint32_t minor_alloc(struct nc_faults *f)
{
	for (uint32_t m = 1; m <= NC_QDISC_MINOR_MAX; m++) {
		if (!(f->minors[m / 8] & (1u << (m % 8)))) {
			f->minors[m / 8] |= (uint8_t)(1u << (m % 8));
			return m;
		}
	}
	return 0;
}

static void minor_free(struct nc_faults *f, uint32_t m)
{
	if (m)
		f->minors[m / 8] &= (uint8_t)~(1u << (m % 8));
}

#define NC_MAX_LINKS 256

/* The links a spec targets in the current namespace. */
struct target_links {
	struct nc_link *all;
	size_t n_all;
	const struct nc_link *sel[NC_MAX_LINKS];
	size_t n_sel;
};

int nc_faults_new(struct nc_datapath *dp, const struct nc_faults_limits *limits,
		  struct nc_faults **out)
{
	struct nc_faults *f;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	err = nc_rule_table_new(&nc_datapath_map_ops, dp, &f->table);
	if (err) {
		free(f);
		return err;
	}
	f->dp = dp;
	f->limits = *limits;
	f->next_id = 1;
	f->next_member_id = NC_FAULT_MEMBER_ID_BASE;
	*out = f;
	return 0;
}

static const char *scope_name(const struct scope *s)
{
	return s->ns.name[0] ? s->ns.name : "host";
}

static void scope_detach_all(struct scope *s)
{
	int saved = -1, err;

	if (!s->n_atts)
		return;
	/* tcx links close from anywhere; tc filters need the namespace */
	err = nc_netns_enter(&s->ns, &saved);
	if (err)
		pr_warn("cannot enter network namespace %s to detach: %s", scope_name(s),
			strerror(-err));
	for (size_t i = s->n_atts; i-- > 0;) {
		if (err && !s->atts[i].tcx)
			continue;
		if (nc_detach(&s->atts[i]))
			pr_warn("detach from %s in %s failed", s->atts[i].ifname, scope_name(s));
	}
	if (!err)
		nc_netns_leave(saved);
	free(s->atts);
	s->atts = NULL;
	s->n_atts = 0;
}

/* Record the namespaces we work in, for the agent after us if we crash. */
static void state_save(struct nc_faults *f)
{
	const char *names[NC_MAX_SCOPES];
	size_t n = 0;

	if (!f->state_file)
		return;
	for (uint32_t i = 0; i < NC_MAX_SCOPES; i++)
		if (f->scopes[i].used && f->scopes[i].ns.name[0])
			names[n++] = f->scopes[i].ns.name;
	nc_state_save(f->state_file, names, n);
}

void nc_faults_set_state_file(struct nc_faults *f, const char *path)
{
	f->state_file = path;
	state_save(f);
}

static void scope_release(struct nc_faults *f, uint32_t id)
{
	struct scope *s = &f->scopes[id];

	scope_detach_all(s);
	/* The scope's program instance stays loaded (nc_datapath_close() frees
	 * it): the next namespace to get this scope id, typically a restarted
	 * container's, attaches at once instead of paying a verifier run
	 * (~0.4 s) while every other client waits. */
	nc_netns_close(&s->ns);
	memset(s, 0, sizeof(*s));
	state_save(f);
}

static int scope_find_or_new(struct nc_faults *f, struct nc_netns *ns, uint32_t *id, bool *created)
{
	int free_id = -1;

	for (uint32_t i = 0; i < NC_MAX_SCOPES; i++) {
		if (f->scopes[i].used && nc_netns_same(&f->scopes[i].ns, ns)) {
			*id = i;
			*created = false;
			return 0;
		}
		/* Scope 0's program instance is the map owner: keep it for the
		 * agent's own namespace. */
		if (!f->scopes[i].used && free_id < 0 && (i > 0 || !ns->name[0]))
			free_id = (int)i;
	}
	if (free_id < 0)
		return -ENOSPC;
	f->scopes[free_id].used = true;
	f->scopes[free_id].ns = *ns;
	*id = (uint32_t)free_id;
	*created = true;
	state_save(f);
	return 0;
}

static bool scope_has_link(const struct scope *s, int ifindex)
{
	for (size_t i = 0; i < s->n_atts; i++)
		if (s->atts[i].ifindex == ifindex)
			return true;
	return false;
}

/* Inside the target namespace: resolve --iface names, or take every link. */
static int resolve_links(const struct nc_rule_spec *spec, struct target_links *t,
			 const char *nsname, char *err, size_t errlen)
{
	int ret = nc_links_list(&t->all, &t->n_all);

	if (ret) {
		snprintf(err, errlen, "cannot list interfaces of %s: %s", nsname, strerror(-ret));
		return ret;
	}
	t->n_sel = 0;
	if (!spec->n_ifaces) {
		for (size_t i = 0; i < t->n_all && t->n_sel < NC_MAX_LINKS; i++)
			if (nc_link_supported(&t->all[i]))
				t->sel[t->n_sel++] = &t->all[i];
		if (!t->n_sel) {
			snprintf(err, errlen, "no supported interface in %s", nsname);
			return -ENODEV;
		}
		return 0;
	}
	for (size_t k = 0; k < spec->n_ifaces; k++) {
		const struct nc_link *l = NULL;

		for (size_t i = 0; i < t->n_all; i++)
			if (!strcmp(t->all[i].name, spec->ifaces[k]))
				l = &t->all[i];
		if (!l) {
			snprintf(err, errlen, "no interface '%s' in network namespace %s",
				 spec->ifaces[k], nsname);
			return -ENODEV;
		}
		if (!nc_link_supported(l)) {
			snprintf(err, errlen,
				 "interface '%s' has link type %u; netchaos handles Ethernet and loopback",
				 l->name, l->arptype);
			return -EOPNOTSUPP;
		}
		t->sel[t->n_sel++] = l;
	}
	return 0;
}

static void describe_links(const struct target_links *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n_sel && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					t->sel[i]->name);
}

/* Attach to the selected links not attached yet; *added counts new ones so
 * a failure later can take exactly those back. */
static int attach_links(struct nc_faults *f, uint32_t scope_id, const struct target_links *t,
			size_t *added, char *err, size_t errlen)
{
	struct scope *s = &f->scopes[scope_id];
	int egress_fd, ingress_fd, ret;
	struct nc_attachment *grown;

	*added = 0;
	ret = nc_datapath_scope_progs(f->dp, scope_id, &egress_fd, &ingress_fd);
	if (ret) {
		snprintf(err, errlen, "cannot load the classifier for %s: %s", scope_name(s),
			 strerror(-ret));
		return ret;
	}
	grown = realloc(s->atts, (s->n_atts + t->n_sel) * sizeof(*s->atts));
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->atts = grown;
	for (size_t i = 0; i < t->n_sel; i++) {
		const struct nc_link *l = t->sel[i];

		if (scope_has_link(s, l->ifindex))
			continue;
		ret = nc_attach(l->ifindex, l->name, egress_fd, ingress_fd, &s->atts[s->n_atts]);
		if (ret) {
			snprintf(err, errlen, "cannot attach the classifier to %s in %s: %s",
				 l->name, scope_name(s), strerror(-ret));
			return ret;
		}
		s->n_atts++;
		(*added)++;
	}
	return 0;
}

static void detach_last(struct scope *s, size_t n)
{
	while (n-- > 0 && s->n_atts > 0) {
		s->n_atts--;
		nc_detach(&s->atts[s->n_atts]);
	}
}

static void fault_info(struct nc_faults *f, const struct fault *ft, uint64_t now,
		       struct nc_fault_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = ft->id;
	info->spec = ft->spec;
	info->remaining_ms = ft->expires_ns > now ? (ft->expires_ns - now) / 1000000 : 0;
	info->entries = ft->entries;
	snprintf(info->interfaces, sizeof(info->interfaces), "%s", ft->interfaces);
	if (nc_datapath_read_counters(f->dp, ft->slot, &info->counters))
		memset(&info->counters, 0, sizeof(info->counters));
}

int nc_faults_check_duration(const struct nc_faults *f, uint64_t ms, char *err, size_t errlen)
{
	char want[32], max[32];

	if (ms <= f->limits.max_duration_ms)
		return 0;
	nc_format_duration(ms, want, sizeof(want));
	nc_format_duration(f->limits.max_duration_ms, max, sizeof(max));
	snprintf(err, errlen, "duration %s is longer than the agent's limit of %s", want, max);
	return -EINVAL;
}

static int check_limits(const struct nc_faults *f, const struct nc_rule_spec *spec, char *err,
			size_t errlen)
{
	/* Naming a protected port is refused; broad rules leave it alone in
	 * the datapath (nc_global.protected_ports). */
	for (size_t i = 0; !spec->force && i < spec->n_ports; i++) {
		for (size_t k = 0; k < NC_PROTECTED_PORTS; k++) {
			uint16_t p = f->limits.protected_ports[k];

			if (p && spec->ports[i].lo <= p && p <= spec->ports[i].hi) {
				snprintf(err, errlen,
					 "port %u is protected (%s): add --force to fault it anyway",
					 p, p == 22 ? "ssh" : "agent option --protect-port");
				return -EPERM;
			}
		}
	}
	if (f->count >= f->limits.max_rules) {
		snprintf(err, errlen, "too many rules: the agent allows %u at once",
			 f->limits.max_rules);
		return -ENOSPC;
	}
	return nc_faults_check_duration(f, spec->duration_ms, err, errlen);
}

/* Inside the scope's namespace: a netem class for every selected link and
 * direction. *q receives what was created, for undo and removal. */
static int netem_add(const struct nc_rule_spec *eff, const struct target_links *t,
		     uint32_t minor, struct qrule **q, size_t *n, char *err, size_t errlen)
{
	bool avail = false;
	char reason[256] = "";
	int ret;

	*q = calloc(t->n_sel * 2, sizeof(**q));
	*n = 0;
	if (!*q)
		return -ENOMEM;
	ret = nc_qdisc_probe_netem(&avail, reason, sizeof(reason));
	if (!ret && !avail) {
		snprintf(err, errlen,
			 "sch_netem is not available in this kernel: %s (load the sch_netem "
			 "module or use a kernel with CONFIG_NET_SCH_NETEM)",
			 reason[0] ? reason : "unknown qdisc kind");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < t->n_sel; i++) {
		for (int ingress = 0; ingress < 2; ingress++) {
			uint32_t classid;
			int redirect;

			if (!(eff->dir_mask & (ingress ? NC_DIR_INGRESS : NC_DIR_EGRESS)))
				continue;
			ret = nc_qdisc_rule_add(t->sel[i]->ifindex, ingress, minor, &eff->netem,
						&classid, &redirect, err, errlen);
			if (ret)
				return ret;
			(*q)[*n].ifindex = t->sel[i]->ifindex;
			(*q)[(*n)++].ingress = ingress;
		}
	}
	return 0;
}

/* Inside the scope's namespace: remove a rule's netem classes, newest first
 * (the last one on an interface restores its previous qdisc set-up). */
static void netem_del(struct qrule *q, size_t n, uint32_t minor)
{
	while (n-- > 0) {
		int err = nc_qdisc_rule_del(q[n].ifindex, q[n].ingress, minor);

		if (err)
			pr_warn("cannot remove netem class %#x:%x from ifindex %d: %s",
				NC_QDISC_MAJOR, minor, q[n].ifindex, strerror(-err));
	}
}

static int fault_add(struct nc_faults *f, const struct nc_rule_spec *spec, uint32_t owner,
		     struct nc_fault_info *info, char *err, size_t errlen)
{
	struct target_links links = { 0 };
	struct nc_netns ns = { .fd = -1 };
	struct nc_rule_spec eff;
	struct nc_rule rule;
	struct fault *ft = NULL, **pos;
	struct qrule *qrules = NULL;
	uint32_t scope_id = 0, slot, minor = 0;
	bool new_scope = false, netem;
	size_t entries, added = 0, n_qrules = 0;
	int ret, saved = -1;

	ret = nc_spec_validate(spec, err, errlen);
	if (ret)
		return ret;
	nc_spec_effective(spec, &eff);
	netem = nc_spec_is_netem(&eff);
	ret = check_limits(f, &eff, err, errlen);
	if (ret)
		return ret;
	ret = nc_rule_table_count_entries(&eff, &entries);
	if (ret) {
		snprintf(err, errlen, "the target expands to too many match entries (limit %d)",
			 NC_RULE_MAX_ENTRIES);
		return ret;
	}
	ret = nc_netns_open(eff.netns, &ns, err, errlen);
	if (ret)
		return ret;
	ret = nc_netns_enter(&ns, &saved);
	if (ret) {
		snprintf(err, errlen, "cannot enter network namespace %s: %s", eff.netns,
			 strerror(-ret));
		goto out_ns;
	}
	ret = resolve_links(&eff, &links, eff.netns[0] ? eff.netns : "host", err, errlen);
	if (ret)
		goto out_leave;

	memset(info, 0, sizeof(*info));
	info->spec = eff;
	info->remaining_ms = eff.duration_ms;
	info->entries = entries;
	describe_links(&links, info->interfaces, sizeof(info->interfaces));
	if (eff.dry_run)
		goto out_leave;

	ret = scope_find_or_new(f, &ns, &scope_id, &new_scope);
	if (ret) {
		snprintf(err, errlen, "too many network namespaces in use (limit %d)",
			 NC_MAX_SCOPES);
		goto out_leave;
	}
	if (new_scope)
		ns.fd = -1; /* the scope owns it now */

	ret = attach_links(f, scope_id, &links, &added, err, errlen);
	if (ret)
		goto out_undo;

	ft = calloc(1, sizeof(*ft));
	if (!ft) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_undo;
	}
	ret = nc_rule_from_spec(&eff, &rule);
	if (ret) {
		snprintf(err, errlen, "invalid rule: %s", strerror(-ret));
		goto out_undo;
	}
	if (netem) {
		minor = minor_alloc(f);
		if (!minor) {
			ret = -ENOSPC;
			snprintf(err, errlen, "too many netem rules (limit %u)", NC_QDISC_MINOR_MAX);
			goto out_undo;
		}
		/* The classes exist before any packet is steered into them. */
		ret = netem_add(&eff, &links, minor, &qrules, &n_qrules, err, errlen);
		if (ret)
			goto out_undo;
		rule.classid = NC_QDISC_CLASSID(minor);
	}
	if (eff.force)
		rule.flags |= NC_RF_FORCE;
	rule.id = owner ? f->next_member_id : f->next_id;
	rule.expires_ns = nc_now_boottime_ns() + eff.duration_ms * 1000000ull;
	for (size_t i = 0; i < eff.n_ifaces; i++)
		rule.ifindex[rule.n_ifindex++] = (uint32_t)links.sel[i]->ifindex;

	ret = nc_rule_table_insert(f->table, scope_id, &rule, &eff, &slot);
	if (ret) {
		if (ret == -E2BIG)
			snprintf(err, errlen,
				 "too many rules overlap on the same traffic (limit %d per match)",
				 NC_STACK_MAX);
		else if (ret == -ENOSPC)
			snprintf(err, errlen,
				 "the kernel tables are full (%d rule slots, %d match entries)",
				 NC_MAX_RULES, NC_MAX_MATCH_ENTRIES);
		else
			snprintf(err, errlen, "cannot write the rule to the kernel: %s",
				 strerror(-ret));
		goto out_undo;
	}
	nc_netns_leave(saved);
	saved = -1;

	ft->id = rule.id;
	ft->owner = owner;
	if (owner) {
		f->next_member_id++;
		f->owned++;
	} else {
		f->next_id++;
	}
	ft->slot = slot;
	ft->scope = scope_id;
	ft->minor = minor;
	ft->qrules = qrules;
	ft->n_qrules = n_qrules;
	ft->expires_ns = rule.expires_ns;
	if (!owner && ft->expires_ns < f->next_expiry_ns)
		f->next_expiry_ns = ft->expires_ns;
	ft->entries = entries;
	ft->spec = eff;
	snprintf(ft->interfaces, sizeof(ft->interfaces), "%s", info->interfaces);
	for (pos = &f->head; *pos; pos = &(*pos)->next)
		;
	*pos = ft;
	f->count++;
	f->scopes[scope_id].rules++;
	info->id = ft->id;
	free(links.all);
	if (ns.fd >= 0)
		nc_netns_close(&ns); /* the scope already held this namespace */
	return 0;

out_undo:
	free(ft);
	netem_del(qrules, n_qrules, minor);
	free(qrules);
	minor_free(f, minor);
	detach_last(&f->scopes[scope_id], added);
	if (new_scope && !f->scopes[scope_id].rules) {
		nc_netns_leave(saved);
		saved = -1;
		scope_release(f, scope_id);
	}
out_leave:
	if (saved >= 0)
		nc_netns_leave(saved);
out_ns:
	free(links.all);
	if (ns.fd >= 0)
		nc_netns_close(&ns);
	return ret;
}

int nc_faults_add(struct nc_faults *f, const struct nc_rule_spec *spec,
		  struct nc_fault_info *info, char *err, size_t errlen)
{
	return fault_add(f, spec, 0, info, err, errlen);
}

int nc_faults_add_member(struct nc_faults *f, const struct nc_rule_spec *spec, uint32_t owner,
			 struct nc_fault_info *info, char *err, size_t errlen)
{
	if (!owner)
		return -EINVAL;
	return fault_add(f, spec, owner, info, err, errlen);
}

uint32_t nc_faults_new_id(struct nc_faults *f)
{
	return f->next_id++;
}

int nc_faults_get(struct nc_faults *f, uint32_t id, struct nc_fault_info *info)
{
	for (struct fault *ft = f->head; ft; ft = ft->next) {
		if (ft->id == id) {
			fault_info(f, ft, nc_now_boottime_ns(), info);
			return 0;
		}
	}
	return -ENOENT;
}

static struct fault *fault_find(struct nc_faults *f, uint32_t id)
{
	struct fault *ft;

	for (ft = f->head; ft && ft->id != id; ft = ft->next)
		;
	return ft;
}

/* Inside the scope's namespace: the first n netem classes of ft get p. */
static int netem_change(const struct fault *ft, size_t n, const struct nc_netem_params *p,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int ret = nc_qdisc_rule_change(ft->qrules[i].ifindex, ft->qrules[i].ingress,
					       ft->minor, p, err, errlen);

		if (ret) {
			char ignored[256];

			/* back to what they were: all or nothing */
			while (i-- > 0)
				if (nc_qdisc_rule_change(ft->qrules[i].ifindex, ft->qrules[i].ingress,
							 ft->minor, &ft->spec.netem, ignored,
							 sizeof(ignored)))
					pr_warn("rule %u: cannot restore netem class %x on ifindex "
						"%d: %s",
						ft->id, ft->minor, ft->qrules[i].ifindex, ignored);
			return ret;
		}
	}
	return 0;
}

int nc_faults_change(struct nc_faults *f, uint32_t id, const struct nc_change_req *req,
		     struct nc_fault_info *info, char *err, size_t errlen)
{
	struct fault *ft = fault_find(f, id);
	const struct nc_rule *cur;
	struct nc_rule_spec spec;
	struct nc_rule rule;
	uint64_t expires;
	int ret, saved;

	if (!ft) {
		snprintf(err, errlen, "no rule %u", id);
		return -ENOENT;
	}
	spec = ft->spec;
	ret = req->has_fault ? nc_spec_change_fault(&spec, &req->fault, err, errlen) : 0;
	if (ret)
		return ret;
	if (req->has_duration)
		spec.duration_ms = req->duration_ms;
	ret = nc_spec_validate(&spec, err, errlen);
	if (!ret && req->has_duration)
		ret = nc_faults_check_duration(f, spec.duration_ms, err, errlen);
	if (ret)
		return ret;
	cur = nc_rule_table_rule(f->table, ft->slot);
	if (!cur) {
		snprintf(err, errlen, "rule %u has no kernel rule", id);
		return -ENOENT;
	}
	ret = nc_rule_from_spec(&spec, &rule);
	if (ret) {
		snprintf(err, errlen, "invalid rule: %s", strerror(-ret));
		return ret;
	}
	/* what the add resolved stays */
	expires = req->has_duration ? nc_now_boottime_ns() + spec.duration_ms * 1000000ull :
				      ft->expires_ns;
	rule.id = cur->id;
	rule.classid = cur->classid;
	rule.redirect_ifindex = cur->redirect_ifindex;
	rule.n_ifindex = cur->n_ifindex;
	memcpy(rule.ifindex, cur->ifindex, sizeof(rule.ifindex));
	rule.flags |= cur->flags & NC_RF_FORCE;
	rule.expires_ns = expires;
	if (req->dry_run) {
		fault_info(f, ft, nc_now_boottime_ns(), info);
		info->spec = spec;
		if (req->has_duration)
			info->remaining_ms = spec.duration_ms;
		return 0;
	}

	if (ft->n_qrules) {
		struct scope *s = &f->scopes[ft->scope];

		ret = nc_netns_enter(&s->ns, &saved);
		if (ret) {
			snprintf(err, errlen, "cannot enter %s: %s", scope_name(s), strerror(-ret));
			return ret;
		}
		ret = netem_change(ft, ft->n_qrules, &spec.netem, err, errlen);
		nc_netns_leave(saved);
		if (ret)
			return ret;
	}
	ret = nc_rule_table_update(f->table, ft->slot, &rule);
	if (ret) {
		snprintf(err, errlen, "cannot write the rule to the kernel: %s", strerror(-ret));
		if (ft->n_qrules && !nc_netns_enter(&f->scopes[ft->scope].ns, &saved)) {
			char ignored[256];

			/* netem_change() with the old values cannot half-fail
			 * in a way we could do more about */
			if (netem_change(ft, ft->n_qrules, &ft->spec.netem, ignored, sizeof(ignored)))
				pr_warn("rule %u: cannot restore its netem parameters: %s", id,
					ignored);
			nc_netns_leave(saved);
		}
		return ret;
	}
	ft->spec = spec;
	ft->expires_ns = expires;
	/* an earlier end moves the next walk; a later one is found by it */
	if (!ft->owner && expires < f->next_expiry_ns)
		f->next_expiry_ns = expires;
	fault_info(f, ft, nc_now_boottime_ns(), info);
	return 0;
}

static void fault_destroy(struct nc_faults *f, struct fault *ft, const char *why)
{
	struct scope *s = &f->scopes[ft->scope];
	int err;

	/* Stop steering first, then take the classes away. */
	err = nc_rule_table_remove(f->table, ft->slot);
	if (err)
		pr_warn("rule %u: cannot remove from the kernel maps: %s", ft->id, strerror(-err));
	if (ft->n_qrules) {
		int saved;

		err = nc_netns_enter(&s->ns, &saved);
		if (!err) {
			netem_del(ft->qrules, ft->n_qrules, ft->minor);
			nc_netns_leave(saved);
		} else {
			pr_warn("rule %u: cannot enter %s to remove its netem classes: %s", ft->id,
				scope_name(s), strerror(-err));
		}
	}
	free(ft->qrules);
	minor_free(f, ft->minor);
	if (ft->owner) {
		pr_debug("rule %u: member %u in %s ended (%s)", ft->owner, ft->id, scope_name(s),
			 why);
		f->owned--;
	} else {
		pr_info("rule %u ended (%s)", ft->id, why);
	}
	if (--s->rules == 0)
		scope_release(f, ft->scope);
	f->count--;
	free(ft);
}

int nc_faults_remove(struct nc_faults *f, uint32_t id, const char *why)
{
	for (struct fault **pos = &f->head; *pos; pos = &(*pos)->next) {
		struct fault *ft = *pos;

		if (ft->id == id) {
			*pos = ft->next;
			fault_destroy(f, ft, why);
			return 0;
		}
	}
	return -ENOENT;
}

size_t nc_faults_remove_all(struct nc_faults *f, uint32_t *ids, size_t max_ids)
{
	size_t n = 0;

	while (f->head) {
		struct fault *ft = f->head;

		f->head = ft->next;
		if (!ft->owner) {
			if (ids && n < max_ids)
				ids[n] = ft->id;
			n++;
		}
		fault_destroy(f, ft, "cleared");
	}
	return n;
}

int nc_faults_list(struct nc_faults *f, struct nc_fault_info **infos, size_t *count)
{
	uint64_t now = nc_now_boottime_ns();
	struct nc_fault_info *arr;
	size_t n = 0;

	arr = calloc(f->count ? f->count : 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (struct fault *ft = f->head; ft; ft = ft->next)
		if (!ft->owner)
			fault_info(f, ft, now, &arr[n++]);
	*infos = arr;
	*count = n;
	return 0;
}

uint64_t nc_faults_expire(struct nc_faults *f)
{
	uint64_t now = nc_now_boottime_ns(), next = UINT64_MAX, next_ns = UINT64_MAX;
	struct fault **pos = &f->head;

	/* the walk touches every rule: only when one may be due */
	if (now < f->next_expiry_ns)
		return f->next_expiry_ns == UINT64_MAX ? UINT64_MAX :
							 (f->next_expiry_ns - now) / 1000000;

	while (*pos) {
		struct fault *ft = *pos;

		/* members end with their rule (containers.c), at the same time */
		if (ft->owner) {
			pos = &ft->next;
			continue;
		}
		if (ft->expires_ns <= now) {
			*pos = ft->next;
			fault_destroy(f, ft, "expired");
			continue;
		}
		if ((ft->expires_ns - now) / 1000000 < next)
			next = (ft->expires_ns - now) / 1000000;
		if (ft->expires_ns < next_ns)
			next_ns = ft->expires_ns;
		pos = &ft->next;
	}
	f->next_expiry_ns = next_ns;
	return next;
}

size_t nc_faults_count(const struct nc_faults *f)
{
	return f->count - f->owned;
}

void nc_faults_free(struct nc_faults *f)
{
	if (!f)
		return;
	nc_faults_remove_all(f, NULL, 0);
	for (uint32_t i = 0; i < NC_MAX_SCOPES; i++)
		if (f->scopes[i].used)
			scope_release(f, i);
	nc_rule_table_free(f->table);
	free(f);
}
