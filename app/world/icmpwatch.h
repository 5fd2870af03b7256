/*
 * icmpwatch.h - what ICMP reached which host, and where an ICMP error was
 * found RELATED to a tracked flow: the facts `expect icmp` and `expect
 * related` are checked against, folded from the trace.
 *
 * A message "reached" a host when the host received it (an rx hop there)
 * and did not drop it (its firewall, a bad checksum): what a raw ICMP
 * socket, ping or the socket the error is about would see.
 */
#ifndef NATSIM_APP_ICMPWATCH_H
#define NATSIM_APP_ICMPWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"

struct icmp_arrival {
	int64_t t;
	const char *node; /* node names live as long as the world */
	uint64_t packet_id;
	uint32_t src;
	uint8_t type, code;
	bool dropped;
};

struct icmp_related {
	int64_t t;
	const char *node;
};

struct icmp_watch {
	struct icmp_arrival *arrivals;
	size_t n_arrivals, cap_arrivals;
	struct icmp_related *related;
	size_t n_related, cap_related;
};

/* Fold one record in. Returns 0, or -1 out of memory. */
int icmp_watch_record(struct icmp_watch *w, const struct trace_record *rec);
void icmp_watch_free(struct icmp_watch *w);

/* The messages of `type` and `code` (-1: any code) from `from` (0: any
 * source) that reached `host` up to now: how many, and the first (or NULL).
 * `other` gets the first ICMP message that reached the host and did not
 * match, for a failure's words (NULL if none). */
size_t icmp_watch_arrivals(const struct icmp_watch *w, const char *host, int type, int code,
			   uint32_t from, const struct icmp_arrival **first,
			   const struct icmp_arrival **other);
/* How many errors were RELATED at `node`; *first_at the first's time. */
size_t icmp_watch_related(const struct icmp_watch *w, const char *node, int64_t *first_at);

#endif
