/* SPDX-License-Identifier: GPL-2.0-only */
/* Interfaces of the current network namespace, read with libnl-route. */
#ifndef NC_LINKS_H
#define NC_LINKS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

struct nc_link {
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned int arptype; /* ARPHRD_ETHER, ARPHRD_LOOPBACK, ... */
	bool up;
};

/* Every link of the current namespace; *links is malloc'ed. */
int nc_links_list(struct nc_link **links, size_t *count);
/* Only links whose L2 header the classifier understands (Ethernet, loopback). */
bool nc_link_supported(const struct nc_link *l);

#endif
