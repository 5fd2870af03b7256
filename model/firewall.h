/*
 * firewall.h - a stateful packet filter: ordered rules in three chains, a
 * default policy per chain, per-rule hit counters.
 *
 * Chains as in netfilter: INPUT (to this node), OUTPUT (from this node),
 * FORWARD (through a router). The first rule that matches decides; if none
 * does, the chain's policy decides. Rules may match an ICMP type and code,
 * and the packet's conntrack state (new, established, related, invalid),
 * which the caller finds with conntrack_classify() in its node's table: the
 * firewall itself keeps no flow state.
 *
 * firewall_filter() decides and returns a verdict: what was decided and
 * the facts that decided it (the chain, the rule or the policy, the
 * conntrack state), the same whether or not anyone watches the trace. The
 * words for a student ("no rule in INPUT matched a new inbound flow, and the
 * INPUT policy is drop") are made from the verdict in explain/ (DESIGN.md
 * "Decide, then explain").
 */
#ifndef NATSIM_MODEL_FIREWALL_H
#define NATSIM_MODEL_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/conntrack.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/verdict.h"

/* The chains, actions, rules and struct fw_verdict are the verdict
 * vocabulary, in sim/verdict.h: explain/ words them without model/. */

struct firewall;

/* A firewall with every policy ACCEPT and no rules. `node_name` is borrowed. */
struct firewall *firewall_new(const char *node_name);
void firewall_free(struct firewall *fw);

void firewall_set_policy(struct firewall *fw, enum fw_chain chain, enum fw_action action);
enum fw_action firewall_policy(const struct firewall *fw, enum fw_chain chain);
/* Append a rule to its chain. Returns its index in the chain, or -1 on OOM. */
int firewall_append(struct firewall *fw, const struct fw_rule *rule);
/* Remove every rule (policies kept). */
void firewall_clear(struct firewall *fw);

/* The classic host firewall of DESIGN.md: INPUT accepts established and
 * related (ICMP errors about its flows), drops the rest (policy drop);
 * OUTPUT and FORWARD accept. Replaces all rules. */
void firewall_make_stateful_host(struct firewall *fw);

/* Decide a packet's fate in `chain` and count the rule's hit. `state` is the
 * packet's conntrack state. Every field of `out` is filled, every time. */
void firewall_filter(struct firewall *fw, enum fw_chain chain, const struct packet_info *pkt,
		     enum conntrack_state state, struct fw_verdict *out);

/* firewall_filter() for an IPv6 packet (a filter6's ip6 rule set, model/
 * filter6.h): only rules of family 6 match, their prefixes are src6/dst6
 * and their ICMP matches ICMPv6's; the chains, first-match and policies are
 * the same code as IPv4's. */
void firewall_filter6(struct firewall *fw, enum fw_chain chain, const struct packet6_info *pkt,
		      enum conntrack_state state, struct fw_verdict *out);

size_t firewall_rule_count(const struct firewall *fw, enum fw_chain chain);
const struct fw_rule *firewall_rule(const struct firewall *fw, enum fw_chain chain, size_t i);

#endif
