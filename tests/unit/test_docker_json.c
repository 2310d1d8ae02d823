// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the pure parts of agent/docker.c: socket resolution, label
 * filters and query strings, and the inspect/list/event/error JSON parsers
 * fed with bodies shaped like dockerd 20.10 (API 1.41) answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "docker.h"

#define WEB_ID "4db5c5a7f84fc379adc4651caf0ac0fd0c681eee0cbb2f6bea72e9249b942937"
#define DB_ID  "179a7ab760b045c55bdb71175956fc744ed254beb9fb1902d77e59df8c09c7db"

static char err[NC_DOCKER_ERR_MAX];

static int inspect(const char *body, struct nc_docker_container *c)
{
	err[0] = '\0';
	return nc_docker_parse_inspect(body, strlen(body), c, err, sizeof(err));
}

/* ---- inspect ---------------------------------------------------------------- */

/* GET /containers/web/json, trimmed to the fields around the ones we read. */
static const char inspect_running[] =
	"{\"Id\":\"" WEB_ID "\",\"Created\":\"2026-11-22T10:40:53.42342683Z\","
	"\"Path\":\"sleep\",\"Args\":[\"1000\"],"
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,"
	"\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":15366,"
	"\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":\"2026-11-22T10:40:54.260394204Z\","
	"\"FinishedAt\":\"0001-01-01T00:00:00Z\"},"
	"\"Image\":\"sha256:2274b11a87899c9a365510d671ac5a3ceb5a85d365d83bf74ef15e10d3726a7c\","
	"\"Name\":\"/nc-web\",\"RestartCount\":0,\"Driver\":\"overlay2\","
	"\"HostConfig\":{\"Binds\":null,\"NetworkMode\":\"default\",\"PortBindings\":{},"
	"\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0}},"
	"\"Config\":{\"Hostname\":\"4db5c5a7f84f\",\"Image\":\"netchaos-busybox:test\","
	"\"Labels\":{\"com.docker.compose.project\":\"demo\","
	"\"com.docker.compose.service\":\"web\"}},"
	"\"NetworkSettings\":{\"Bridge\":\"\",\"SandboxID\":\"b1a9050776ce\","
	"\"SandboxKey\":\"/var/run/docker/netns/b1a9050776ce\","
	"\"Networks\":{\"bridge\":{\"IPAddress\":\"172.31.250.2\",\"IPPrefixLen\":24}}}}\n";

static void test_inspect_running(void **state)
{
	struct nc_docker_container c;

	assert_int_equal(inspect(inspect_running, &c), 0);
	assert_string_equal(c.id, WEB_ID);
	assert_string_equal(c.name, "nc-web");
	assert_int_equal(c.pid, 15366);
	assert_true(c.running);
	assert_string_equal(c.network_mode, "default");
	assert_int_equal(c.netmode, NC_DOCKER_NET_BRIDGE);
	assert_string_equal(c.netmode_target, "");
	assert_string_equal(c.service, "web");
	assert_string_equal(c.sandbox_key, "/var/run/docker/netns/b1a9050776ce");
	assert_string_equal(c.netns_path, "/proc/15366/ns/net");
}

static void test_inspect_stopped(void **state)
{
	static const char body[] =
		"{\"Id\":\"" DB_ID "\",\"Name\":\"/db\","
		"\"State\":{\"Status\":\"exited\",\"Running\":false,\"Pid\":0,\"ExitCode\":137},"
		"\"HostConfig\":{\"NetworkMode\":\"bridge\"},"
		"\"Config\":{\"Labels\":null},"
		"\"NetworkSettings\":{\"SandboxKey\":\"\"}}";
	struct nc_docker_container c;

	assert_int_equal(inspect(body, &c), 0);
	assert_string_equal(c.name, "db");
	assert_int_equal(c.pid, 0);
	assert_false(c.running);
	assert_string_equal(c.netns_path, "");
	assert_string_equal(c.service, "");
	assert_int_equal(c.netmode, NC_DOCKER_NET_BRIDGE);
}

