/*
 * verdict.c - the names of the verdict vocabulary (sim/verdict.h): chains,
 * actions and rules as iptables prints them, RFC 4787's behaviour names, and
 * the size of each drop record's facts.
 */
#include "sim/verdict.h"

#include <stdio.h>
#include <string.h>

/* ---- the firewall's chains, actions and rules ---------------------------- */

const char *fw_chain_name(enum fw_chain chain)
{
	static const char *const names[FW_CHAIN_COUNT] = {"INPUT", "OUTPUT", "FORWARD"};

	return (unsigned)chain < FW_CHAIN_COUNT ? names[chain] : "?";
}

const char *fw_action_name(enum fw_action action)
{
	switch (action) {
	case FW_ACCEPT:
		return "accept";
	case FW_DROP:
		return "drop";
	case FW_REJECT:
		return "reject";
	}
	return "?";
}

static void format_proto(char *out, size_t size, uint8_t proto)
{
	switch (proto) {
	case 17 /* UDP */:
		snprintf(out, size, "udp");
		break;
	case 6 /* TCP */:
		snprintf(out, size, "tcp");
		break;
	case 1 /* ICMP */:
		snprintf(out, size, "icmp");
		break;
	default:
		snprintf(out, size, "%u", proto);
	}
}

/* " --dport 5000" or " --dport 5000:5010" (iptables' range syntax). */
static int format_ports(char *out, size_t size, const char *opt, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 0) /* any port */
		return snprintf(out, size, "%s", "");
	if (hi <= lo)
		return snprintf(out, size, " %s %u", opt, lo);
	return snprintf(out, size, " %s %u:%u", opt, lo, hi);
}

/* libxt_conntrack.c state_print_state: the states in the order INVALID,
 * NEW, RELATED, ESTABLISHED, comma-separated (so iptables-save prints
 * "RELATED,ESTABLISHED" whichever order the rule was written in). */
static void states_text(unsigned states, char *out, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} order[] = {{CONNTRACK_INVALID, "INVALID"},
		     {CONNTRACK_NEW, "NEW"},
		     {CONNTRACK_RELATED, "RELATED"},
		     {CONNTRACK_ESTABLISHED, "ESTABLISHED"},
		     {CONNTRACK_UNTRACKED, "UNTRACKED"}};
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((states & order[i].bit) == 0 || used >= size)
			continue;
		int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", order[i].name);
		used += w > 0 ? (size_t)w : 0;
	}
}

/* libxt_icmp.c icmp_save: " --icmp-type 8", " --icmp-type 3/3" when one
 * code is asked for. */
static void format_icmp(char *out, size_t size, const struct fw_rule *r)
{
	out[0] = '\0';
	if (!r->match_icmp_type)
		return;
	if (r->match_icmp_code)
		snprintf(out, size, " --icmp-type %u/%u", r->icmp_type, r->icmp_code);
	else
		snprintf(out, size, " --icmp-type %u", r->icmp_type);
}

/* libxt_tcp.c print_tcpf: the names of the bits, in tcp_flag_names' order
 * (FIN, SYN, RST, PSH, ACK, URG), comma-separated; "NONE" for none. */
static void tcp_flags_text(uint8_t flags, char *out, size_t size)
{
	static const char *const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < 6 && used < size; i++) {
		if (!(flags & (1u << i)))
			continue;
		int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", names[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used == 0)
		snprintf(out, size, "NONE");
}

/* libxt_tcp.c tcp_save, after " -m tcp": the ports (moved here from
 * sp/dp, which are emptied), then " --tcp-flags MASK COMP" (what --syn
 * saves as: FIN,SYN,RST,ACK SYN). Only for -p tcp with a TCP condition;
 * UDP's ports keep their old form (without -m udp). */
static void format_tcp(char *out, size_t size, const struct fw_rule *r, char *sp, char *dp)
{
	char mask[40], comp[40];

	out[0] = '\0';
	if (r->proto != 6 || (sp[0] == '\0' && dp[0] == '\0' && r->tcp_flags_mask == 0))
		return;
	tcp_flags_text(r->tcp_flags_mask & 0x3f, mask, sizeof(mask));
	tcp_flags_text(r->tcp_flags_match & 0x3f, comp, sizeof(comp));
	int n = snprintf(out, size, " -m tcp%s%s%s%s%s%s", sp, dp,
			 r->tcp_flags_mask ? " --tcp-flags " : "", r->tcp_flags_mask ? mask : "",
			 r->tcp_flags_mask ? " " : "", r->tcp_flags_mask ? comp : "");
	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0'; /* cut, as every rule's words are when too long */
	sp[0] = dp[0] = '\0';
}

