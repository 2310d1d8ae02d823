/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's event loop: one epoll set; each fd registers a watch whose
 * callback runs when the fd is ready. */
#ifndef NC_LOOP_H
#define NC_LOOP_H

#include <stdint.h>

struct nc_watch {
	int fd;
	void (*cb)(struct nc_watch *w, uint32_t events);
};

int nc_loop_add(int epfd, struct nc_watch *w, uint32_t events);
int nc_loop_mod(int epfd, struct nc_watch *w, uint32_t events);
void nc_loop_del(int epfd, struct nc_watch *w);

#endif
