/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a previous agent may have left behind. The agent records the network
 * namespaces it works in (a small JSON file, rewritten atomically on every
 * change); a starting agent reads it, adds its own namespace and every named
 * one under /run/netns, and removes the classifier filters (and the clsact
 * qdiscs it had created) that belong to an agent that is no longer alive.
 */
#ifndef NC_STATE_H
#define NC_STATE_H

#include <stddef.h>

#define NC_DEFAULT_STATE_FILE "/run/netchaos/state.json"

int nc_state_save(const char *file, const char *const *netns, size_t n);
/* Returns the number of interfaces cleaned, or -errno. */
int nc_state_cleanup(const char *file);

#endif
