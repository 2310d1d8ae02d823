// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container rules: Docker references resolved without blocking, members
 * applied in the containers' own namespaces, and kept right as containers
 * restart, stop, appear (label and service selectors) and go away.
 *
 * Identity is the container id, never a namespace inode (a restarted
 * container's new namespace may get the old inode number). Every request to
 * Docker is a non-blocking object on the agent's epoll loop; a job groups the
 * requests of one add (or one container's refresh) and goes on when the last
 * one answers. Rules and jobs refer to each other by id, so a rule cleared
 * while a job runs is simply not found when it completes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "containers.h"
#include "docker.h"
#include "handlers.h"
#include "log.h"
#include "loop.h"
#include "proto_json.h"
#include "spec.h"
#include "units.h"

#define MAX_CHUNKS	8 /* kernel rules per member: 8 x 16 peers */
#define MAX_NOTES	4
#define MAX_PEERS	(MAX_CHUNKS * NC_RULE_MAX_CIDRS)

/* ---- rules and members ---------------------------------------------------- */

enum mstate {
	M_ACTIVE,  /* running; its kernel rules are in place */
	M_STOPPED, /* not running: nothing in place, re-applied when it starts */
	M_GONE,	   /* removed from Docker */
	M_FAILED,  /* running, but re-applying failed (error says why) */
};

static const char *const mstate_names[] = { "active", "stopped", "removed", "failed" };

struct member {
	char id[NC_DOCKER_ID_MAX];
	char name[NC_DOCKER_NAME_MAX];
	char via[NC_DOCKER_NAME_MAX]; /* the container named, if it shares this one's netns */
	int group;		      /* partition group, -1 for a plain target */
	bool host_net;		      /* --network host, allowed by the user */
	pid_t pid;
	char netns[32]; /* "/proc/PID/ns/net", "" for the host's */
	char addrs[NC_DOCKER_MAX_ADDRS][NC_DOCKER_ADDR_MAX];
	unsigned int n_addrs;
	enum mstate state;
	uint32_t faults[MAX_CHUNKS]; /* member rules of faults.c */
	size_t n_faults;
	char *sig;		      /* what the member rules were built from */
	struct nc_counters carried;   /* of member rules already removed */
	char error[512];
	char plan_ifaces[NC_FAULT_IFACES_STR]; /* dry run: where it would attach */
	size_t plan_entries;
};

struct crule {
	struct crule *next; /* ascending id */
	uint32_t id;
	struct nc_rule_spec spec; /* as the user gave it */
	uint64_t expires_ns;
	bool ended;
	uint64_t ended_ns;
	char reason[128];
	struct member *m;
	size_t n, cap;
	char notes[MAX_NOTES][384];
	size_t n_notes;
};

/* ---- Docker requests grouped in jobs -------------------------------------- */

enum job_kind {
	JOB_ADD,       /* resolve an add's references, then apply */
	JOB_CONTAINER, /* one container started/stopped/went: bring rules in line */
};

struct job;

struct item {
	struct nc_watch watch; /* first: the loop hands us this pointer */
	struct job *job;
	struct nc_docker_req *req;
	bool is_list;
	bool expanded;	/* its follow-up requests were started */
	int group;	/* -1, or the partition group it resolves */
	int parent;	/* index of the item that led to this one, or -1 */
	char ref[NC_CONTAINER_REF_MAX + sizeof(NC_DOCKER_SERVICE_LABEL) + 8];
	char what[NC_CONTAINER_REF_MAX + 32]; /* "container web", "label k=v" */
	bool finished;
	int status;
	char err[NC_DOCKER_ERR_MAX];
	struct nc_docker_list list;
	struct nc_docker_container c;
};

struct job {
	struct job *next;
	struct nc_containers *cs;
	enum job_kind kind;
	struct item **items;
	size_t n_items, cap;
	size_t pending;
	uint64_t deadline_ns;
	/* JOB_ADD */
	struct nc_rule_spec spec;
	nc_containers_done_fn done;
	void *arg;
	/* JOB_CONTAINER */
	char cid[NC_DOCKER_ID_MAX];
	bool again;	    /* another event came while it ran */
	int64_t event_ns;   /* Docker's time of the event that started it, 0 if none */
	int64_t again_ns;   /* ... and of the one that came while it ran */
};

struct events {
	struct nc_watch watch; /* first */
	struct nc_docker_req *req;
	bool streaming;
};

struct nc_containers {
	struct nc_docker dock;
	int dock_ret; /* socket resolution failed: every add says why */
	char dock_err[256];
	int epfd;
	struct nc_faults *faults;
	struct crule *rules;
	struct job *jobs;
	struct events ev;
	bool ev_lost;	     /* the stream failed: log once, resync on reconnect */
	uint64_t ev_retry_ns;
	int64_t since_ns;    /* Docker's clock: the latest event seen */
};

static uint64_t now_ns(void)
{
	return nc_now_boottime_ns();
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool nc_containers_wanted(const struct nc_rule_spec *spec)
{
	return spec->n_containers || spec->n_labels || spec->n_services || spec->n_groups;
}

static bool rule_has_selectors(const struct crule *r)
{
	if (r->spec.n_labels || r->spec.n_services)
		return true;
	for (unsigned int g = 0; g < r->spec.n_groups; g++)
		for (unsigned int i = 0; i < r->spec.groups[g].n_members; i++)
			if (r->spec.groups[g].members[i].kind == NC_MEMBER_LABEL ||
			    r->spec.groups[g].members[i].kind == NC_MEMBER_SERVICE)
				return true;
	return false;
}

static struct crule *rule_find(struct nc_containers *cs, uint32_t id)
{
	for (struct crule *r = cs->rules; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static struct member *member_find(struct crule *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].id, id))
			return &r->m[i];
	return NULL;
}

static void add_note(struct crule *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(struct crule *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n_notes >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->n_notes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

/* ---- addresses ------------------------------------------------------------ */

static int peers_add(struct nc_peer_set *p, size_t cap, const struct nc_cidr *c)
{
	for (size_t i = 0; i < p->n; i++)
		if (!memcmp(&p->cidrs[i], c, sizeof(*c)))
			return 0;
	if (p->n >= cap)
		return -E2BIG;
	p->cidrs[p->n++] = *c;
	return 0;
}

static int peers_add_str(struct nc_peer_set *p, size_t cap, const char *addr)
{
	struct nc_cidr c;

	if (nc_parse_cidr(addr, &c)) {
		pr_warn("docker: ignoring address '%s'", addr);
		return 0;
	}
	return peers_add(p, cap, &c);
}

/*
 * The host as a peer: every address of the agent's namespace but loopback
 * and link-local ones (inside a container those would be the container's
 * own, or mean nothing). The docker bridge's gateway address is among them:
 * that is what a container sees the host as.
 */
static int host_peers(struct nc_peer_set *p, size_t cap)
{
	struct ifaddrs *ifa, *i;
	int ret = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && !ret; i = i->ifa_next) {
		struct nc_cidr c = { 0 };

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct in_addr *a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			uint32_t h = ntohl(a->s_addr);

			if ((h >> 24) == 127 || (h >> 16) == 0xa9fe)
				continue;
			c.family = 4;
			c.prefixlen = 32;
			memcpy(c.addr, a, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a))
				continue;
			c.family = 6;
			c.prefixlen = 128;
			memcpy(c.addr, a, 16);
		} else {
			continue;
		}
		ret = peers_add(p, cap, &c);
	}
	freeifaddrs(ifa);
	return ret;
}

/* ---- kernel rules of a member --------------------------------------------- */

/* The user's spec without what only the agent's Docker side reads. */
static void member_base_spec(const struct nc_rule_spec *user, struct nc_rule_spec *out)
{
	*out = *user;
	out->n_containers = out->n_labels = out->n_services = 0;
	memset(out->containers, 0, sizeof(out->containers));
	memset(out->labels, 0, sizeof(out->labels));
	memset(out->services, 0, sizeof(out->services));
	out->allow_host_network = false;
	out->n_groups = 0;
	out->one_way = false;
	memset(out->groups, 0, sizeof(out->groups));
	out->dry_run = false;
}

/*
 * Two-way: a member drops traffic to and from every other group. One-way
 * (only from group 0 to the others): group 0's members drop what they send
 * to the other groups, the other groups' members drop what they receive from
 * group 0; so the host or a CIDR on either side is covered by the container
 * side, and replies going the other way are untouched.
 */
int nc_partition_member_specs(const struct nc_rule_spec *spec, unsigned int group,
			      const struct nc_peer_set *peers, struct nc_rule_spec *out,
			      size_t max, size_t *n)
{
	struct nc_cidr all[MAX_PEERS];
	struct nc_peer_set set = { .cidrs = all };
	uint8_t dir = NC_DIR_BOTH;
	int ret;

	*n = 0;
	if (spec->n_groups < 2 || group >= spec->n_groups)
		return -EINVAL;
	if (spec->one_way)
		dir = group == 0 ? NC_DIR_EGRESS : NC_DIR_INGRESS;
	for (unsigned int g = 0; g < spec->n_groups; g++) {
		if (g == group || (spec->one_way && group != 0 && g != 0))
			continue;
		for (size_t i = 0; i < peers[g].n; i++) {
			ret = peers_add(&set, MAX_PEERS, &peers[g].cidrs[i]);
			if (ret)
				return ret;
		}
	}
	for (size_t off = 0; off < set.n; off += NC_RULE_MAX_CIDRS) {
		size_t k = set.n - off < NC_RULE_MAX_CIDRS ? set.n - off : NC_RULE_MAX_CIDRS;
		struct nc_rule_spec *s = &out[*n];

		if (*n >= max)
			return -E2BIG;
		member_base_spec(spec, s);
		s->kind = NC_FAULT_PARTITION;
		s->dir_mask = dir;
		s->n_cidrs = (uint8_t)k;
		memcpy(s->cidrs, &set.cidrs[off], k * sizeof(set.cidrs[0]));
		(*n)++;
	}
	return 0;
}

/* Addresses of group g: its running containers', the host's, its CIDRs. */
static int group_peers(const struct crule *r, unsigned int g, struct nc_peer_set *p, size_t cap)
{
	const struct nc_group *grp = &r->spec.groups[g];
	bool host = false;
	int ret = 0;

	for (size_t i = 0; i < r->n && !ret; i++) {
		const struct member *m = &r->m[i];

		if (m->group != (int)g || (m->state != M_ACTIVE && m->state != M_FAILED))
			continue;
		if (m->host_net)
			host = true;
		for (unsigned int k = 0; k < m->n_addrs && !ret; k++)
			ret = peers_add_str(p, cap, m->addrs[k]);
	}
	for (unsigned int i = 0; i < grp->n_members && !ret; i++) {
		if (grp->members[i].kind == NC_MEMBER_HOST)
			host = true;
		else if (grp->members[i].kind == NC_MEMBER_CIDR)
			ret = peers_add(p, cap, &grp->members[i].cidr);
	}
	if (host && !ret)
		ret = host_peers(p, cap);
	return ret;
}

/* The specs of member m now; *n may be 0 (a partition with nobody across). */
static int member_specs(const struct crule *r, const struct member *m, struct nc_rule_spec *out,
			size_t *n, char *err, size_t errlen)
{
	uint64_t now = now_ns(), left;
	int ret = 0;

	if (r->expires_ns <= now + 1000000) {
		snprintf(err, errlen, "the rule's time is up");
		return -ETIME;
	}
	left = (r->expires_ns - now) / 1000000;
	if (r->spec.n_groups) {
		struct nc_cidr *buf = calloc((size_t)r->spec.n_groups * MAX_PEERS, sizeof(*buf));
		struct nc_peer_set peers[NC_MAX_GROUPS];

		if (!buf)
			return -ENOMEM;
		for (unsigned int g = 0; g < r->spec.n_groups && !ret; g++) {
			peers[g].cidrs = buf + (size_t)g * MAX_PEERS;
			peers[g].n = 0;
			ret = group_peers(r, g, &peers[g], MAX_PEERS);
		}
		if (!ret)
			ret = nc_partition_member_specs(&r->spec, (unsigned int)m->group, peers, out,
							MAX_CHUNKS, n);
		free(buf);
		if (ret) {
			snprintf(err, errlen, "too many peer addresses for %s (at most %d)", m->name,
				 MAX_PEERS);
			return ret;
		}
	} else {
		member_base_spec(&r->spec, &out[0]);
		*n = 1;
	}
	for (size_t i = 0; i < *n; i++) {
		snprintf(out[i].netns, sizeof(out[i].netns), "%s", m->netns);
		out[i].duration_ms = left;
	}
	return 0;
}

/* What the specs depend on, to tell whether a member must be redone. */
static char *member_sig(const struct member *m, const struct nc_rule_spec *specs, size_t n)
{
	size_t cap = 64 + n * (NC_RULE_MAX_CIDRS * 48 + 8), off;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	off = (size_t)snprintf(s, cap, "%d %s", (int)m->pid, m->netns);
	for (size_t i = 0; i < n; i++) {
		off += (size_t)snprintf(s + off, cap - off, " d%u", specs[i].dir_mask);
		for (size_t k = 0; k < specs[i].n_cidrs; k++) {
			char c[64];

			nc_format_cidr(&specs[i].cidrs[k], c, sizeof(c));
			off += (size_t)snprintf(s + off, cap - off, ",%s", c);
		}
	}
	return s;
}

static void member_drop_faults(struct nc_containers *cs, struct member *m, const char *why)
{
	for (size_t i = 0; i < m->n_faults; i++) {
		struct nc_fault_info info;

		if (!nc_faults_get(cs->faults, m->faults[i], &info)) {
			m->carried.matched += info.counters.matched;
			m->carried.affected += info.counters.affected;
		}
		nc_faults_remove(cs->faults, m->faults[i], why);
	}
	m->n_faults = 0;
	free(m->sig);
	m->sig = NULL;
}

/*
 * Put member m's kernel rules in place (or leave them if nothing changed).
 * The new rules go in before the old ones come out, so a peer list update
 * leaves no gap. On failure the old rules stay and err says why.
 */
static int member_apply(struct nc_containers *cs, struct crule *r, struct member *m, bool dry_run,
			char *err, size_t errlen)
{
	struct nc_rule_spec *specs = calloc(MAX_CHUNKS, sizeof(*specs));
	uint32_t ids[MAX_CHUNKS];
	size_t n = 0, done = 0;
	char *sig = NULL;
	int ret;

	if (!specs)
		return -ENOMEM;
	ret = member_specs(r, m, specs, &n, err, errlen);
	if (ret)
		goto out;
	sig = member_sig(m, specs, n);
	if (!sig) {
		ret = -ENOMEM;
		goto out;
	}
	if (!dry_run && m->sig && !strcmp(sig, m->sig) && m->state == M_ACTIVE)
		goto out; /* unchanged */
	for (; done < n; done++) {
		struct nc_fault_info info;
		char why[400];

		specs[done].dry_run = dry_run;
		ret = dry_run ? nc_faults_add(cs->faults, &specs[done], &info, why, sizeof(why)) :
				nc_faults_add_member(cs->faults, &specs[done], r->id, &info, why,
						     sizeof(why));
		if (ret) {
			snprintf(err, errlen, "container %s: %s", m->name, why);
			break;
		}
		if (dry_run) {
			if (!done)
				snprintf(m->plan_ifaces, sizeof(m->plan_ifaces), "%s", info.interfaces);
			m->plan_entries += info.entries;
		}
		ids[done] = info.id;
	}
	if (ret || dry_run) {
		while (!dry_run && done-- > 0)
			nc_faults_remove(cs->faults, ids[done], "undone");
		goto out;
	}
	member_drop_faults(cs, m, "replaced");
	memcpy(m->faults, ids, n * sizeof(ids[0]));
	m->n_faults = n;
	m->sig = sig;
	sig = NULL;
	m->state = M_ACTIVE;
	m->error[0] = '\0';
out:
	free(sig);
	free(specs);
	return ret;
}

/* Bring every running member in line with the rule (peers may have moved). */
static void rule_reconcile(struct nc_containers *cs, struct crule *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct member *m = &r->m[i];
		char err[512];

		if (m->state != M_ACTIVE && m->state != M_FAILED)
			continue;
		if (member_apply(cs, r, m, false, err, sizeof(err))) {
			pr_warn("rule %u: cannot apply in container %s: %s", r->id, m->name, err);
			m->state = M_FAILED;
			snprintf(m->error, sizeof(m->error), "%s", err);
		}
	}
}

