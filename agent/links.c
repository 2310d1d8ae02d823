// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interfaces of the current network namespace, as a plain array the rest
 * of the agent can keep without holding libnl objects. The netlink socket is
 * opened per call: a socket stays in the namespace it was created in, and the
 * caller may have just entered another one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "links.h"
#include "log.h"

static int links_nlerr_to_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	default:
		return -EIO;
	}
}

static int links_cmp_ifindex(const void *a, const void *b)
{
	const struct nc_link *la = a, *lb = b;

	return (la->ifindex > lb->ifindex) - (la->ifindex < lb->ifindex);
}

int nc_links_list(struct nc_link **links, size_t *count)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	struct nl_sock *sk;
	struct nc_link *arr;
	size_t n = 0;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		pr_err("cannot open a route netlink socket: %s", nl_geterror(err));
		err = links_nlerr_to_errno(err);
		goto free_sock;
	}
	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0) {
		pr_err("cannot list network interfaces: %s", nl_geterror(err));
		err = links_nlerr_to_errno(err);
		goto free_sock;
	}

	/* +1: an empty namespace (not even lo) must not look like ENOMEM. */
	arr = calloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*arr));
	if (!arr) {
		err = -ENOMEM;
		goto free_cache;
	}
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *link = (struct rtnl_link *)obj;
		const char *name = rtnl_link_get_name(link);
		struct nc_link *l = &arr[n++];

		l->ifindex = rtnl_link_get_ifindex(link);
		if (name)
			snprintf(l->name, sizeof(l->name), "%s", name);
		l->arptype = rtnl_link_get_arptype(link);
		l->up = rtnl_link_get_flags(link) & IFF_UP;
	}
	qsort(arr, n, sizeof(*arr), links_cmp_ifindex);

	*links = arr;
	*count = n;
	err = 0;
free_cache:
	nl_cache_free(cache);
free_sock:
	nl_socket_free(sk);
	return err;
}

bool nc_link_supported(const struct nc_link *l)
{
	return l->arptype == ARPHRD_ETHER || l->arptype == ARPHRD_LOOPBACK;
}
