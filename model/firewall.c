/*
 * firewall.c - ordered rules per chain, first match wins, a policy per chain
 * (netfilter's filter table, as `iptables -L` shows it).
 *
 * fw_verdict.rule is the 0-based index (explain/ numbers rules from 1 in
 * sentences, as `iptables -L --line-numbers` does). A port range with hi < lo
 * (typically lo set, hi left 0) is read as the single port lo.
 */
#include "model/firewall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fw_rules {
	struct fw_rule *v;
	size_t n, cap;
};

struct firewall {
	const char *node_name;
	struct fw_rules chains[FW_CHAIN_COUNT];
	enum fw_action policy[FW_CHAIN_COUNT];
};

struct firewall *firewall_new(const char *node_name)
{
	struct firewall *fw = calloc(1, sizeof(*fw));

	if (fw == NULL)
		return NULL;
	fw->node_name = node_name;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		fw->policy[c] = FW_ACCEPT;
	return fw;
}

void firewall_free(struct firewall *fw)
{
	if (fw == NULL)
		return;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		free(fw->chains[c].v);
	free(fw);
}

static bool chain_ok(enum fw_chain chain)
{
	return (unsigned)chain < FW_CHAIN_COUNT;
}

void firewall_set_policy(struct firewall *fw, enum fw_chain chain, enum fw_action action)
{
	if (chain_ok(chain))
		fw->policy[chain] = action;
}

enum fw_action firewall_policy(const struct firewall *fw, enum fw_chain chain)
{
	return chain_ok(chain) ? fw->policy[chain] : FW_ACCEPT;
}

int firewall_append(struct firewall *fw, const struct fw_rule *rule)
{
	struct fw_rules *r;

	if (!chain_ok(rule->chain))
		return -1;
	r = &fw->chains[rule->chain];
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 2; /* most chains hold a rule or two */
		struct fw_rule *v = realloc(r->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n] = *rule;
	r->v[r->n].hits = 0;
	r->v[r->n].comment[sizeof(r->v[r->n].comment) - 1] = '\0';
	return (int)r->n++;
}

void firewall_clear(struct firewall *fw)
{
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		fw->chains[c].n = 0;
}

void firewall_make_stateful_host(struct firewall *fw)
{
	/* Every distribution's default ruleset accepts RELATED with
	 * ESTABLISHED (`-m state --state RELATED,ESTABLISHED -j ACCEPT`, nft's
	 * `ct state established,related accept`): without it the ICMP errors
	 * about a host's own flows (port unreachable, fragmentation needed)
	 * would never reach it. */
	struct fw_rule established = {
	    .chain = FW_CHAIN_INPUT,
	    .states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED,
	    .action = FW_ACCEPT,
	    .comment = "replies to flows this host started",
	};

	firewall_clear(fw);
	/* Policy first: if appending the rule runs out of memory the host is
	 * left closed (drops replies too), never open. */
	firewall_set_policy(fw, FW_CHAIN_INPUT, FW_DROP);
	firewall_set_policy(fw, FW_CHAIN_OUTPUT, FW_ACCEPT);
	firewall_set_policy(fw, FW_CHAIN_FORWARD, FW_ACCEPT);
	firewall_append(fw, &established);
}

size_t firewall_rule_count(const struct firewall *fw, enum fw_chain chain)
{
	return chain_ok(chain) ? fw->chains[chain].n : 0;
}

const struct fw_rule *firewall_rule(const struct firewall *fw, enum fw_chain chain, size_t i)
{
	if (!chain_ok(chain) || i >= fw->chains[chain].n)
		return NULL;
	return &fw->chains[chain].v[i];
}

/* ---- matching ---- */

static bool prefix_match(uint32_t addr, uint32_t prefix, uint8_t len)
{
	uint32_t mask = prefix_mask(len > 32 ? 32 : len);

	return (addr & mask) == (prefix & mask);
}

static bool port_any(uint16_t lo, uint16_t hi)
{
	return lo == 0 && hi == 0;
}

static bool port_match(uint16_t port, uint16_t lo, uint16_t hi)
{
	if (hi < lo)
		hi = lo;
	return port >= lo && port <= hi;
}

/* libxt_icmp / xt_icmp.c icmp_type_code_match: `--icmp-type T` matches type
 * T with any code, `--icmp-type T/C` that code only; never a packet that is
 * not ICMP. */
static bool icmp_matches(const struct fw_rule *r, const struct packet_info *pkt)
{
	if (pkt->proto != IPPROTO_NUM_ICMP || pkt->icmp_type != r->icmp_type)
		return false;
	return !r->match_icmp_code || pkt->icmp_code == r->icmp_code;
}

