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
extern const char *const matrix_kinds[MATRIX_KINDS];

struct matrix_cell {
	int outcome;        /* enum scenario_path: direct, relayed, unconnected ("failed") */
	int64_t connect_ns; /* asking -> first working path, or -1 */
};

/* How the pairs connect. NULL or all zero: over UDP. */
struct matrix_setup {
	bool tcp; /* `connect alice to bob over tcp`; bob's link 60 ms slower */
	/* With tcp: every NAT's answer to an unsolicited SYN, "drop", "rst" or
	 * "icmp" (the scenario language's tcp-unsolicited); NULL: drop. */
	const char *tcp_unsolicited;
};

/* The scenario text for kinds a (alice) and b (bob). Returns its length. */
int matrix_scenario_text(int a, int b, const struct matrix_setup *setup, char *out, size_t n);
/* Run it. Returns 0, or -1 with diagnostics. */
int matrix_run_pair(int a, int b, const struct matrix_setup *setup, uint64_t seed,
		    struct matrix_cell *cell, struct diag *d);
/* "direct", "relayed", "failed". */
const char *matrix_outcome_name(int path);

#endif
