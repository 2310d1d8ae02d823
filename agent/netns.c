// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network namespaces by name or path: resolve what the user typed to a
 * namespace file, prove it is a network namespace (not a stale /run/netns
 * entry or some other file), and switch the calling thread into it and back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "log.h"
#include "netns.h"

#define NETNS_RUN_DIR "/run/netns"

/* Older kernels lack NS_GET_NSTYPE: the nsfs link text names the type. */
static int netns_type_by_link(int fd)
{
	char proc[64], target[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return strncmp(target, "net:[", 5) == 0 ? 0 : -EINVAL;
}

/*
 * Open path without side effects on whatever it turns out to be (a FIFO would
 * block a plain open, a device could react to it): look at it through an
 * O_PATH descriptor first, and only then reopen the very same inode for real.
 */
static int netns_open_checked(const char *path, struct stat *st)
{
	char proc[64];
	struct statfs sfs;
	int pfd, fd, type;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, st) < 0 || fstatfs(pfd, &sfs) < 0) {
		fd = -errno;
		goto out;
	}
	if (!S_ISREG(st->st_mode) || sfs.f_type != NSFS_MAGIC) {
		fd = -EINVAL;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		goto out;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 && errno == ENOTTY)
		type = netns_type_by_link(fd) == 0 ? CLONE_NEWNET : -1;
	if (type != CLONE_NEWNET) {
		close(fd);
		fd = -EINVAL;
	}
out:
	close(pfd);
	return fd;
}

int nc_netns_open(const char *name_or_path, struct nc_netns *out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	const char *what;
	struct stat st;
	bool by_name;
	int fd;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (!name_or_path)
		name_or_path = "";

	if (strlen(name_or_path) >= sizeof(out->name)) {
		snprintf(err, errlen, "network namespace name too long (max %zu characters)",
			 sizeof(out->name) - 1);
		return -ENAMETOOLONG;
	}
	by_name = name_or_path[0] && !strchr(name_or_path, '/');
	if (by_name && (!strcmp(name_or_path, ".") || !strcmp(name_or_path, ".."))) {
		snprintf(err, errlen, "invalid network namespace name '%s'", name_or_path);
		return -EINVAL;
	}

	if (!name_or_path[0]) {
		what = "/proc/self/ns/net";
	} else if (by_name) {
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name_or_path);
		what = path;
	} else {
		what = name_or_path;
	}

	fd = netns_open_checked(what, &st);
	if (fd == -ENOENT || fd == -ENOTDIR) {
		if (by_name)
			snprintf(err, errlen, "network namespace '%s' not found (no %s)",
				 name_or_path, what);
		else
			snprintf(err, errlen, "network namespace '%s' not found", what);
		return -ENOENT;
	}
	if (fd == -EINVAL) {
		/* A name left in /run/netns after its namespace's mount went away
		 * is the usual way to get here by name. */
		snprintf(err, errlen, "'%s' is not a network namespace%s", what,
			 by_name ? " (stale entry: nothing is mounted on it)" : "");
		return -ENOENT;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open network namespace '%s': %s", what,
			 strerror(-fd));
		return fd;
	}

	out->fd = fd;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	strcpy(out->name, name_or_path); /* length checked above */
	return 0;
}

void nc_netns_close(struct nc_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}

bool nc_netns_same(const struct nc_netns *a, const struct nc_netns *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

int nc_netns_enter(const struct nc_netns *ns, int *saved)
{
	int cur, err;

	/* thread-self: setns() moves only the calling thread, and /proc/self
	 * names the thread group leader. */
	cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0) {
		err = -errno;
		pr_err("cannot save the current network namespace: %s", strerror(-err));
		return err;
	}
	if (setns(ns->fd, CLONE_NEWNET) < 0) {
		err = -errno;
		pr_err("cannot enter network namespace '%s': %s",
		       ns->name[0] ? ns->name : "(agent's own)", strerror(-err));
		close(cur);
		return err;
	}
	*saved = cur;
	return 0;
}

int nc_netns_leave(int saved)
{
	int err = 0;

	if (setns(saved, CLONE_NEWNET) < 0) {
		/* Everything after this would run in the wrong namespace. */
		err = -errno;
		pr_err("cannot return to the previous network namespace: %s", strerror(-err));
	}
	close(saved);
	return err;
}