static void test_inspect_network_modes(void **state)
{
	static const struct {
		const char *mode;
		enum nc_docker_netmode netmode;
		const char *target;
	} cases[] = {
		{ "host", NC_DOCKER_NET_HOST, "" },
		{ "none", NC_DOCKER_NET_NONE, "" },
		{ "bridge", NC_DOCKER_NET_BRIDGE, "" },
		{ "default", NC_DOCKER_NET_BRIDGE, "" },
		{ "container:" WEB_ID, NC_DOCKER_NET_CONTAINER, WEB_ID },
		{ "container:nc-web", NC_DOCKER_NET_CONTAINER, "nc-web" },
		{ "demo_backend", NC_DOCKER_NET_CUSTOM, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nc_docker_container c;
		char body[1024];

		/* container:X has an empty SandboxKey: it lives in X's netns */
		snprintf(body, sizeof(body),
			 "{\"Id\":\"" DB_ID "\",\"Name\":\"/side\","
			 "\"State\":{\"Running\":true,\"Pid\":4242},"
			 "\"HostConfig\":{\"NetworkMode\":\"%s\"},\"Config\":{\"Labels\":{}},"
			 "\"NetworkSettings\":{\"SandboxKey\":\"%s\"}}",
			 cases[i].mode,
			 cases[i].netmode == NC_DOCKER_NET_CONTAINER ? "" :
								       "/var/run/docker/netns/default");
		assert_int_equal(inspect(body, &c), 0);
		assert_string_equal(c.network_mode, cases[i].mode);
		assert_int_equal(c.netmode, cases[i].netmode);
		assert_string_equal(c.netmode_target, cases[i].target);
		assert_string_equal(c.netns_path, "/proc/4242/ns/net");
	}
}

static void test_inspect_minimal(void **state)
{
	/* older daemons or odd containers: only Id and State are required */
	struct nc_docker_container c;

	assert_int_equal(inspect("{\"Id\":\"abc\",\"State\":{\"Pid\":7,\"Running\":true}}", &c), 0);
	assert_string_equal(c.id, "abc");
	assert_string_equal(c.name, "");
	assert_int_equal(c.netmode, NC_DOCKER_NET_BRIDGE);
	assert_string_equal(c.sandbox_key, "");
}

static void test_inspect_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"Id\":\"abc\",\"State\":{\"Pid\":1}",	 /* truncated */
		"{\"Id\":\"abc\",\"State\":{\"Pid\":1}} x",	 /* trailing junk */
		"[]",						 /* not an object */
		"{\"Id\":\"abc\"}",				 /* no State */
		"{\"State\":{\"Pid\":1}}",			 /* no Id */
		"{\"Id\":\"\",\"State\":{\"Pid\":1}}",		 /* empty Id */
		"{\"Id\":42,\"State\":{\"Pid\":1}}",		 /* Id not a string */
		"{\"Id\":\"abc\",\"State\":{\"Pid\":\"1\"}}",	 /* Pid not an integer */
		"{\"Id\":\"abc\",\"State\":{\"Pid\":-1}}",	 /* negative Pid */
		"{\"Id\":\"abc\",\"State\":{\"Pid\":99999999999}}", /* beyond pid_t */
		"{\"Id\":\"" WEB_ID "0\",\"State\":{\"Pid\":1}}",  /* 65 chars */
		"{\"Id\":\"abc\",\"State\":{},\"HostConfig\":{\"NetworkMode\":[]}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nc_docker_container c;

		assert_int_equal(inspect(bad[i], &c), -EPROTO);
		assert_true(err[0] != '\0');
	}
}

/* ---- list -------------------------------------------------------------------- */

static void test_list(void **state)
{
	/* GET /containers/json?filters={"label":["com.docker.compose.project=demo"]} */
	static const char body[] =
		"[{\"Id\":\"" WEB_ID "\",\"Names\":[\"/nc-web\"],\"Image\":\"netchaos-busybox:test\","
		"\"Command\":\"sleep 1000\",\"Created\":1795344053,\"Ports\":[],"
		"\"Labels\":{\"com.docker.compose.project\":\"demo\","
		"\"com.docker.compose.service\":\"web\"},"
		"\"State\":\"running\",\"Status\":\"Up 4 seconds\","
		"\"HostConfig\":{\"NetworkMode\":\"default\"},"
		"\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.31.250.2\"}}},"
		"\"Mounts\":[]},"
		"{\"Id\":\"" DB_ID "\",\"Names\":[\"/demo-db-1\",\"/nc-web/db\"],"
		"\"Labels\":{\"com.docker.compose.project\":\"demo\","
		"\"com.docker.compose.service\":\"db\"},\"State\":\"paused\"}]\n";
	struct nc_docker_list l;

	assert_int_equal(nc_docker_parse_list(body, strlen(body), &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].id, WEB_ID);
	assert_string_equal(l.items[0].name, "nc-web");
	assert_string_equal(l.items[0].service, "web");
	assert_true(l.items[0].running);
	assert_string_equal(l.items[1].id, DB_ID);
	assert_string_equal(l.items[1].name, "demo-db-1");
	assert_string_equal(l.items[1].service, "db");
	assert_false(l.items[1].running);
	nc_docker_list_free(&l);
	assert_null(l.items);
	assert_int_equal(l.count, 0);
}

