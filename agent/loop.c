// SPDX-License-Identifier: GPL-2.0-only
/* epoll registration helpers for struct nc_watch. */
#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>

#include "loop.h"

int nc_loop_add(int epfd, struct nc_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int nc_loop_mod(int epfd, struct nc_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void nc_loop_del(int epfd, struct nc_watch *w)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}