/* libipt_REJECT.c reject_table: the names, and the aliases it also reads. */
static const struct {
	const char *name, *alias;
	uint8_t code; /* of ICMP type 3, destination unreachable */
} reject_names[FW_REJECT_WITH_COUNT] = {
    [FW_REJECT_PORT_UNREACHABLE] = {"icmp-port-unreachable", "port-unreach", 3},
    [FW_REJECT_NET_UNREACHABLE] = {"icmp-net-unreachable", "net-unreach", 0},
    [FW_REJECT_HOST_UNREACHABLE] = {"icmp-host-unreachable", "host-unreach", 1},
    [FW_REJECT_PROTO_UNREACHABLE] = {"icmp-proto-unreachable", "proto-unreach", 2},
    [FW_REJECT_NET_PROHIBITED] = {"icmp-net-prohibited", "net-prohib", 9},
    [FW_REJECT_HOST_PROHIBITED] = {"icmp-host-prohibited", "host-prohib", 10},
    [FW_REJECT_ADMIN_PROHIBITED] = {"icmp-admin-prohibited", "admin-prohib", 13},
    [FW_REJECT_TCP_RESET] = {"tcp-reset", "tcp-rst", 3},
};

const char *fw_reject_with_name(enum fw_reject_with with)
{
	return (unsigned)with < FW_REJECT_WITH_COUNT ? reject_names[with].name : "?";
}

int fw_reject_with_parse(const char *s, enum fw_reject_with *out)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < FW_REJECT_WITH_COUNT; i++) {
		const char *name = reject_names[i].name;
		bool icmp = strncmp(name, "icmp-", 5) == 0;
		if (strcmp(s, name) == 0 || (icmp && strcmp(s, name + 5) == 0) ||
		    strcmp(s, reject_names[i].alias) == 0) {
			*out = (enum fw_reject_with)i;
			return 0;
		}
	}
	return -1;
}

void fw_reject_icmp(enum fw_reject_with with, uint8_t *type, uint8_t *code)
{
	/* Every REJECT iptables sends for IPv4 is a destination unreachable
	 * (ipt_REJECT.c reject_tg: nf_send_unreach(skb, code, hook)). */
	*type = 3;
	*code = reject_names[(unsigned)with < FW_REJECT_WITH_COUNT ? with : 0].code;
}

/* libip6t_REJECT.c reject_table: each name, its alias, and the ICMPv6
 * code (type 1, destination unreachable) ip6t_REJECT.c sends. Values with
 * no ip6tables name: sim/verdict.h. */
static const struct {
	const char *name, *alias;
	uint8_t code;
} reject_names6[FW_REJECT_WITH_COUNT] = {
    [FW_REJECT_PORT_UNREACHABLE] = {"icmp6-port-unreachable", "port-unreach", 4},
    [FW_REJECT_NET_UNREACHABLE] = {"icmp6-no-route", "no-route", 0},
    [FW_REJECT_HOST_UNREACHABLE] = {"icmp6-addr-unreachable", "addr-unreach", 3},
    [FW_REJECT_PROTO_UNREACHABLE] = {"icmp6-port-unreachable", "port-unreach", 4},
    [FW_REJECT_NET_PROHIBITED] = {"icmp6-adm-prohibited", "adm-prohibited", 1},
    [FW_REJECT_HOST_PROHIBITED] = {"icmp6-adm-prohibited", "adm-prohibited", 1},
    [FW_REJECT_ADMIN_PROHIBITED] = {"icmp6-adm-prohibited", "admin-prohib", 1},
    [FW_REJECT_TCP_RESET] = {"tcp-reset", "tcp-rst", 4},
};

const char *fw_reject_with_name6(enum fw_reject_with with)
{
	return (unsigned)with < FW_REJECT_WITH_COUNT ? reject_names6[with].name : "?";
}