static void rule_end(struct nc_containers *cs, struct crule *r, const char *reason, bool keep)
{
	for (size_t i = 0; i < r->n; i++)
		member_drop_faults(cs, &r->m[i], reason);
	if (!r->ended)
		pr_info("rule %u ended (%s)", r->id, reason);
	r->ended = true;
	r->ended_ns = now_ns();
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	if (keep)
		return;
	for (struct crule **pos = &cs->rules; *pos; pos = &(*pos)->next) {
		if (*pos == r) {
			*pos = r->next;
			break;
		}
	}
	free(r->m);
	free(r);
}

static struct member *rule_add_member(struct crule *r)
{
	struct member *m;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;
		struct member *grown = realloc(r->m, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		r->m = grown;
		r->cap = cap;
	}
	m = &r->m[r->n++];
	memset(m, 0, sizeof(*m));
	m->group = -1;
	return m;
}

/* Take what inspect says about the namespace member m acts in. */
static void member_take(struct member *m, const struct nc_docker_container *c)
{
	m->pid = c->pid;
	m->host_net = c->netmode == NC_DOCKER_NET_HOST;
	if (m->host_net)
		m->netns[0] = '\0';
	else
		snprintf(m->netns, sizeof(m->netns), "/proc/%d/ns/net", (int)c->pid);
	m->n_addrs = c->n_addrs;
	memcpy(m->addrs, c->addrs, sizeof(m->addrs));
}

