// SPDX-License-Identifier: GPL-2.0-only
/*
 * chaosctl's connection to netchaosd: connect, send one request, read one
 * reply, all under one deadline so a wedged agent cannot hang a script.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "errmsg.h"
#include "netchaos/proto.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_agent(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		nc_set_err(err, errlen, "socket path too long (at most %zu bytes): %s",
			   sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		nc_set_err(err, errlen, "cannot create a socket: %s", strerror(-ret));
		return ret;
	}
	/* A Unix connect() blocks while the agent's backlog is full; the send
	 * timeout bounds that wait too. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;

	ret = -errno;
	close(fd);
	switch (ret) {
	case -ENOENT:
	case -ECONNREFUSED:
		nc_set_err(err, errlen, "cannot reach netchaosd at %s: is it running?", path);
		break;
	case -EACCES:
	case -EPERM:
		nc_set_err(err, errlen, "permission denied on %s: talking to netchaosd needs root "
			   "(or the socket's group)", path);
		break;
	case -EAGAIN:
		nc_set_err(err, errlen, "netchaosd at %s did not accept the connection within %ds",
			   path, timeout_ms / 1000);
		break;
	case -ENOTDIR:
	case -ENOTSOCK:
		nc_set_err(err, errlen, "%s is not a socket (wrong --socket?)", path);
		break;
	default:
		nc_set_err(err, errlen, "cannot connect to netchaosd at %s: %s", path, strerror(-ret));
		break;
	}
	return ret;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline, const char *path,
		    char *err, size_t errlen)
{
	while (len) {
		int ready = wait_fd(fd, POLLOUT, deadline), ret;
		ssize_t n;

		if (ready == 0) {
			nc_set_err(err, errlen, "netchaosd at %s did not take the request in time", path);
			return -ETIMEDOUT;
		}
		if (ready < 0) {
			nc_set_err(err, errlen, "poll: %s", strerror(-ready));
			return ready;
		}
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = -errno;
			nc_set_err(err, errlen, "cannot send to netchaosd at %s: %s", path,
				   strerror(-ret));
			return ret;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_line(int fd, int64_t deadline, int timeout_ms, const char *path, char **reply,
		     size_t *reply_len, char *err, size_t errlen)
{
	size_t cap = NC_PROTO_MAX_MSG, len = 0;
	char *buf = malloc(cap + 1);
	char *nl = NULL;
	int ret;

	if (!buf) {
		nc_set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (!nl) {
		ssize_t n;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret == 0) {
			nc_set_err(err, errlen, "netchaosd at %s did not answer within %ds", path,
				   timeout_ms / 1000);
			ret = -ETIMEDOUT;
			goto fail;
		}
		if (ret < 0) {
			nc_set_err(err, errlen, "poll: %s", strerror(-ret));
			goto fail;
		}
		if (len == cap) {
			char *grown;

			if (cap >= NC_PROTO_MAX_REPLY) {
				nc_set_err(err, errlen, "reply from netchaosd is larger than %d bytes",
					   NC_PROTO_MAX_REPLY);
				ret = -EMSGSIZE;
				goto fail;
			}
			cap = cap * 4 > NC_PROTO_MAX_REPLY ? NC_PROTO_MAX_REPLY : cap * 4;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				nc_set_err(err, errlen, "out of memory");
				ret = -ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = -errno;
			nc_set_err(err, errlen, "cannot read from netchaosd at %s: %s", path,
				   strerror(-ret));
			goto fail;
		}
		if (n == 0) {
			nc_set_err(err, errlen, len ? "netchaosd at %s closed the connection in the middle of its reply"
						    : "netchaosd at %s closed the connection without replying",
				   path);
			ret = -ECONNRESET;
			goto fail;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	*nl = '\0';
	*reply = buf;
	*reply_len = (size_t)(nl - buf);
	return 0;
fail:
	free(buf);
	return ret;
}

int nc_client_call(const char *path, const char *req, size_t req_len, int timeout_ms,
		   char **reply, size_t *reply_len, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	int fd, ret;

	fd = connect_agent(path, timeout_ms, err, errlen);
	if (fd < 0)
		return fd;
	ret = send_all(fd, req, req_len, deadline, path, err, errlen);
	if (!ret)
		ret = read_line(fd, deadline, timeout_ms, path, reply, reply_len, err, errlen);
	close(fd);
	return ret;
}
