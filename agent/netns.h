/* SPDX-License-Identifier: GPL-2.0-only */
/* Network namespaces: open by name (/run/netns/NAME) or path, identify, and
 * run code inside one (setns on the agent's single thread, then back). */
#ifndef NC_NETNS_H
#define NC_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "netchaos/proto.h"

struct nc_netns {
	int fd;			  /* O_RDONLY fd of the namespace file */
	dev_t dev;		  /* identity while the fd is open */
	ino_t ino;
	char name[NC_NETNS_MAX];  /* what the user said, "" for the agent's own */
};

/* "" or NULL: the agent's own namespace. -ENOENT with a clear message in err
 * when the name or path does not exist or is not a network namespace. */
int nc_netns_open(const char *name_or_path, struct nc_netns *out, char *err, size_t errlen);
void nc_netns_close(struct nc_netns *ns);
bool nc_netns_same(const struct nc_netns *a, const struct nc_netns *b);

/* Enter ns; *saved receives an fd of the previous namespace for leave. */
int nc_netns_enter(const struct nc_netns *ns, int *saved);
int nc_netns_leave(int saved);

#endif