int fw_reject_with_parse6(const char *s, enum fw_reject_with *out)
{
	/* The canonical value of each name first: ADMIN_PROHIBITED for
	 * icmp6-adm-prohibited, not the IPv4 values that share it. */
	static const enum fw_reject_with order[] = {
	    FW_REJECT_PORT_UNREACHABLE, FW_REJECT_NET_UNREACHABLE, FW_REJECT_HOST_UNREACHABLE,
	    FW_REJECT_ADMIN_PROHIBITED, FW_REJECT_TCP_RESET,	   FW_REJECT_NET_PROHIBITED};

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum fw_reject_with w = order[i];

		if (strcmp(s, reject_names6[w].name) == 0 ||
		    strcmp(s, reject_names6[w].alias) == 0) {
			*out = w == FW_REJECT_NET_PROHIBITED ? FW_REJECT_ADMIN_PROHIBITED : w;
			return 0;
		}
	}
	return -1;
}

void fw_reject_icmp6(enum fw_reject_with with, uint8_t *type, uint8_t *code)
{
	*type = 1; /* ICMPv6 destination unreachable (RFC 4443 3.1) */
	*code = reject_names6[(unsigned)with < FW_REJECT_WITH_COUNT ? with : 0].code;
}

/* " -s 2001:db8::/32": ip6tables-save always writes the length (a /128
 * too). */
static void format_prefix6(char *out, size_t size, const char *opt, const struct ip6_addr *a,
			   uint8_t len)
{
	char text[IP6_TEXT_SIZE];

	out[0] = '\0';
	if (len != 0)
		snprintf(out, size, " %s %s/%u", opt,
			 ip6_format_as_inet_ntop(a, text, sizeof(text)), len);
}

/* After " -p udp" or " -p tcp": " -m udp --sport 1 --dport 2", libxt_tcp's
 * " --tcp-flags MASK COMP" last; nothing without a condition. */
static void format_l4_6(char *out, size_t size, const struct fw_rule *r)
{
	char sp[24], dp[24], mask[40], comp[40], flags[96] = "";

	out[0] = '\0';
	format_ports(sp, sizeof(sp), "--sport", r->sport_lo, r->sport_hi);
	format_ports(dp, sizeof(dp), "--dport", r->dport_lo, r->dport_hi);
	if (r->proto == 6 && r->tcp_flags_mask != 0) {
		tcp_flags_text(r->tcp_flags_mask & 0x3f, mask, sizeof(mask));
		tcp_flags_text(r->tcp_flags_match & 0x3f, comp, sizeof(comp));
		snprintf(flags, sizeof(flags), " --tcp-flags %s %s", mask, comp);
	}
	if ((r->proto == 17 || r->proto == 6) && (sp[0] || dp[0] || flags[0]))
		snprintf(out, size, " -m %s%s%s%s", r->proto == 6 ? "tcp" : "udp", sp, dp, flags);
	else if (r->proto == 58 && r->match_icmp_type && r->match_icmp_code)
		snprintf(out, size, " -m icmp6 --icmpv6-type %u/%u", r->icmp_type, r->icmp_code);
	else if (r->proto == 58 && r->match_icmp_type)
		snprintf(out, size, " -m icmp6 --icmpv6-type %u", r->icmp_type);
}

/* An ip6 rule as ip6tables-save v1.8.9 writes it: -s, -d, -p (ICMPv6 is
 * "ipv6-icmp", /etc/protocols' name), the protocol's match, the state, the
 * comment (-m comment --comment "..."), the target. */
static int fw_rule_format6(const struct fw_rule *r, char *out, size_t size)
{
	char src[IP6_TEXT_SIZE + 8], dst[IP6_TEXT_SIZE + 8], proto[24] = "", l4[128], name[8];
	char state[80] = "", states[48], comment[80] = "", reject[48] = "", all[512];
	const char *action = r->action == FW_ACCEPT   ? "ACCEPT"
			     : r->action == FW_REJECT ? "REJECT"
						      : "DROP";
	int n;

	format_prefix6(src, sizeof(src), "-s", &r->src6, r->src_len);
	format_prefix6(dst, sizeof(dst), "-d", &r->dst6, r->dst_len);
	if (r->proto == 58)
		snprintf(proto, sizeof(proto), " -p ipv6-icmp");
	else if (r->proto != 0) {
		format_proto(name, sizeof(name), r->proto);
		snprintf(proto, sizeof(proto), " -p %s", name);
	}
	format_l4_6(l4, sizeof(l4), r);
	if (r->states != FW_STATE_ANY) {
		states_text(r->states, states, sizeof(states));
		snprintf(state, sizeof(state), " -m state --state %s", states);
	}
	if (r->comment[0] != '\0')
		snprintf(comment, sizeof(comment), " -m comment --comment \"%.*s\"",
			 (int)sizeof(r->comment), r->comment);
	if (r->action == FW_REJECT)
		snprintf(reject, sizeof(reject), " --reject-with %s",
			 fw_reject_with_name6(r->reject_with));
	n = snprintf(all, sizeof(all), "%s%s%s%s%s%s -j %s%s", src, dst, proto, l4, state, comment,
		     action, reject);
	return snprintf(out, size, "%s", n > 0 ? all + 1 : "");
}

