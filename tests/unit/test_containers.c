// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pure parts of container rules: the per-member kernel
 * rules of a group partition (agent/containers.c), and the addresses and
 * labels agent/docker.c reads from an inspect answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "containers.h"
#include "docker.h"
#include "spec.h"
#include "units.h"

static struct nc_cidr cidr(const char *s)
{
	struct nc_cidr c;

	assert_int_equal(nc_parse_cidr(s, &c), 0);
	return c;
}

static void partition_spec(struct nc_rule_spec *s, unsigned int groups, bool one_way)
{
	nc_spec_init(s);
	s->kind = NC_FAULT_PARTITION;
	s->n_groups = (uint8_t)groups;
	s->one_way = one_way;
	for (unsigned int g = 0; g < groups; g++) {
		s->groups[g].n_members = 1;
		s->groups[g].members[0].kind = NC_MEMBER_CONTAINER;
		snprintf(s->groups[g].members[0].ref, NC_CONTAINER_REF_MAX, "c%u", g);
	}
}

static bool has_peer(const struct nc_rule_spec *s, const char *want)
{
	struct nc_cidr c = cidr(want);

	for (unsigned int i = 0; i < s->n_cidrs; i++)
		if (!memcmp(&s->cidrs[i], &c, sizeof(c)))
			return true;
	return false;
}

/* web,api | db | 10.9.0.0/16: each member drops both ways to every other
 * group, never to its own. */
static void test_two_way(void **state)
{
	struct nc_cidr g0[] = { cidr("172.31.250.2"), cidr("172.31.250.3") };
	struct nc_cidr g1[] = { cidr("172.31.250.4"), cidr("fd00::4") };
	struct nc_cidr g2[] = { cidr("10.9.0.0/16") };
	struct nc_peer_set peers[] = { { g0, 2 }, { g1, 2 }, { g2, 1 } };
	struct nc_rule_spec spec, out[4];
	char err[256];
	size_t n;

	partition_spec(&spec, 3, false);
	assert_int_equal(nc_partition_member_specs(&spec, 0, peers, out, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].kind, NC_FAULT_PARTITION);
	assert_int_equal(out[0].dir_mask, NC_DIR_BOTH);
	assert_int_equal(out[0].n_cidrs, 3);
	assert_true(has_peer(&out[0], "172.31.250.4"));
	assert_true(has_peer(&out[0], "fd00::4"));
	assert_true(has_peer(&out[0], "10.9.0.0/16"));
	assert_false(has_peer(&out[0], "172.31.250.3"));
	/* an ordinary per-namespace rule: no groups, no containers */
	assert_int_equal(out[0].n_groups, 0);
	assert_int_equal(out[0].n_containers, 0);
	out[0].netns[0] = '\0';
	assert_int_equal(nc_spec_validate(&out[0], err, sizeof(err)), 0);

	assert_int_equal(nc_partition_member_specs(&spec, 1, peers, out, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].n_cidrs, 3);
	assert_true(has_peer(&out[0], "172.31.250.2"));
	assert_true(has_peer(&out[0], "172.31.250.3"));
	assert_true(has_peer(&out[0], "10.9.0.0/16"));
}

/* One-way: group 0 sends nothing to the others (egress), the others
 * receive nothing from group 0 (ingress); groups 1 and 2 stay connected. */
static void test_one_way(void **state)
{
	struct nc_cidr g0[] = { cidr("172.31.250.2") };
	struct nc_cidr g1[] = { cidr("172.31.250.4") };
	struct nc_cidr g2[] = { cidr("172.31.250.5") };
	struct nc_peer_set peers[] = { { g0, 1 }, { g1, 1 }, { g2, 1 } };
	struct nc_rule_spec spec, out[2];
	size_t n;

	partition_spec(&spec, 3, true);
	assert_int_equal(nc_partition_member_specs(&spec, 0, peers, out, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].dir_mask, NC_DIR_EGRESS);
	assert_int_equal(out[0].n_cidrs, 2);
	assert_true(has_peer(&out[0], "172.31.250.4"));
	assert_true(has_peer(&out[0], "172.31.250.5"));
	assert_false(out[0].one_way);

	assert_int_equal(nc_partition_member_specs(&spec, 2, peers, out, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].dir_mask, NC_DIR_INGRESS);
	assert_int_equal(out[0].n_cidrs, 1);
	assert_true(has_peer(&out[0], "172.31.250.2"));
}