/* ---- JSON ----------------------------------------------------------------- */

/* Append "NAME:IFACE" for each IFACE of a comma-separated list (which it
 * consumes) to a comma-separated list of *off bytes. */
static void add_member_ifaces(char *list, size_t size, size_t *off, const char *name,
			      char *ifaces)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(ifaces, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (*off < size)
			*off += (size_t)snprintf(list + *off, size - *off, "%s%s:%s",
						 *off ? "," : "", name, tok);
}

static json_object *rule_json(struct nc_containers *cs, const struct crule *r)
{
	struct nc_fault_info info;
	json_object *obj, *arr;
	uint64_t now = now_ns();
	size_t off = 0, active = 0, stopped = 0;
	const char *state;

	memset(&info, 0, sizeof(info));
	info.id = r->id;
	info.spec = r->spec;
	info.remaining_ms = !r->ended && r->expires_ns > now ? (r->expires_ns - now) / 1000000 : 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct member *m = &r->m[i];

		info.counters.matched += m->carried.matched;
		info.counters.affected += m->carried.affected;
		active += m->state == M_ACTIVE;
		stopped += m->state == M_STOPPED;
		if (m->plan_ifaces[0]) { /* a dry run's plan */
			char plan[NC_FAULT_IFACES_STR];

			info.entries += m->plan_entries;
			snprintf(plan, sizeof(plan), "%s", m->plan_ifaces);
			add_member_ifaces(info.interfaces, sizeof(info.interfaces), &off, m->name,
					  plan);
		}
		for (size_t k = 0; k < m->n_faults; k++) {
			struct nc_fault_info fi;

			if (nc_faults_get(cs->faults, m->faults[k], &fi))
				continue;
			info.counters.matched += fi.counters.matched;
			info.counters.affected += fi.counters.affected;
			info.entries += fi.entries;
			if (!k)
				add_member_ifaces(info.interfaces, sizeof(info.interfaces), &off,
						  m->name, fi.interfaces);
		}
	}
	obj = nc_rule_json(&info);
	if (!obj)
		return NULL;
	if (r->ended)
		state = "ended";
	else if (active)
		state = "active";
	else
		state = "waiting";
	json_object_object_add(obj, "state", json_object_new_string(state));
	if (r->ended) {
		json_object_object_add(obj, "reason", json_object_new_string(r->reason));
	} else if (!active && stopped) {
		json_object_object_add(obj, "reason",
				       json_object_new_string("containers stopped: re-applied when they start"));
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct member *m = &r->m[i];
		json_object *c = json_object_new_object(), *addrs = json_object_new_array();

		json_object_object_add(c, "name", json_object_new_string(m->name));
		json_object_object_add(c, "id", json_object_new_string(m->id));
		json_object_object_add(c, "netns", json_object_new_string(m->netns[0] ? m->netns : "host"));
		json_object_object_add(c, "pid", json_object_new_int(m->pid));
		json_object_object_add(c, "state", json_object_new_string(mstate_names[m->state]));
		if (m->group >= 0)
			json_object_object_add(c, "group", json_object_new_int(m->group + 1));
		if (m->via[0])
			json_object_object_add(c, "via", json_object_new_string(m->via));
		if (m->error[0])
			json_object_object_add(c, "error", json_object_new_string(m->error));
		for (unsigned int k = 0; k < m->n_addrs; k++)
			json_object_array_add(addrs, json_object_new_string(m->addrs[k]));
		json_object_object_add(c, "addresses", addrs);
		json_object_array_add(arr, c);
	}
	json_object_object_add(obj, "containers", arr);
	if (r->n_notes) {
		arr = json_object_new_array();
		for (size_t i = 0; i < r->n_notes; i++)
			json_object_array_add(arr, json_object_new_string(r->notes[i]));
		json_object_object_add(obj, "notes", arr);
	}
	return obj;
}