int fw_rule_format(const struct fw_rule *r, char *out, size_t size)
{
	char proto[16] = "", src[24] = "", dst[24] = "", sp[24], dp[24], ip[16], name[8];
	char state[80] = "", states[48], comment[64] = "", icmp[32], reject[48] = "", all[400];
	char tcp[128];
	const char *action = r->action == FW_ACCEPT   ? "ACCEPT"
			     : r->action == FW_REJECT ? "REJECT"
						      : "DROP";
	int n;

	if (r->family == 6)
		return fw_rule_format6(r, out, size);
	/* Options are in the order iptables-save prints them, each with a
	 * leading space; the first space is skipped at the end. */
	if (r->proto != 0) {
		format_proto(name, sizeof(name), r->proto);
		snprintf(proto, sizeof(proto), " -p %s", name);
	}
	if (r->src_len != 0)
		snprintf(src, sizeof(src), " -s %s/%u", ip_format(r->src, ip, sizeof(ip)),
			 r->src_len);
	if (r->dst_len != 0)
		snprintf(dst, sizeof(dst), " -d %s/%u", ip_format(r->dst, ip, sizeof(ip)),
			 r->dst_len);
	format_ports(sp, sizeof(sp), "--sport", r->sport_lo, r->sport_hi);
	format_ports(dp, sizeof(dp), "--dport", r->dport_lo, r->dport_hi);
	format_icmp(icmp, sizeof(icmp), r);
	format_tcp(tcp, sizeof(tcp), r, sp, dp);
	if (r->states != FW_STATE_ANY) {
		states_text(r->states, states, sizeof(states));
		snprintf(state, sizeof(state), " -m state --state %s", states);
	}
	/* libipt_REJECT.c REJECT_save prints --reject-with always, the
	 * default (icmp-port-unreachable) too. */
	if (r->action == FW_REJECT)
		snprintf(reject, sizeof(reject), " --reject-with %s",
			 fw_reject_with_name(r->reject_with));
	if (r->comment[0] != '\0')
		snprintf(comment, sizeof(comment), " /* %.*s */", (int)sizeof(r->comment),
			 r->comment);
	n = snprintf(all, sizeof(all), "%s%s%s%s%s%s%s%s -j %s%s%s", proto, src, dst, tcp, sp, dp,
		     icmp, state, action, reject, comment);
	return snprintf(out, size, "%s", n > 0 ? all + 1 : "");
}

/* ---- the NAT's behaviours (RFC 4787) -------------------------------------- */

const char *nat_origin_name(enum nat_origin o)
{
	switch (o) {
	case NAT_ORIGIN_TRAFFIC:
		return "traffic";
	case NAT_ORIGIN_FORWARD:
		return "forward";
	case NAT_ORIGIN_PCP:
		return "pcp";
	case NAT_ORIGIN_NATPMP:
		return "nat-pmp";
	}
	return "unknown";
}

const char *pcp_decision_name(enum pcp_decision d)
{
	static const char *const names[PCP_DECISION_COUNT] = {
	    [PCP_DECISION_CREATED] = "created",
	    [PCP_DECISION_RENEWED] = "renewed",
	    [PCP_DECISION_DELETED] = "deleted",
	    [PCP_DECISION_NOTHING_TO_DELETE] = "nothing-to-delete",
	    [PCP_DECISION_ADDRESS] = "address",
	    [PCP_DECISION_UNSUPP_VERSION] = "unsupported-version",
	    [PCP_DECISION_MALFORMED] = "malformed",
	    [PCP_DECISION_ADDRESS_MISMATCH] = "address-mismatch",
	    [PCP_DECISION_UNSUPP_OPCODE] = "unsupported-opcode",
	    [PCP_DECISION_UNSUPP_PROTOCOL] = "unsupported-protocol",
	    [PCP_DECISION_NONCE_MISMATCH] = "nonce-mismatch",
	    [PCP_DECISION_NOT_OWNER] = "not-owner",
	    [PCP_DECISION_NO_RESOURCES] = "no-resources",
	    [PCP_DECISION_IGNORED] = "ignored",
	    [PCP_DECISION_UNSUPP_OPTION] = "unsupported-option",
	    [PCP_DECISION_MALFORMED_OPTION] = "malformed-option",
	    [PCP_DECISION_NOT_AUTHORIZED] = "not-authorized",
	};
	return (unsigned)d < PCP_DECISION_COUNT ? names[d] : "unknown";
}

