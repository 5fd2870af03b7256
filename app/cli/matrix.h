/*
 * matrix.h - the outcome of every pair of the six classic kinds of peer,
 * computed by running them (natsim matrix, and the lab test's prediction).
 */
#ifndef NATSIM_APP_MATRIX_H
#define NATSIM_APP_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/lang/diag.h"

#define MATRIX_KINDS 6
/* With techniques (matrix_setup.techniques), two kinds more, the hard NATs
 * the techniques are for: symmetric with sequential ports (port prediction)
 * and symmetric running a PCP server (port mapping). */
#define MATRIX_ALL_KINDS 8
extern const char *const matrix_kinds[MATRIX_ALL_KINDS];

struct matrix_cell {
	int outcome;	    /* enum scenario_path: direct, relayed, unconnected ("failed") */
	int64_t connect_ns; /* asking -> first working path, or -1 */
	int64_t direct_ns;  /* asking -> first direct path (an upgrade too), or -1 */
	/* The technique that found the direct path the asking side chose
	 * ("birthday", "prediction", "port-mapping"), or "": ICE's checks. */
	char technique[16];
	int family; /* direct: the path's address family, 4 or 6; 0: not direct */
};

/* How the pairs connect. NULL or all zero: over UDP. */
struct matrix_setup {
	bool tcp; /* `connect alice to bob over tcp`; bob's link 60 ms slower */
	/* With tcp: every NAT's answer to an unsolicited SYN, "drop", "rst" or
	 * "icmp" (the scenario language's tcp-unsolicited); NULL: drop. */
	const char *tcp_unsolicited;
	/* Both agents' `techniques` (scenario.h SCENARIO_TECH_* bits); 0: none.
	 * The run then lasts 30 s, long enough for the default probe budget
	 * (2048 at 100 a second). */
	unsigned techniques;
	/* Which families the pair's hosts get (natsim matrix --family):
	 * MATRIX_FAMILY_4 (0, as always), MATRIX_FAMILY_6 (IPv6-only homes
	 * with RFC 6092 firewalls, no NAT) or MATRIX_FAMILY_DUAL (both). */
	int family;
};
#define MATRIX_FAMILY_4 0
#define MATRIX_FAMILY_6 6
#define MATRIX_FAMILY_DUAL 46
/* --family's words "4", "6", "dual". Returns 0 with the family, or -1. */
int matrix_parse_family(const char *word, int *family);

/* --techniques' words: "all", "none", or a list of prediction, birthday,
 * port-mapping separated by ','. Returns 0 with the bits, or -1. */
int matrix_parse_techniques(const char *list, unsigned *bits);
/* "birthday" for the technique bit the agent said found a path
 * (p2p_event.technique, kept in run_pair.technique); "" for none. */
const char *matrix_technique_name(unsigned bit);

/* The scenario text for kinds a (alice) and b (bob). Returns its length. */
int matrix_scenario_text(int a, int b, const struct matrix_setup *setup, char *out, size_t n);
/* Run it. Returns 0, or -1 with diagnostics. */
int matrix_run_pair(int a, int b, const struct matrix_setup *setup, uint64_t seed,
		    struct matrix_cell *cell, struct diag *d);
/* "direct", "relayed", "failed". */
const char *matrix_outcome_name(int path);

#endif