/* ---- the event stream ----------------------------------------------------- */

static void job_container_schedule(struct nc_containers *cs, const char *cid, int64_t event_ns);

static bool any_live(const struct nc_containers *cs)
{
	for (const struct crule *r = cs->rules; r; r = r->next)
		if (!r->ended)
			return true;
	return false;
}

static bool known_container(struct nc_containers *cs, const char *id)
{
	for (struct crule *r = cs->rules; r; r = r->next)
		if (!r->ended && member_find(r, id))
			return true;
	return false;
}

static bool any_selectors(const struct nc_containers *cs)
{
	for (const struct crule *r = cs->rules; r; r = r->next)
		if (!r->ended && rule_has_selectors(r))
			return true;
	return false;
}

static int on_docker_event(struct nc_docker_req *req, const struct nc_docker_event *ev, void *arg)
{
	struct nc_containers *cs = arg;
	bool start = !strcmp(ev->action, "start") || !strcmp(ev->action, "restart");

	(void)req;
	if (ev->time_nano > cs->since_ns)
		cs->since_ns = ev->time_nano;
	pr_debug("docker: %s %s (%.12s)", ev->action, ev->name, ev->id);
	if (known_container(cs, ev->id) || (start && any_selectors(cs)))
		job_container_schedule(cs, ev->id, ev->time_nano);
	return 0;
}

static void events_stop(struct nc_containers *cs)
{
	if (!cs->ev.req)
		return;
	if (nc_docker_req_fd(cs->ev.req) >= 0)
		nc_loop_del(cs->epfd, &cs->ev.watch);
	nc_docker_req_free(cs->ev.req);
	cs->ev.req = NULL;
	cs->ev.streaming = false;
}

static void events_lost(struct nc_containers *cs, const char *why)
{
	if (!cs->ev_lost && any_live(cs))
		pr_warn("docker: %s; container rules stay in place, reconnecting every %d ms", why,
			NC_CONTAINERS_RETRY_MS);
	cs->ev_lost = true;
	events_stop(cs);
	cs->ev_retry_ns = now_ns() + NC_CONTAINERS_RETRY_MS * 1000000ull;
}

static void events_ready(struct nc_watch *w, uint32_t events)
{
	struct nc_containers *cs = (struct nc_containers *)((char *)w - offsetof(struct nc_containers, ev));
	char why[NC_DOCKER_ERR_MAX];

	(void)events;
	if (nc_docker_req_on_ready(cs->ev.req) == 0) {
		if (!cs->ev.streaming && nc_docker_req_streaming(cs->ev.req)) {
			cs->ev.streaming = true;
			if (cs->ev_lost) {
				/* Events while away were replayed from since_ns, but
				 * a restarted daemon forgets them: look at every
				 * member again. */
				pr_info("docker: event stream back; checking every container");
				cs->ev_lost = false;
				for (struct crule *r = cs->rules; r; r = r->next)
					for (size_t i = 0; !r->ended && i < r->n; i++)
						job_container_schedule(cs, r->m[i].id, 0);
			}
		}
		nc_loop_mod(cs->epfd, &cs->ev.watch, nc_docker_req_poll_events(cs->ev.req));
		return;
	}
	snprintf(why, sizeof(why), "%s", nc_docker_req_error(cs->ev.req));
	events_lost(cs, why);
}

static int events_start(struct nc_containers *cs)
{
	struct nc_docker_req *req;
	int ret;

	if (cs->ev.req)
		return 0;
	req = nc_docker_req_new(&cs->dock, NULL, cs);
	if (!req)
		return -ENOMEM;
	/* a fresh start follows from now; a reconnect from the last event seen */
	if (!cs->since_ns || !any_live(cs))
		cs->since_ns = wall_ns();
	ret = nc_docker_req_events(req, NULL, 0, cs->since_ns, on_docker_event);
	if (ret) {
		char why[NC_DOCKER_ERR_MAX];

		snprintf(why, sizeof(why), "%s", nc_docker_req_error(req));
		nc_docker_req_free(req);
		events_lost(cs, why);
		return ret;
	}
	cs->ev.req = req;
	cs->ev.watch.fd = nc_docker_req_fd(req);
	cs->ev.watch.cb = events_ready;
	ret = nc_loop_add(cs->epfd, &cs->ev.watch, nc_docker_req_poll_events(req));
	if (ret) {
		nc_docker_req_free(req);
		cs->ev.req = NULL;
	}
	return ret;
}

/* ---- jobs ----------------------------------------------------------------- */

static void job_step(struct job *j);

static void item_close(struct item *it)
{
	if (!it->req)
		return;
	if (nc_docker_req_fd(it->req) >= 0)
		nc_loop_del(it->job->cs->epfd, &it->watch);
	nc_docker_req_free(it->req);
	it->req = NULL;
}

static void item_finish(struct item *it, int status, const char *err)
{
	struct job *j = it->job;

	item_close(it);
	it->finished = true;
	it->status = status;
	if (status)
		snprintf(it->err, sizeof(it->err), "%s", err);
	j->pending--;
}

static void item_ready(struct nc_watch *w, uint32_t events)
{
	struct item *it = (struct item *)w;
	struct job *j = it->job;
	char err[NC_DOCKER_ERR_MAX];

	(void)events;
	if (nc_docker_req_on_ready(it->req) == 0) {
		nc_loop_mod(j->cs->epfd, &it->watch, nc_docker_req_poll_events(it->req));
		return;
	}
	snprintf(err, sizeof(err), "%s", nc_docker_req_error(it->req));
	item_finish(it, nc_docker_req_status(it->req), err);
	if (!j->pending)
		job_step(j); /* may free j and it */
}

/* Start a request; a failure to start is the item's result (no exception
 * path): the job sees it with the others. */
