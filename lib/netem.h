/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem parameters as users and the kernel see them: the parameter struct
 * shared by CLI and agent, its cross-field validation (the rules of
 * tc-netem(8)), the units users type (rates like "10mbit", times like
 * "1.5ms"), the default queue limit, the delay distribution tables, and a
 * tc-like description. Pure functions: no netlink here (agent/qdisc.c turns
 * the struct into a message).
 */
#ifndef NC_NETEM_H
#define NC_NETEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netchaos/netem.h"

/* Delay distribution of the jitter. NONE and UNIFORM are the same thing to
 * the kernel (no table: uniform in [delay - jitter, delay + jitter)). */

#define NC_NETEM_MAX_DELAY_NS	(3600ull * 1000000000ull) /* delay + jitter */
#define NC_NETEM_MIN_RATE_BPS	8ull			  /* the kernel counts bytes/s */
#define NC_NETEM_MAX_RATE_BPS	100000000000000ull	  /* 100tbit */
#define NC_NETEM_DIST_TABLE_LEN	4096			  /* entries of a generated table */

/* 0, or -EINVAL with a one-line reason ("reorder needs a delay"). */
int nc_netem_validate(const struct nc_netem_params *p, char *err, size_t errlen);

/*
 * Queue limit used when p->limit is 0, in packets. Without a rate, netem holds
 * every packet for its delay, so the queue must cover the arrival rate times
 * the longest delay: sized for 1M packets/s (about 12 Gbit/s of 1500-byte
 * packets) over delay + jitter, at least 10000, at most 100000 (bounds the
 * memory to a few hundred MB). With a rate, it is a bottleneck's buffer: the
 * packets in flight over delay + jitter plus 100 ms of queue at that rate
 * (1500-byte packets), at least 64, at most 100000.
 */
uint32_t nc_netem_default_limit(const struct nc_netem_params *p);

/* "10mbit" -> 10000000 bit/s, like tc(8): bit kbit mbit gbit tbit (x1000),
 * kibit mibit gibit tibit (x1024), bps kbps mbps gbps tbps and kibps ... are
 * BYTES per second (x8); units are case-insensitive; decimals allowed. A
 * bare number is refused (tc would read bits). */
int nc_netem_parse_rate(const char *s, uint64_t *bits_per_s, char *err, size_t errlen);
/* "100ms", "1.5ms", "250us", "2s", "800ns" -> ns; 0 is allowed ("0ms"). */
int nc_netem_parse_time(const char *s, uint64_t *ns, char *err, size_t errlen);

void nc_netem_format_rate(uint64_t bits_per_s, char *buf, size_t len); /* "10Mbit" */
void nc_netem_format_time(uint64_t ns, char *buf, size_t len);	      /* "1.5ms" */

/* tc's "loss state P13 [P31 [P32 [P23 P14]]]": n values given (1..5) in that
 * order, tc's defaults for the rest (p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0). */
void nc_netem_set_gimodel(struct nc_netem_params *p, const uint32_t *v, int n);
/* tc's "loss gemodel P [R [1-H [1-K]]]": n values (1..4), defaults R = 100 %,
 * 1-H = 100 % (every packet in the bad state lost), 1-K = 0. */
void nc_netem_set_gemodel(struct nc_netem_params *p, const uint32_t *v, int n);

/* The inverse of the two above: p's loss model parameters as tc takes them
 * (gemodel: p r 1-h 1-k; state: p13 p31 p32 p23 p14), trailing values that
 * tc's defaults would give anyway left out (at least one is kept), so that
 * setting the model from them gives p->loss_model.p back. Writes up to 5
 * values to v; returns their count, 0 for random loss. */
int nc_netem_loss_params(const struct nc_netem_params *p, uint32_t *v);

/* "normal" ... -> enum; -EINVAL with the list of names. */
int nc_netem_parse_dist(const char *s, int *dist, char *err, size_t errlen);
const char *nc_netem_dist_name(int dist);

/*
 * The kernel's delay distribution table for dist (NORMAL, PARETO,
 * PARETONORMAL, or UNIFORM as a table), computed the way iproute2's
 * netem/maketable programs compute the tables tc ships (inverse CDF sampled
 * at 4096 points, scaled by NETEM_DIST_SCALE). Writes
 * NC_NETEM_DIST_TABLE_LEN entries; returns that count or -EINVAL.
 */
int nc_netem_dist_table(int dist, int16_t *table, size_t n);

/* Like tc shows it: "delay 100ms 10ms 25% distribution normal loss 1%". */
void nc_netem_describe(const struct nc_netem_params *p, char *buf, size_t len);

#endif