/* What every family's rules test alike: ports, TCP flags, the conntrack
 * state. `proto`, ports and flags are the packet's. */
static inline bool rule_matches_l4(const struct fw_rule *r, uint8_t proto, uint16_t sport,
				   uint16_t dport, uint8_t tcp_flags, enum conntrack_state state)
{
	bool has_ports = proto == IPPROTO_NUM_UDP || proto == IPPROTO_NUM_TCP;

	/* A port condition never matches a protocol without ports
	 * (iptables only accepts --dport after -p udp or -p tcp). */
	if (!port_any(r->sport_lo, r->sport_hi) &&
	    (!has_ports || !port_match(sport, r->sport_lo, r->sport_hi)))
		return false;
	if (!port_any(r->dport_lo, r->dport_hi) &&
	    (!has_ports || !port_match(dport, r->dport_lo, r->dport_hi)))
		return false;
	/* xt_tcp.c tcp_mt: (flags & mask) == comp; never a packet that is
	 * not TCP. */
	if ((r->tcp_flags_mask != 0 || r->tcp_flags_match != 0) &&
	    (proto != IPPROTO_NUM_TCP || (tcp_flags & r->tcp_flags_mask) != r->tcp_flags_match))
		return false;
	return r->states == FW_STATE_ANY || (r->states & (unsigned)state) != 0;
}

static bool rule_matches(const struct fw_rule *r, const void *p, enum conntrack_state state)
{
	const struct packet_info *pkt = p;

	if (r->proto != 0 && r->proto != pkt->proto)
		return false;
	if (!prefix_match(pkt->src, r->src, r->src_len) ||
	    !prefix_match(pkt->dst, r->dst, r->dst_len))
		return false;
	if (r->match_icmp_type && !icmp_matches(r, pkt))
		return false;
	return rule_matches_l4(r, pkt->proto, pkt->sport, pkt->dport, pkt->tcp_flags, state);
}

/* libip6t_icmp6 / ip6_tables.c icmp6_match: as icmp_matches, for ICMPv6. */
static bool icmp6_matches(const struct fw_rule *r, const struct packet6_info *pkt)
{
	if (pkt->next_header != IPPROTO_NUM_ICMPV6 || pkt->icmp_type != r->icmp_type)
		return false;
	return !r->match_icmp_code || pkt->icmp_code == r->icmp_code;
}

/* An ip6 rule (family 6) against an IPv6 packet; a rule of another family
 * never matches, as iptables' rules never see what ip6tables filters. */
static bool rule_matches6(const struct fw_rule *r, const void *p, enum conntrack_state state)
{
	const struct packet6_info *pkt = p;

	if (r->family != 6 || (r->proto != 0 && r->proto != pkt->next_header))
		return false;
	if ((r->src_len != 0 && !ip6_prefix_match(&r->src6, r->src_len, &pkt->src)) ||
	    (r->dst_len != 0 && !ip6_prefix_match(&r->dst6, r->dst_len, &pkt->dst)))
		return false;
	if (r->match_icmp_type && !icmp6_matches(r, pkt))
		return false;
	return rule_matches_l4(r, pkt->next_header, pkt->sport, pkt->dport, pkt->tcp_flags, state);
}

/* The first rule of `chain` that `matches` decides (iptables' filter
 * table), else the policy: one loop for both families. Inline, so each
 * caller's copy calls its matcher directly. */
static inline void filter_chain(struct firewall *fw, enum fw_chain chain, const void *pkt,
				bool (*matches)(const struct fw_rule *, const void *,
						enum conntrack_state),
				enum conntrack_state state, struct fw_verdict *out)
{
	*out = (struct fw_verdict){.action = FW_DROP,
				   .reason = FW_REASON_NO_CHAIN,
				   .chain = chain,
				   .rule = -1,
				   .state = state};
	if (!chain_ok(chain))
		return;
	for (size_t i = 0; i < fw->chains[chain].n; i++) {
		struct fw_rule *r = &fw->chains[chain].v[i];

		if (!matches(r, pkt, state))
			continue;
		r->hits++;
		out->action = r->action;
		out->reason = FW_REASON_RULE;
		out->rule = (int)i;
		out->matched = r;
		return;
	}
	out->action = fw->policy[chain];
	out->reason = FW_REASON_POLICY;
}

void firewall_filter(struct firewall *fw, enum fw_chain chain, const struct packet_info *pkt,
		     enum conntrack_state state, struct fw_verdict *out)
{
	filter_chain(fw, chain, pkt, rule_matches, state, out);
}

void firewall_filter6(struct firewall *fw, enum fw_chain chain, const struct packet6_info *pkt,
		      enum conntrack_state state, struct fw_verdict *out)
{
	filter_chain(fw, chain, pkt, rule_matches6, state, out);
}
