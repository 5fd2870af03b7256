/*
 * firewall.h - a stateful packet filter: ordered rules in three chains, a
 * default policy per chain, per-rule hit counters.
 *
 * Chains as in netfilter: INPUT (to this node), OUTPUT (from this node),
 * FORWARD (through a router). The first rule that matches decides; if none
 * does, the chain's policy decides. Rules may match the packet's conntrack
 * state (new / established), which the caller looks up in its node's
 * conntrack table: the firewall itself keeps no flow state.
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

enum fw_chain { FW_CHAIN_INPUT = 0, FW_CHAIN_OUTPUT = 1, FW_CHAIN_FORWARD = 2, FW_CHAIN_COUNT };
enum fw_action { FW_ACCEPT = 0, FW_DROP = 1, FW_REJECT = 2 };

/* Conntrack states a rule matches (bit set of enum conntrack_state); 0 = any. */
#define FW_STATE_ANY 0u

struct fw_rule {
	enum fw_chain chain;
	uint8_t proto;            /* 0 = any */
	uint32_t src;             /* prefix; src_len 0 = any */
	uint8_t src_len;
	uint32_t dst;
	uint8_t dst_len;
	uint16_t sport_lo, sport_hi; /* 0,0 = any */
	uint16_t dport_lo, dport_hi;
	unsigned states;          /* FW_STATE_ANY or CONNTRACK_NEW | CONNTRACK_ESTABLISHED */
	enum fw_action action;
	char comment[48];         /* shown in verdicts and tables */
	uint64_t hits;            /* maintained by firewall_filter */
};

/* What decided a verdict. */
enum fw_reason {
	FW_REASON_RULE = 0,	/* a rule matched: fw_verdict.rule and .matched */
	FW_REASON_POLICY = 1,	/* no rule matched: the chain's policy decided */
	FW_REASON_NO_CHAIN = 2, /* the chain does not exist: dropped */
};

struct fw_verdict {
	enum fw_action action;
	enum fw_reason reason;
	enum fw_chain chain;
	int rule;		       /* index within its chain, -1 = the chain policy */
	const struct fw_rule *matched; /* the rule that decided (borrowed until the rules
					* change), NULL when the policy did */
	enum conntrack_state state;    /* the packet's conntrack state, as judged */
};

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

/* The classic host firewall of DESIGN.md: INPUT accepts established, drops
 * the rest (policy drop); OUTPUT and FORWARD accept. Replaces all rules. */
void firewall_make_stateful_host(struct firewall *fw);

/* Decide a packet's fate in `chain` and count the rule's hit. `state` is the
 * packet's conntrack state. Every field of `out` is filled, every time. */
void firewall_filter(struct firewall *fw, enum fw_chain chain, const struct packet_info *pkt,
		     enum conntrack_state state, struct fw_verdict *out);

size_t firewall_rule_count(const struct firewall *fw, enum fw_chain chain);
const struct fw_rule *firewall_rule(const struct firewall *fw, enum fw_chain chain, size_t i);

/* "INPUT", "drop", and a rule in iptables-like words
 * ("-p udp --dport 51820 -m state --state NEW -j ACCEPT"). */
const char *fw_chain_name(enum fw_chain chain);
const char *fw_action_name(enum fw_action action);
int fw_rule_format(const struct fw_rule *rule, char *out, size_t size);

#endif
