/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem parameters as the CLI, the protocol and the agent share them, in the
 * kernel's units: times in ns, probabilities and correlations scaled to
 * 0..UINT32_MAX, rates in bits per second. lib/netem.h validates and formats
 * them; agent/qdisc.c turns them into netlink attributes.
 */
#ifndef NETCHAOS_NETEM_H
#define NETCHAOS_NETEM_H

#include <stdbool.h>
#include <stdint.h>

enum nc_netem_dist {
	NC_NETEM_DIST_NONE = 0,
	NC_NETEM_DIST_UNIFORM,
	NC_NETEM_DIST_NORMAL,
	NC_NETEM_DIST_PARETO,
	NC_NETEM_DIST_PARETONORMAL,
	NC_NETEM_DIST__COUNT,
};

/* Loss model. RANDOM uses loss/loss_corr; the others use loss_model.p[]. */
enum nc_netem_loss_model {
	NC_NETEM_LOSS_RANDOM = 0,
	NC_NETEM_LOSS_GI,	/* 4-state Markov chain, p[] = p13 p31 p32 p14 p23 */
	NC_NETEM_LOSS_GE,	/* Gilbert-Elliott, p[] = p r h k1 (kernel meaning) */
	NC_NETEM_LOSS__COUNT,
};

/* Indices into loss_model.p[], laid out like the kernel's structs. */
enum { NC_GI_P13, NC_GI_P31, NC_GI_P32, NC_GI_P14, NC_GI_P23 };
enum { NC_GE_P, NC_GE_R, NC_GE_H, NC_GE_K1 };

/*
 * Every probability and correlation is a u32 scaled like the kernel's:
 * 0 = 0 %, UINT32_MAX = 100 % (nc_parse_percent() in units.h makes them).
 * Times are nanoseconds. Zero means "not used" throughout.
 *
 * Gilbert-Elliott in the kernel's terms: p = P(good -> bad), r = P(bad ->
 * good), h = P(a packet in the bad state is NOT lost), k1 = P(a packet in
 * the good state IS lost). tc's "loss gemodel p r 1-h 1-k" give 1 - h and
 * k1: nc_netem_set_gemodel() takes tc's order and meaning.
 */
struct nc_netem_params {
	uint64_t latency_ns;
	uint64_t jitter_ns;
	uint32_t latency_corr;
	int dist;			/* enum nc_netem_dist */
	uint32_t loss, loss_corr;	/* random loss */
	struct {
		int model;		/* enum nc_netem_loss_model */
		uint32_t p[5];
	} loss_model;
	uint32_t duplicate, dup_corr;
	uint32_t reorder, reorder_corr;
	uint32_t gap;			/* reorder: every gap-th packet goes first; 0 = 1 */
	uint32_t corrupt, corrupt_corr;
	uint64_t rate_bps;		/* link rate in BITS per second; 0 = none */
	int32_t packet_overhead;	/* bytes added to each packet for the rate */
	uint32_t limit;			/* queue limit in packets; 0 = nc_netem_default_limit() */
	bool ecn;			/* mark ECN-capable packets instead of dropping */
};

#endif /* NETCHAOS_NETEM_H */