static struct item *job_start(struct job *j, bool is_list, const char *ref, const char *what,
			      int group, int parent)
{
	struct nc_containers *cs = j->cs;
	const char *labels[1] = { ref };
	struct item *it;
	int ret;

	if (j->n_items == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 8;
		struct item **grown = realloc(j->items, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		j->items = grown;
		j->cap = cap;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	j->items[j->n_items++] = it;
	it->job = j;
	it->is_list = is_list;
	it->group = group;
	it->parent = parent;
	snprintf(it->ref, sizeof(it->ref), "%s", ref);
	snprintf(it->what, sizeof(it->what), "%s", what);
	j->pending++;
	if (cs->dock_ret) {
		item_finish(it, cs->dock_ret, cs->dock_err);
		return it;
	}
	it->req = nc_docker_req_new(&cs->dock, NULL, it);
	if (!it->req) {
		item_finish(it, -ENOMEM, "out of memory");
		return it;
	}
	ret = is_list ? nc_docker_req_list(it->req, labels, 1, &it->list) :
			nc_docker_req_inspect(it->req, ref, &it->c);
	if (!ret) {
		it->watch.fd = nc_docker_req_fd(it->req);
		it->watch.cb = item_ready;
		ret = nc_loop_add(cs->epfd, &it->watch, nc_docker_req_poll_events(it->req));
		if (ret)
			snprintf(it->err, sizeof(it->err), "epoll: %s", strerror(-ret));
	} else {
		snprintf(it->err, sizeof(it->err), "%s", nc_docker_req_error(it->req));
	}
	if (ret) {
		char err[NC_DOCKER_ERR_MAX];

		snprintf(err, sizeof(err), "%s", it->err);
		item_finish(it, ret, err);
	}
	return it;
}

static struct job *job_new(struct nc_containers *cs, enum job_kind kind, uint64_t timeout_ms)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cs = cs;
	j->kind = kind;
	j->deadline_ns = now_ns() + timeout_ms * 1000000ull;
	j->next = cs->jobs;
	cs->jobs = j;
	return j;
}

static void job_free(struct job *j)
{
	for (struct job **pos = &j->cs->jobs; *pos; pos = &(*pos)->next) {
		if (*pos == j) {
			*pos = j->next;
			break;
		}
	}
	for (size_t i = 0; i < j->n_items; i++) {
		item_close(j->items[i]);
		nc_docker_list_free(&j->items[i]->list);
		free(j->items[i]);
	}
	free(j->items);
	free(j);
}

static void job_reply(struct job *j, json_object *reply)
{
	nc_containers_done_fn done = j->done;
	void *arg = j->arg;

	job_free(j);
	if (done)
		done(reply, arg);
	else
		json_object_put(reply);
}

/* Docker could not be reached at all: say where the socket comes from. */
static const char *hint(const char *err)
{
	return strncmp(err, "cannot reach Docker", 19) ? "" :
	       " (is dockerd running? netchaosd --docker-socket or DOCKER_HOST picks the socket)";
}

/* ---- add ------------------------------------------------------------------ */

static bool add_expand(struct job *j)
{
	size_t n = j->n_items;
	bool started = false;

	for (size_t i = 0; i < n; i++) {
		struct item *it = j->items[i];

		if (it->expanded || it->status)
			continue;
		it->expanded = true;
		if (it->is_list) {
			for (size_t k = 0; k < it->list.count; k++) {
				char what[NC_DOCKER_NAME_MAX + 16];

				if (!it->list.items[k].running)
					continue;
				snprintf(what, sizeof(what), "container %s", it->list.items[k].name);
				job_start(j, false, it->list.items[k].id, what, it->group, (int)i);
				started = true;
			}
		} else if (it->c.netmode == NC_DOCKER_NET_CONTAINER && it->c.running) {
			char what[NC_DOCKER_NAME_MAX + 16];

			snprintf(what, sizeof(what), "container %s", it->c.netmode_target);
			job_start(j, false, it->c.netmode_target, what, it->group, (int)i);
			started = true;
		}
	}
	return started;
}

/* The first error of the resolution, as the user should read it. */
static int add_check(struct job *j, char *err, size_t errlen)
{
	const struct nc_rule_spec *spec = &j->spec;

	for (size_t i = 0; i < j->n_items; i++) {
		struct item *it = j->items[i];
		const struct nc_docker_container *c = &it->c;

		if (it->status) {
			snprintf(err, errlen, "%s%s", it->err, hint(it->err));
			return it->status;
		}
		if (it->is_list) {
			size_t running = 0;

			for (size_t k = 0; k < it->list.count; k++)
				running += it->list.items[k].running;
			if (!running) {
				snprintf(err, errlen, "no running container has %s", it->what);
				return -ENOENT;
			}
			continue;
		}
		if (!c->running || !c->pid) {
			if (it->parent >= 0 && !j->items[it->parent]->is_list)
				snprintf(err, errlen,
					 "container %s shares the network namespace of container %s, which is not running",
					 j->items[it->parent]->c.name, c->name);
			else
				snprintf(err, errlen,
					 "container %s is not running (a stopped container has no network namespace; start it first)",
					 c->name);
			return -ESRCH;
		}
		if (c->netmode == NC_DOCKER_NET_HOST && !spec->allow_host_network) {
			snprintf(err, errlen,
				 "container %s uses the host's network (--network host): a fault there hits the whole host; add --allow-host-network if that is what you mean",
				 c->name);
			return -EPERM;
		}
	}
	return 0;
}

/* Members from the resolved items; all-or-nothing checks on the way. */
static int add_members(struct job *j, struct crule *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < j->n_items; i++) {
		struct item *it = j->items[i];
		struct member *m;
		char via[NC_DOCKER_NAME_MAX] = "";

		if (it->is_list || it->c.netmode == NC_DOCKER_NET_CONTAINER)
			continue;
		if (it->parent >= 0 && !j->items[it->parent]->is_list) {
			snprintf(via, sizeof(via), "%s", j->items[it->parent]->c.name);
			add_note(r, "container %s shares the network namespace of container %s: the fault acts in %s's namespace, on every container that uses it",
				 via, it->c.name, it->c.name);
		}
		m = member_find(r, it->c.id);
		if (m) {
			if (m->group != it->group) {
				snprintf(err, errlen, "container %s is in group %d and in group %d",
					 it->c.name, m->group + 1, it->group + 1);
				return -EINVAL;
			}
			continue;
		}
		m = rule_add_member(r);
		if (!m) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		snprintf(m->id, sizeof(m->id), "%s", it->c.id);
		snprintf(m->name, sizeof(m->name), "%s", it->c.name);
		snprintf(m->via, sizeof(m->via), "%s", via);
		m->group = it->group;
		member_take(m, &it->c);
		if (m->host_net)
			add_note(r, "container %s uses the host's network: the fault acts on the host", m->name);
	}
	/* a pair of groups with no container on either side has nowhere to act */
	for (unsigned int g = 0; g < r->spec.n_groups; g++) {
		for (unsigned int h = g + 1; h < r->spec.n_groups; h++) {
			bool any = false;

			if (r->spec.one_way && g != 0)
				continue;
			for (size_t i = 0; i < r->n; i++)
				any |= r->m[i].group == (int)g || r->m[i].group == (int)h;
			if (!any) {
				snprintf(err, errlen,
					 "groups %u and %u have no container: netchaos acts inside containers' namespaces (for the host's own traffic use partition --ip)",
					 g + 1, h + 1);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static json_object *error_reply(const char *err)
{
	return nc_reply_error("%s", err);
}

static void add_finish(struct job *j)
{
	struct nc_containers *cs = j->cs;
	struct crule *r = calloc(1, sizeof(*r));
	json_object *reply = NULL, *obj;
	char err[1024] = "", desc[512];
	int ret;

	if (!r) {
		job_reply(j, error_reply("out of memory"));
		return;
	}
	r->spec = j->spec;
	r->expires_ns = now_ns() + j->spec.duration_ms * 1000000ull;
	ret = add_check(j, err, sizeof(err));
	if (!ret)
		ret = add_members(j, r, err, sizeof(err));
	if (ret)
		goto fail;
	nc_spec_describe_target(&r->spec, desc, sizeof(desc));
	if (j->spec.dry_run) {
		for (size_t i = 0; i < r->n && !ret; i++)
			ret = member_apply(cs, r, &r->m[i], true, err, sizeof(err));
		if (ret)
			goto fail;
		obj = rule_json(cs, r);
		json_object_object_del(obj, "id");
		reply = nc_reply_ok();
		json_object_object_add(reply, "dry_run", json_object_new_boolean(1));
		json_object_object_add(reply, "plan", obj);
		free(r->m);
		free(r);
		job_reply(j, reply);
		return;
	}
	r->id = nc_faults_new_id(cs->faults);
	/* in the list before applying: member rules refer to its id */
	r->next = NULL;
	{
		struct crule **pos = &cs->rules;

		while (*pos)
			pos = &(*pos)->next;
		*pos = r;
	}
	for (size_t i = 0; i < r->n && !ret; i++)
		ret = member_apply(cs, r, &r->m[i], false, err, sizeof(err));
	if (ret) {
		for (size_t i = 0; i < r->n; i++)
			member_drop_faults(cs, &r->m[i], "undone");
		for (struct crule **pos = &cs->rules; *pos; pos = &(*pos)->next) {
			if (*pos == r) {
				*pos = r->next;
				break;
			}
		}
		goto fail;
	}
	for (size_t i = 0; i < r->n; i++)
		pr_info("rule %u: %s %s: applied in container %s (%.12s, %s)", r->id,
			nc_fault_kind_name(r->spec.kind), desc, r->m[i].name, r->m[i].id,
			r->m[i].netns[0] ? r->m[i].netns : "host");
	obj = rule_json(cs, r);
	reply = nc_reply_ok();
	json_object_object_add(reply, "rule", obj);
	job_reply(j, reply);
	return;
fail:
	pr_info("add %s refused: %s", nc_fault_kind_name(j->spec.kind), err);
	free(r->m);
	free(r);
	job_reply(j, error_reply(err));
}

int nc_containers_add(struct nc_containers *cs, const struct nc_rule_spec *spec,
		      nc_containers_done_fn done, void *arg, char *err, size_t errlen)
{
	struct job *j;
	int ret;

	ret = nc_spec_validate(spec, err, errlen);
	if (ret)
		return ret;
	if (!nc_containers_wanted(spec)) {
		snprintf(err, errlen, "no container named");
		return -EINVAL;
	}
	if (cs->dock_ret) {
		snprintf(err, errlen, "%s", cs->dock_err);
		return cs->dock_ret;
	}
	j = job_new(cs, JOB_ADD, NC_CONTAINERS_ADD_TIMEOUT_MS);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	j->spec = *spec;
	/* follow from now on, before looking: no start falls in between */
	if (!spec->dry_run)
		events_start(cs);
	for (unsigned int i = 0; i < spec->n_containers; i++) {
		char what[NC_CONTAINER_REF_MAX + 16];

		snprintf(what, sizeof(what), "container %s", spec->containers[i]);
		job_start(j, false, spec->containers[i], what, -1, -1);
	}
	for (unsigned int i = 0; i < spec->n_labels; i++) {
		char what[NC_CONTAINER_REF_MAX + 16];

		snprintf(what, sizeof(what), "label %s", spec->labels[i]);
		job_start(j, true, spec->labels[i], what, -1, -1);
	}
	for (unsigned int i = 0; i < spec->n_services; i++) {
		char what[NC_CONTAINER_REF_MAX + 32], filter[NC_CONTAINER_REF_MAX + 32];

		snprintf(what, sizeof(what), "compose service %s", spec->services[i]);
		nc_docker_service_filter(spec->services[i], filter, sizeof(filter));
		job_start(j, true, filter, what, -1, -1);
	}
	for (unsigned int g = 0; g < spec->n_groups; g++) {
		for (unsigned int i = 0; i < spec->groups[g].n_members; i++) {
			const struct nc_group_member *gm = &spec->groups[g].members[i];
			char what[NC_CONTAINER_REF_MAX + 32], filter[NC_CONTAINER_REF_MAX + 32];

			switch (gm->kind) {
			case NC_MEMBER_CONTAINER:
				snprintf(what, sizeof(what), "container %s", gm->ref);
				job_start(j, false, gm->ref, what, (int)g, -1);
				break;
			case NC_MEMBER_LABEL:
				snprintf(what, sizeof(what), "label %s", gm->ref);
				job_start(j, true, gm->ref, what, (int)g, -1);
				break;
			case NC_MEMBER_SERVICE:
				snprintf(what, sizeof(what), "compose service %s", gm->ref);
				nc_docker_service_filter(gm->ref, filter, sizeof(filter));
				job_start(j, true, filter, what, (int)g, -1);
				break;
			default:
				break;
			}
		}
	}
	/* Docker not reachable at all: say so now, not a loop turn later. */
	for (size_t i = 0; i < j->n_items; i++) {
		if (j->items[i]->finished && j->items[i]->status) {
			ret = j->items[i]->status;
			snprintf(err, errlen, "%s%s", j->items[i]->err, hint(j->items[i]->err));
			job_free(j);
			return ret;
		}
	}
	if (!j->n_items) {
		job_free(j);
		snprintf(err, errlen, "no container named");
		return -EINVAL;
	}
	j->done = done;
	j->arg = arg;
	return 0;
}

/* ---- one container changed ------------------------------------------------ */

/* A container not in rule r (yet): does one of r's selectors pick it? The
 * group it joins, -1 for a plain target, or -2 for no. */
static int selector_match(const struct crule *r, const struct nc_docker_container *c)
{
	for (unsigned int i = 0; i < r->spec.n_labels; i++)
		if (nc_docker_has_label(c, r->spec.labels[i]))
			return -1;
	for (unsigned int i = 0; i < r->spec.n_services; i++)
		if (c->service[0] && !strcmp(c->service, r->spec.services[i]))
			return -1;
	for (unsigned int g = 0; g < r->spec.n_groups; g++) {
		for (unsigned int i = 0; i < r->spec.groups[g].n_members; i++) {
			const struct nc_group_member *gm = &r->spec.groups[g].members[i];

			if ((gm->kind == NC_MEMBER_LABEL && nc_docker_has_label(c, gm->ref)) ||
			    (gm->kind == NC_MEMBER_SERVICE && c->service[0] &&
			     !strcmp(c->service, gm->ref)))
				return (int)g;
		}
	}
	return -2;
}

static void container_update(struct nc_containers *cs, struct item *it, int64_t event_ns)
{
	const struct nc_docker_container *c = &it->c;
	bool gone = it->status == -ENOENT;
	bool running = !it->status && c->running && c->pid;

	if (it->status && !gone) {
		pr_warn("docker: cannot look at container %.12s: %s", it->ref, it->err);
		return;
	}
	for (struct crule *r = cs->rules, *next; r; r = next) {
		struct member *m = member_find(r, it->ref);
		bool changed = false, left = false;

		next = r->next;
		if (r->ended)
			continue;
		if (!m && running && !gone) {
			int g = selector_match(r, c);

			if (g == -2)
				continue;
			if (c->netmode == NC_DOCKER_NET_CONTAINER ||
			    (c->netmode == NC_DOCKER_NET_HOST && !r->spec.allow_host_network)) {
				pr_info("rule %u: not following new container %s: it has %s's network",
					r->id, c->name, c->netmode == NC_DOCKER_NET_HOST ? "the host" :
					c->netmode_target);
				continue;
			}
			m = rule_add_member(r);
			if (!m)
				continue;
			snprintf(m->id, sizeof(m->id), "%s", c->id);
			snprintf(m->name, sizeof(m->name), "%s", c->name);
			m->group = g;
			m->state = M_STOPPED; /* applied just below */
			pr_info("rule %u: new container %s matches: following it", r->id, c->name);
		}
		if (!m)
			continue;
		if (gone) {
			member_drop_faults(cs, m, "container removed");
			changed = m->state == M_ACTIVE;
			m->state = M_GONE;
			pr_info("rule %u: container %s removed", r->id, m->name);
		} else if (!running) {
			member_drop_faults(cs, m, "container stopped");
			changed = m->state == M_ACTIVE;
			if (m->state != M_STOPPED)
				pr_info("rule %u: container %s stopped; waiting for it to start",
					r->id, m->name);
			m->state = M_STOPPED;
			m->n_addrs = 0;
		} else {
			char err[512];
			pid_t old = m->pid;
			bool was = m->state == M_ACTIVE;

			snprintf(m->name, sizeof(m->name), "%s", c->name);
			member_take(m, c);
			if (member_apply(cs, r, m, false, err, sizeof(err))) {
				pr_warn("rule %u: cannot re-apply in container %s: %s", r->id,
					m->name, err);
				m->state = M_FAILED;
				snprintf(m->error, sizeof(m->error), "%s", err);
			} else if (old != m->pid || !was) {
				char after[64] = "";

				/* how long after Docker said so: the follow-up latency */
				if (event_ns > 0)
					snprintf(after, sizeof(after), ", %.1f ms after Docker's event",
						 (double)(wall_ns() - event_ns) / 1e6);
				pr_info("rule %u: %s in container %s (pid %d, %s%s)", r->id,
					old ? "re-applied" : "applied", m->name, (int)m->pid,
					m->netns[0] ? m->netns : "host", after);
			}
			changed = true;
		}
		for (size_t i = 0; i < r->n; i++)
			left |= r->m[i].state != M_GONE;
		if (!left) {
			rule_end(cs, r, "container removed", true);
			continue;
		}
		/* partitions: the others' peer lists follow addresses */
		if (changed && r->spec.n_groups)
			rule_reconcile(cs, r);
	}
}

static void job_container_run(struct job *j)
{
	char what[NC_DOCKER_ID_MAX + 16];

	snprintf(what, sizeof(what), "container %.12s", j->cid);
	job_start(j, false, j->cid, what, -1, -1);
	if (!j->pending)
		job_step(j); /* could not even start: handled as an answer */
}

static void job_container_schedule(struct nc_containers *cs, const char *cid, int64_t event_ns)
{
	struct job *j;

	for (j = cs->jobs; j; j = j->next) {
		if (j->kind == JOB_CONTAINER && !strcmp(j->cid, cid)) {
			j->again = true;
			j->again_ns = event_ns;
			return;
		}
	}
	j = job_new(cs, JOB_CONTAINER, NC_CONTAINERS_ADD_TIMEOUT_MS);
	if (!j)
		return;
	snprintf(j->cid, sizeof(j->cid), "%s", cid);
	j->event_ns = event_ns;
	job_container_run(j);
}

static void job_step(struct job *j)
{
	if (j->kind == JOB_ADD) {
		if (now_ns() < j->deadline_ns && add_expand(j) && j->pending)
			return;
		add_finish(j); /* frees j */
		return;
	}
	container_update(j->cs, j->items[j->n_items - 1], j->event_ns);
	if (j->again) {
		/* the container moved on while we looked: look again */
		j->again = false;
		j->event_ns = j->again_ns;
		j->deadline_ns = now_ns() + NC_CONTAINERS_ADD_TIMEOUT_MS * 1000000ull;
		job_container_run(j);
		return;
	}
	job_free(j);
}

/* ---- the rest of the interface -------------------------------------------- */

int nc_containers_new(const struct nc_containers_config *cfg, struct nc_containers **out)
{
	struct nc_containers *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -ENOMEM;
	cs->epfd = cfg->epfd;
	cs->faults = cfg->faults;
	cs->ev.watch.fd = -1;
	cs->dock_ret = nc_docker_init(&cs->dock, cfg->docker_sock, cs->dock_err,
				      sizeof(cs->dock_err));
	if (cs->dock_ret)
		pr_warn("docker: %s; container targets are unavailable", cs->dock_err);
	else
		pr_debug("docker: Engine API at %s", cs->dock.sock_path);
	*out = cs;
	return 0;
}

int nc_containers_list(struct nc_containers *cs, json_object *arr)
{
	for (struct crule *r = cs->rules; r; r = r->next) {
		json_object *obj = rule_json(cs, r);

		if (!obj || json_object_array_add(arr, obj)) {
			json_object_put(obj);
			return -ENOMEM;
		}
	}
	return 0;
}

int nc_containers_clear(struct nc_containers *cs, uint32_t id)
{
	struct crule *r = rule_find(cs, id);

	if (!r)
		return -ENOENT;
	rule_end(cs, r, "cleared", false);
	return 0;
}

/* The kernel rules of r's members get req; back to old on failure. */
static int rule_change_members(struct nc_containers *cs, struct crule *r,
			       const struct nc_change_req *req, const struct nc_change_req *old,
			       char *err, size_t errlen)
{
	struct nc_fault_info info;
	struct { uint32_t fault; size_t member; } *todo;
	size_t n = 0, done;
	char why[400];
	int ret = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->m[i].n_faults;
	todo = calloc(n ? n : 1, sizeof(*todo));
	if (!todo) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t k = 0; k < r->m[i].n_faults; k++) {
			todo[n].fault = r->m[i].faults[k];
			todo[n++].member = i;
		}
	}
	for (done = 0; done < n; done++) {
		ret = nc_faults_change(cs->faults, todo[done].fault, req, &info, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "container %s: %s", r->m[todo[done].member].name, why);
			break;
		}
	}
	while (ret && !req->dry_run && done-- > 0)
		if (nc_faults_change(cs->faults, todo[done].fault, old, &info, why, sizeof(why)))
			pr_warn("rule %u: cannot restore container %s: %s", r->id,
				r->m[todo[done].member].name, why);
	free(todo);
	return ret;
}

bool nc_containers_has(const struct nc_containers *cs, uint32_t id)
{
	for (const struct crule *r = cs->rules; r; r = r->next)
		if (r->id == id)
			return true;
	return false;
}

int nc_containers_change(struct nc_containers *cs, const struct nc_change_req *req,
			 json_object **rule, char *err, size_t errlen)
{
	struct crule *r = rule_find(cs, req->id);
	struct nc_change_req check = *req, old = { .id = req->id };
	struct nc_rule_spec spec;
	uint64_t now = now_ns();
	int ret;

	if (!r) {
		snprintf(err, errlen, "no rule %u", req->id);
		return -ENOENT;
	}
	if (r->ended) {
		snprintf(err, errlen, "rule %u has ended (%s)", r->id, r->reason);
		return -ESRCH;
	}
	spec = r->spec;
	ret = req->has_fault ? nc_spec_change_fault(&spec, &req->fault, err, errlen) : 0;
	if (ret)
		return ret;
	if (req->has_duration) {
		spec.duration_ms = req->duration_ms;
		ret = nc_faults_check_duration(cs->faults, req->duration_ms, err, errlen);
		if (ret)
			return ret;
	}
	ret = nc_spec_validate(&spec, err, errlen);
	if (ret)
		return ret;
	/* every member first as a dry run, so that a refusal changes nothing */
	check.dry_run = true;
	ret = rule_change_members(cs, r, &check, NULL, err, errlen);
	if (ret || req->dry_run)
		goto reply;
	old.has_fault = req->has_fault;
	old.fault = r->spec;
	old.has_duration = req->has_duration;
	old.duration_ms = r->expires_ns > now ? (r->expires_ns - now) / 1000000 : 1;
	ret = rule_change_members(cs, r, req, &old, err, errlen);
	if (ret)
		return ret;
	r->spec.prob = spec.prob;
	r->spec.payload = spec.payload;
	r->spec.netem = spec.netem;
	if (req->has_duration) {
		r->spec.duration_ms = spec.duration_ms;
		r->expires_ns = now + spec.duration_ms * 1000000ull;
	}
reply:
	if (ret)
		return ret;
	*rule = rule_json(cs, r);
	if (*rule && req->dry_run) {
		json_object *tmp = json_object_new_object(), *fault;

		/* what the rule would become */
		if (tmp && !nc_spec_to_json(&spec, tmp) &&
		    json_object_object_get_ex(tmp, "fault", &fault))
			json_object_object_add(*rule, "fault", json_object_get(fault));
		json_object_put(tmp);
		if (req->has_duration)
			json_object_object_add(*rule, "remaining_ms",
					       json_object_new_uint64(req->duration_ms));
	}
	if (!*rule)
		snprintf(err, errlen, "out of memory (%s)",
			 req->dry_run ? "nothing changed" : "the change was made");
	return *rule ? 0 : -ENOMEM;
}

size_t nc_containers_clear_all(struct nc_containers *cs, uint32_t *ids, size_t max)
{
	size_t n = 0;
	struct job *adds = NULL, **pos = &cs->jobs;

	/* Adds still resolving would land after "everything" was cleared.
	 * Detached first: a reply lets the server read that client's next
	 * request, which may change the job list under us. */
	while (*pos) {
		struct job *j = *pos;

		if (j->kind == JOB_ADD) {
			*pos = j->next;
			j->next = adds;
			adds = j;
		} else {
			pos = &j->next;
		}
	}
	while (adds) {
		struct job *j = adds;

		adds = j->next;
		j->next = NULL;
		job_reply(j, error_reply("cancelled: every rule was cleared while the containers were being resolved"));
	}

	while (cs->rules) {
		struct crule *r = cs->rules;

		if (!r->ended) {
			if (ids && n < max)
				ids[n] = r->id;
			n++;
		}
		rule_end(cs, r, "cleared", false);
	}
	return n;
}

size_t nc_containers_count(const struct nc_containers *cs)
{
	size_t n = 0;

	for (const struct crule *r = cs->rules; r; r = r->next)
		n += !r->ended;
	return n;
}

void nc_containers_tick(struct nc_containers *cs)
{
	uint64_t now = now_ns();
	struct crule *r, *next;
	struct job *j, *jnext;

	for (r = cs->rules; r; r = next) {
		next = r->next;
		if (!r->ended && r->expires_ns <= now)
			rule_end(cs, r, "expired", false);
		else if (r->ended && now - r->ended_ns > NC_CONTAINERS_ENDED_KEEP_MS * 1000000ull)
			rule_end(cs, r, r->reason, false);
	}
rescan:
	for (j = cs->jobs; j; j = jnext) {
		jnext = j->next;
		if (now < j->deadline_ns)
			continue;
		for (size_t i = 0; i < j->n_items; i++) {
			char err[NC_DOCKER_ERR_MAX];

			if (j->items[i]->finished)
				continue;
			snprintf(err, sizeof(err), "Docker at %s did not answer within %d ms",
				 cs->dock.sock_path, NC_CONTAINERS_ADD_TIMEOUT_MS);
			item_finish(j->items[i], -ETIMEDOUT, err);
		}
		j->again = false;
		/* frees j, and its reply may let a client change the job list */
		job_step(j);
		goto rescan;
	}
	if (any_live(cs)) {
		if (!cs->ev.req && now >= cs->ev_retry_ns)
			events_start(cs);
	} else if (cs->ev.req && !cs->jobs) {
		events_stop(cs); /* nothing to follow */
		cs->ev_lost = false;
	}
}

void nc_containers_free(struct nc_containers *cs)
{
	if (!cs)
		return;
	while (cs->jobs) {
		struct job *j = cs->jobs;

		if (j->kind == JOB_ADD)
			job_reply(j, error_reply("netchaosd is stopping"));
		else
			job_free(j);
	}
	nc_containers_clear_all(cs, NULL, 0);
	events_stop(cs);
	free(cs);
}
