/*
 * tcpwatch.h - what became of TCP in a run: every socket's state, how each
 * connection attempt ended, and each node's TCP conntrack entries, folded
 * from the trace (TRACE_SOCKET and TRACE_CONNTRACK records); and the
 * checks of the TCP expectations (`expect tcp`, `expect [no] socket`,
 * `expect [no] conntrack ... tcp`) against those facts.
 *
 * The facts come from the stack's and conntrack's own records, not from
 * what a program printed: an expectation holds for what happened on the
 * wire and in the kernel, whichever program made it happen.
 */
#ifndef NATSIM_APP_TCPWATCH_H
#define NATSIM_APP_TCPWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/lang/scenario.h"
#include "base/endpoint.h"
#include "sim/trace.h"

/* A socket as it is now (its last TRACE_SOCKET record). */
struct tcp_sock_seen {
	const char *node;	       /* node names live as long as the world */
	struct endpoint local, remote; /* an IPv6 socket's: the ports only */
	bool is6;
	struct endpoint6 local6, remote6; /* an IPv6 socket's ends (by value: a
					   * record's are borrowed) */
	uint8_t state;			  /* enum tcp_state */
	int64_t since;
	bool connected; /* it reached ESTABLISHED once */
	int error;	/* the errno it ended with, or 0 */
	int64_t ended_at;
};

/* A TCP conntrack entry of a node, as it is now. */
struct tcp_ct_seen {
	const char *node;
	uint32_t id;
	struct trace_ct_tuple orig;
	uint8_t state; /* enum conntrack_tcp_state */
	bool alive;
};

struct tcp_watch {
	struct tcp_sock_seen *socks;
	size_t n_socks, cap_socks;
	struct tcp_ct_seen *cts;
	size_t n_cts, cap_cts;
};

/* Fold one record in. Returns 0, or -1 out of memory. */
int tcp_watch_record(struct tcp_watch *w, const struct trace_record *rec);
void tcp_watch_free(struct tcp_watch *w);

/* Where `expect tcp ... to X` points: X's IPv4 address (0: none) and its
 * IPv6 one (has6 false: none); a connection of either family counts. */
struct tcp_watch_target {
	uint32_t ip;
	bool has6;
	struct ip6_addr ip6;
};

/* Check a TCP expectation (SCENARIO_EXPECT_TCP, _SOCKET, _NO_SOCKET,
 * _CONNTRACK, _NO_CONNTRACK) now; `to` is what `expect tcp ... to X`
 * names. Returns whether it holds, with what was found in why[n]. */
bool tcp_watch_check(const struct tcp_watch *w, const struct scenario_expect *x,
		     const struct tcp_watch_target *to, char *why, size_t n);
/* What the expectation asks, in the language's words ("alice connects to
 * web:80", "a socket of alice in TIME-WAIT"); `by` ends it (" by 5 s"). */
void tcp_watch_describe(const struct scenario_expect *x, const char *by, char *out, size_t n);

#endif
