/*
 * filter6.h - a node's IPv6 packet filter: its ip6 firewall (the rule set
 * ip6tables or an nftables `ip6` table holds, separate from the IPv4 one,
 * as in Linux) and its IPv6 connection tracking (docs/ipv6.md steps 3-4).
 *
 * A host or router owns one. Its IPv6 path asks filter6_packet() once per
 * chain a packet crosses (FORWARD through a router; INPUT and OUTPUT at a
 * host or a router's own stack): the packet's conntrack state is found,
 * the chain's rules and policy decide, and an accepted packet is tracked
 * (a new flow confirmed, a known one refreshed), as nf_conntrack_in and
 * nf_conntrack_confirm do around the filter table. The verdict is the same
 * struct fw_verdict the IPv4 firewall returns, so explain/ words both.
 *
 * A home router's RFC 6092 firewall is a rule set here
 * (filter6_make_rfc6092), not a model of its own.
 *
 * The filter tracks (and emits conntrack records) only once its rules ask
 * for a conntrack state, as Linux loads conntrack for the first `ct state`
 * rule: an accept-all filter, as filter6_new makes it, tracks nothing.
 * The filter's conntrack is model/conntrack6.h (UDP, ICMPv6 and TCP, as
 * Linux's; an INVALID TCP segment's cause is in fw_verdict.invalid).
 */
#ifndef NATSIM_MODEL_FILTER6_H
#define NATSIM_MODEL_FILTER6_H

#include <stdbool.h>
#include <stddef.h>

#include "base/addr6.h"
#include "model/firewall.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/verdict.h"

struct filter6;

/* A filter that accepts everything (every policy ACCEPT, no rules) and
 * tracks flows under `node_name` (borrowed; records go to the engine's
 * trace). NULL if out of memory. */
struct filter6 *filter6_new(struct engine *e, const char *node_name);
void filter6_free(struct filter6 *f);

/* The ip6 rule set (rules carry family 6 and IPv6 prefixes). */
struct firewall *filter6_firewall(struct filter6 *f);
/* The IPv6 connection tracking table the filter keeps. */
struct conntrack6 *filter6_conntrack(struct filter6 *f);

/* Decide `info`'s fate in `chain` and, if accepted, track it. `f` NULL
 * (a node whose filter nobody asked for) accepts, as an empty filter. `len` is
 * the packet's length in bytes (conntrack's byte counters). Every field of
 * `out` is filled; returns true when the packet may go on (ACCEPT). A
 * REJECT's answer (out->matched->reject_with) is the caller's to send. */
bool filter6_packet(struct filter6 *f, enum fw_chain chain, const struct packet6_info *info,
		    size_t len, struct fw_verdict *out);

/* A home router's IPv6 firewall as RFC 6092 recommends: FORWARD accepts
 * what the inside (`inside`/`len`) starts and what belongs to a tracked
 * flow (ESTABLISHED, RELATED), drops INVALID and every other inbound flow
 * (policy drop); `filtering` widens what counts as belonging to an
 * outbound flow, in RFC 4787's terms (NAT_ADDRESS_AND_PORT_DEPENDENT is
 * conntrack's own five-tuple). `reject`: answer refused inbound packets
 * with ICMPv6 administratively prohibited (RFC 4443 3.1, code 1) instead
 * of dropping them silently. Replaces all rules. 0, or -1 if out of
 * memory (the firewall is then left closed, never open). */
/* RFC 6092 mode's rules, in FORWARD (policy drop):
 *   -m state --state RELATED,ESTABLISHED -j ACCEPT
 *   -m state --state INVALID -j DROP
 *   -s <inside>/<len> -j ACCEPT
 *   [-j REJECT --reject-with icmp6-adm-prohibited]   (reject only)
 * with UDP idle timeouts of 5 minutes (RFC 6092 REC-14) instead of conntrack's
 * 30 s / 120 s. With address-dependent or endpoint-independent filtering a
 * NEW inbound UDP packet or TCP SYN (REC-17, REC-33) the rules refuse is
 * admitted (reason FW_REASON_ADMITTED, out->admitted naming the outbound
 * flow) when its inside endpoint has an outbound flow to the packet's
 * source address (address-dependent) or to anyone (endpoint-independent). */
int filter6_make_rfc6092(struct filter6 *f, const struct ip6_addr *inside, uint8_t len,
			 enum nat_behaviour filtering, bool reject);

/* A host's stateful firewall for IPv6, as firewall_make_stateful_host for
 * IPv4: INPUT accepts ESTABLISHED and RELATED, drops the rest. */
int filter6_make_stateful_host(struct filter6 *f);

#endif
