/* SPDX-License-Identifier: GPL-2.0-only */
/* Parsing and printing of the units users type: durations, percentages, ports,
 * addresses, protocols, directions. Pure functions, shared by CLI and agent. */
#ifndef NC_UNITS_H
#define NC_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "netchaos/proto.h"

/* A decimal "123" or "1.25" at the start of s: integer part, fraction and its
 * digit count. Returns the characters used, 0 if s does not start with a
 * number, -ERANGE for too many digits. */
int nc_parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, unsigned int *fdigits);
/* "500ms", "30s", "2m", "1h", "1.5s"; a bare number is rejected. */
int nc_parse_duration_ms(const char *s, uint64_t *ms);
/* "30%", "30", "0.1%": 0..100 scaled to 0..UINT32_MAX. */
int nc_parse_percent(const char *s, uint32_t *prob);
/* "80" or "1000-2000", 1..65535, lo <= hi. */
int nc_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);
/* "10.0.0.1", "10.0.0.0/8", "fd00::1", "fd00::/64"; host bits must be zero. */
int nc_parse_cidr(const char *s, struct nc_cidr *out);
/* "tcp" | "udp" | "icmp" -> NC_PROTO_* bit. */
int nc_parse_proto(const char *s, uint8_t *bit);
/* "egress" | "ingress" | "both" -> NC_DIR_* mask. */
int nc_parse_direction(const char *s, uint8_t *dir_mask);
int nc_parse_fault_kind(const char *s, enum nc_fault_kind *kind);

const char *nc_fault_kind_name(enum nc_fault_kind kind);
const char *nc_direction_name(uint8_t dir_mask);
double nc_prob_to_percent(uint32_t prob);
void nc_format_percent(uint32_t prob, char *buf, size_t len);	/* "30%" */
void nc_format_cidr(const struct nc_cidr *c, char *buf, size_t len);
void nc_format_port(const struct nc_port_spec *p, char *buf, size_t len); /* "80", "1000-2000" */
void nc_format_duration(uint64_t ms, char *buf, size_t len);	/* "1m30s" */

/*
 * The parsers above with the reason for a rejection in err: one line naming
 * the bad value ("10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?").
 * err may be NULL. All return 0 or -EINVAL.
 */
int nc_parse_duration_ms_err(const char *s, uint64_t *ms, char *err, size_t errlen);
int nc_parse_percent_err(const char *s, uint32_t *prob, char *err, size_t errlen);
int nc_parse_port_range_err(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen);
int nc_parse_cidr_err(const char *s, struct nc_cidr *out, char *err, size_t errlen);
int nc_parse_proto_err(const char *s, uint8_t *bit, char *err, size_t errlen);
int nc_parse_direction_err(const char *s, uint8_t *dir_mask, char *err, size_t errlen);
int nc_parse_fault_kind_err(const char *s, enum nc_fault_kind *kind, char *err, size_t errlen);

/* Percent (0..100, as a number) to probability; -ERANGE outside, or NaN. */
int nc_percent_to_prob(double percent, uint32_t *prob);
/* The shortest decimal that converts back to the same prob: "30", "0.1".
 * It is what goes on the wire as the JSON number "percent". */
void nc_format_percent_number(uint32_t prob, char *buf, size_t len);
/* "tcp", "udp", "icmp" for one NC_PROTO_* bit; "?" otherwise. */
const char *nc_proto_name(uint8_t bit);
/* Family 4 or 6, prefixlen fits it and the host bits are zero; -EINVAL. */
int nc_cidr_check(const struct nc_cidr *c, char *err, size_t errlen);

#endif
