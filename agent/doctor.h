/* SPDX-License-Identifier: GPL-2.0-only */
/* `chaosctl doctor`: checks of what the kernel and the host offer, each with
 * what to install or change when it is missing. */
#ifndef NC_DOCTOR_H
#define NC_DOCTOR_H

#include <json-c/json.h>

struct nc_datapath;

/* {"checks":[{"name","ok","detail","fix"}...]} added to reply. */
int nc_doctor_run(struct nc_datapath *dp, const char *docker_sock, json_object *reply);

#endif