bool pcp_decision_succeeded(enum pcp_decision d)
{
	return d == PCP_DECISION_CREATED || d == PCP_DECISION_RENEWED ||
	       d == PCP_DECISION_DELETED || d == PCP_DECISION_NOTHING_TO_DELETE ||
	       d == PCP_DECISION_ADDRESS;
}

uint8_t pcp_decision_result(enum pcp_decision d, enum nat_origin protocol)
{
	/* {PCP, NAT-PMP}: RFC 6887 7.4's numbers, RFC 6886 3.5's. NAT-PMP
	 * has no malformed-request code: a server ignores what it cannot
	 * read (miniupnpd natpmp.c discards it). */
	static const uint8_t codes[PCP_DECISION_COUNT][2] = {
	    [PCP_DECISION_UNSUPP_VERSION] = {1, 1},    [PCP_DECISION_MALFORMED] = {3, 0},
	    [PCP_DECISION_ADDRESS_MISMATCH] = {12, 0}, [PCP_DECISION_UNSUPP_OPCODE] = {4, 5},
	    [PCP_DECISION_UNSUPP_PROTOCOL] = {9, 0},   [PCP_DECISION_NONCE_MISMATCH] = {2, 2},
	    [PCP_DECISION_NOT_OWNER] = {2, 2},	       [PCP_DECISION_NO_RESOURCES] = {8, 4},
	    [PCP_DECISION_UNSUPP_OPTION] = {5, 0},     [PCP_DECISION_MALFORMED_OPTION] = {6, 0},
	    [PCP_DECISION_NOT_AUTHORIZED] = {2, 2},
	};
	if ((unsigned)d >= PCP_DECISION_COUNT)
		return 0;
	return codes[d][protocol == NAT_ORIGIN_NATPMP ? 1 : 0];
}

const char *nat_behaviour_name(enum nat_behaviour b)
{
	switch (b) {
	case NAT_ENDPOINT_INDEPENDENT:
		return "endpoint-independent";
	case NAT_ADDRESS_DEPENDENT:
		return "address-dependent";
	case NAT_ADDRESS_AND_PORT_DEPENDENT:
		return "address-and-port-dependent";
	}
	return "unknown";
}

const char *nat_behaviour_abbrev(enum nat_behaviour b, bool filtering)
{
	switch (b) {
	case NAT_ENDPOINT_INDEPENDENT:
		return filtering ? "EIF" : "EIM";
	case NAT_ADDRESS_DEPENDENT:
		return filtering ? "ADF" : "ADM";
	case NAT_ADDRESS_AND_PORT_DEPENDENT:
		return filtering ? "APDF" : "APDM";
	}
	return "?";
}

const char *nat_classic_name(enum nat_behaviour mapping, enum nat_behaviour filtering)
{
	/* The cone names (RFC 3489) only describe endpoint-independent mapping;
	 * anything else is what RFC 3489 called symmetric (RFC 4787 section 3). */
	if (mapping == NAT_ADDRESS_DEPENDENT || mapping == NAT_ADDRESS_AND_PORT_DEPENDENT)
		return "symmetric";
	if (mapping != NAT_ENDPOINT_INDEPENDENT)
		return "custom";
	switch (filtering) {
	case NAT_ENDPOINT_INDEPENDENT:
		return "full-cone";
	case NAT_ADDRESS_DEPENDENT:
		return "restricted-cone";
	case NAT_ADDRESS_AND_PORT_DEPENDENT:
		return "port-restricted-cone";
	}
	return "custom";
}

/* ---- a drop record's facts ------------------------------------------------- */

size_t verdict_facts_size(int kind)
{
	switch (kind) {
	case NODE_VERDICT_FIREWALL:
		return sizeof(struct node_firewall_facts);
	case NODE_VERDICT_NAT:
		return sizeof(struct nat_facts);
	case NODE_VERDICT_PATH:
		return sizeof(struct node_path_facts);
	case NODE_VERDICT_LINK:
		return sizeof(struct link_drop_facts);
	default:
		return 0;
	}
}