static void test_list_empty_and_bad(void **state)
{
	static const char *const bad[] = {
		"{}", "[1]", "[{\"Names\":[\"/x\"]}]", "[{\"Id\":\"a\",\"Names\":[7]}]", "[",
	};
	struct nc_docker_list l;

	assert_int_equal(nc_docker_parse_list("[]", 2, &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 0);
	nc_docker_list_free(&l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nc_docker_parse_list(bad[i], strlen(bad[i]), &l, err, sizeof(err)),
				 -EPROTO);
		assert_null(l.items);
		assert_int_equal(l.count, 0);
	}
}

/* ---- events ------------------------------------------------------------------ */

static void test_events(void **state)
{
	static const char die[] =
		"{\"status\":\"die\",\"id\":\"" WEB_ID "\",\"from\":\"netchaos-busybox:test\","
		"\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"" WEB_ID "\","
		"\"Attributes\":{\"com.docker.compose.project\":\"demo\","
		"\"com.docker.compose.service\":\"web\",\"exitCode\":\"143\","
		"\"image\":\"netchaos-busybox:test\",\"name\":\"nc-web\"}},\"scope\":\"local\","
		"\"time\":1795344062,\"timeNano\":1795344062949643834}";
	static const char start[] =
		"{\"status\":\"start\",\"id\":\"" WEB_ID "\",\"from\":\"netchaos-busybox:test\","
		"\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"" WEB_ID "\","
		"\"Attributes\":{\"image\":\"netchaos-busybox:test\",\"name\":\"nc-web\"}},"
		"\"scope\":\"local\",\"time\":1795344063,\"timeNano\":1795344063658718485}\n";
	struct nc_docker_event ev;

	assert_int_equal(nc_docker_parse_event(die, strlen(die), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.id, WEB_ID);
	assert_string_equal(ev.action, "die");
	assert_string_equal(ev.name, "nc-web");
	assert_string_equal(ev.service, "web");
	assert_int_equal(ev.exit_code, 143);
	assert_true(ev.time_nano == 1795344062949643834LL);

	assert_int_equal(nc_docker_parse_event(start, strlen(start), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.action, "start");
	assert_string_equal(ev.service, "");
	assert_int_equal(ev.exit_code, -1);
}

static void test_events_other_and_old(void **state)
{
	static const char network[] =
		"{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"abd9cfb6\","
		"\"Attributes\":{\"container\":\"" WEB_ID "\",\"name\":\"bridge\"}},"
		"\"scope\":\"local\",\"time\":1,\"timeNano\":1}";
	/* before API 1.22: no Type/Action/Actor */
	static const char old[] = "{\"status\":\"destroy\",\"id\":\"" DB_ID "\",\"from\":\"x\","
				  "\"time\":1}";
	struct nc_docker_event ev;

	assert_int_equal(nc_docker_parse_event(network, strlen(network), &ev, err, sizeof(err)), 1);
	assert_int_equal(nc_docker_parse_event(old, strlen(old), &ev, err, sizeof(err)), 0);
	assert_string_equal(ev.action, "destroy");
	assert_string_equal(ev.id, DB_ID);
	assert_string_equal(ev.name, "");

	assert_int_equal(nc_docker_parse_event("{\"Type\":", 8, &ev, err, sizeof(err)), -EPROTO);
	assert_int_equal(nc_docker_parse_event("{\"Type\":\"container\"}", 20, &ev, err,
					       sizeof(err)),
			 -EPROTO); /* no action, no id */
}

/* ---- errors ------------------------------------------------------------------ */

static void test_api_error(void **state)
{
	static const char nf[] = "{\"message\":\"No such container: nope\"}\n";
	static const char amb[] =
		"{\"message\":\"multiple IDs found with provided prefix: 4\"}\n";

	assert_int_equal(nc_docker_api_error(404, nf, strlen(nf), err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "No such container: nope");
	assert_int_equal(nc_docker_api_error(400, amb, strlen(amb), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "multiple IDs found with provided prefix: 4");
	assert_int_equal(nc_docker_api_error(500, "oops", 4, err, sizeof(err)), -EIO);
	assert_string_equal(err, "Docker answered HTTP 500");
	assert_int_equal(nc_docker_api_error(409, NULL, 0, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "Docker answered HTTP 409");
	assert_int_equal(nc_docker_api_error(403, "{\"message\":3}", 13, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "Docker answered HTTP 403");
}

/* ---- socket resolution and filters ------------------------------------------- */

static void test_resolve_sock(void **state)
{
	char path[108], long_path[200];

	assert_int_equal(nc_docker_resolve_sock(NULL, NULL, path, sizeof(path), err, sizeof(err)),
			 0);
	assert_string_equal(path, NC_DOCKER_DEFAULT_SOCK);
	assert_int_equal(nc_docker_resolve_sock("", "", path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, NC_DOCKER_DEFAULT_SOCK);
	assert_int_equal(nc_docker_resolve_sock(NULL, "unix:///run/user/1000/docker.sock", path,
						sizeof(path), err, sizeof(err)),
			 0);
	assert_string_equal(path, "/run/user/1000/docker.sock");
	/* the option wins over DOCKER_HOST, even a bad one */
	assert_int_equal(nc_docker_resolve_sock("/tmp/d.sock", "tcp://10.0.0.1:2375", path,
						sizeof(path), err, sizeof(err)),
			 0);
	assert_string_equal(path, "/tmp/d.sock");
	assert_int_equal(nc_docker_resolve_sock("unix:///tmp/e.sock", NULL, path, sizeof(path), err,
						sizeof(err)),
			 0);
	assert_string_equal(path, "/tmp/e.sock");

	err[0] = '\0';
	assert_int_equal(nc_docker_resolve_sock(NULL, "tcp://10.0.0.1:2375", path, sizeof(path),
						err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "DOCKER_HOST=tcp://10.0.0.1:2375"));
	assert_int_equal(nc_docker_resolve_sock("ssh://me@host", NULL, path, sizeof(path), err,
						sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_int_equal(nc_docker_resolve_sock(NULL, "unix://", path, sizeof(path), err,
						sizeof(err)),
			 -EINVAL);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(nc_docker_resolve_sock(long_path, NULL, path, sizeof(path), err,
						sizeof(err)),
			 -ENAMETOOLONG);
}

static void test_filters(void **state)
{
	char label[300], query[1024];
	const char *labels[2];

	assert_int_equal(nc_docker_label_filter("env=prod", label, sizeof(label)), 0);
	assert_string_equal(label, "env=prod");
	assert_int_equal(nc_docker_label_filter("chaos", label, sizeof(label)), 0);
	assert_int_equal(nc_docker_label_filter("", label, sizeof(label)), -EINVAL);
	assert_int_equal(nc_docker_label_filter("=x", label, sizeof(label)), -EINVAL);
	assert_int_equal(nc_docker_label_filter("a\nb", label, sizeof(label)), -EINVAL);
	assert_int_equal(nc_docker_service_filter("web", label, sizeof(label)), 0);
	assert_string_equal(label, "com.docker.compose.service=web");
	assert_int_equal(nc_docker_service_filter("a=b", label, sizeof(label)), -EINVAL);
	assert_int_equal(nc_docker_service_filter("", label, sizeof(label)), -EINVAL);

	/* filters={"label":["com.docker.compose.service=web","a/b=c d"]} */
	labels[0] = "com.docker.compose.service=web";
	labels[1] = "a/b=c d";
	assert_int_equal(nc_docker_list_query(labels, 2, query, sizeof(query)), 0);
	assert_string_equal(query, "filters=%7B%22label%22%3A%5B%22com.docker.compose.service%3Dweb"
				   "%22%2C%22a%2Fb%3Dc%20d%22%5D%7D");
	assert_int_equal(nc_docker_list_query(NULL, 0, query, sizeof(query)), 0);
	assert_string_equal(query, "");
	assert_int_equal(nc_docker_list_query(labels, 2, query, 40), -ENAMETOOLONG);

	assert_int_equal(nc_docker_events_query(NULL, 0, 0, query, sizeof(query)), 0);
	assert_string_equal(query, "filters=%7B%22type%22%3A%5B%22container%22%5D%2C%22event%22%3A"
				   "%5B%22start%22%2C%22restart%22%2C%22die%22%2C%22destroy%22%5D%7D");
	assert_int_equal(nc_docker_events_query(labels, 1, 1795344062949643834LL, query,
						sizeof(query)),
			 0);
	assert_non_null(strstr(query, "%2C%22label%22%3A%5B%22com.docker.compose.service%3Dweb"));
	assert_non_null(strstr(query, "&since=1795344062.949643834"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_running),
		cmocka_unit_test(test_inspect_stopped),
		cmocka_unit_test(test_inspect_network_modes),
		cmocka_unit_test(test_inspect_minimal),
		cmocka_unit_test(test_inspect_bad),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_empty_and_bad),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_events_other_and_old),
		cmocka_unit_test(test_api_error),
		cmocka_unit_test(test_resolve_sock),
		cmocka_unit_test(test_filters),
	};

	return cmocka_run_group_tests_name("docker_json", tests, NULL, NULL);
}