/* More peers than one rule holds: several rules; duplicates once; nobody
 * across: no rule at all; too many for max: -E2BIG. */
static void test_chunks(void **state)
{
	struct nc_cidr g0[1] = { cidr("10.0.0.1") }, g1[40];
	struct nc_peer_set peers[] = { { g0, 1 }, { g1, 0 } };
	struct nc_rule_spec spec, out[3];
	size_t n;

	partition_spec(&spec, 2, false);
	assert_int_equal(nc_partition_member_specs(&spec, 0, peers, out, 3, &n), 0);
	assert_int_equal(n, 0);

	for (unsigned int i = 0; i < 40; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.1.0.%u", i % 20); /* each twice */
		g1[i] = cidr(a);
	}
	peers[1].n = 40;
	assert_int_equal(nc_partition_member_specs(&spec, 0, peers, out, 3, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].n_cidrs, NC_RULE_MAX_CIDRS);
	assert_int_equal(out[1].n_cidrs, 20 - NC_RULE_MAX_CIDRS);

	assert_int_equal(nc_partition_member_specs(&spec, 0, peers, out, 1, &n), -E2BIG);
	assert_int_equal(nc_partition_member_specs(&spec, 5, peers, out, 3, &n), -EINVAL);
}

static const char inspect_two_nets[] =
	"{\"Id\":\"4db5c5a7f84fc379adc4651caf0ac0fd0c681eee0cbb2f6bea72e9249b942937\","
	"\"Name\":\"/web\",\"State\":{\"Running\":true,\"Pid\":15366},"
	"\"HostConfig\":{\"NetworkMode\":\"front\"},"
	"\"Config\":{\"Labels\":{\"tier\":\"cache\",\"com.docker.compose.service\":\"web\","
	"\"empty\":\"\"}},"
	"\"NetworkSettings\":{\"SandboxKey\":\"/var/run/docker/netns/b1a9050776ce\","
	"\"Networks\":{\"front\":{\"IPAddress\":\"172.20.0.2\",\"GlobalIPv6Address\":\"fd00:20::2\"},"
	"\"back\":{\"IPAddress\":\"172.21.0.2\",\"GlobalIPv6Address\":\"\"}}}}";

static void test_inspect_addrs_labels(void **state)
{
	struct nc_docker_container *c = calloc(1, sizeof(*c));
	char err[256];

	assert_non_null(c);
	assert_int_equal(nc_docker_parse_inspect(inspect_two_nets, strlen(inspect_two_nets), c,
						 err, sizeof(err)), 0);
	assert_int_equal(c->n_addrs, 3);
	assert_string_equal(c->addrs[0], "172.20.0.2");
	assert_string_equal(c->addrs[1], "fd00:20::2");
	assert_string_equal(c->addrs[2], "172.21.0.2");
	assert_int_equal(c->netmode, NC_DOCKER_NET_CUSTOM);
	assert_true(nc_docker_has_label(c, "tier=cache"));
	assert_true(nc_docker_has_label(c, "tier"));
	assert_true(nc_docker_has_label(c, "empty="));
	assert_true(nc_docker_has_label(c, "empty"));
	assert_false(nc_docker_has_label(c, "tier=web"));
	assert_false(nc_docker_has_label(c, "tie"));
	assert_false(nc_docker_has_label(c, "tier=cach"));
	assert_true(nc_docker_has_label(c, "com.docker.compose.service=web"));
	assert_false(c->labels_truncated);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_way),
		cmocka_unit_test(test_one_way),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_inspect_addrs_labels),
	};

	return cmocka_run_group_tests_name("containers", tests, NULL, NULL);
}
