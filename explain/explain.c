/*
 * explain.c - verdicts into sentences (DESIGN.md "Decide, then explain").
 *
 * Every sentence a student reads about a firewall's or a NAT's decision is
 * made here, from the verdict the model returned, and from nothing else: the
 * words cannot disagree with the decision, and they are the same whether or
 * not anyone watches. Rules are numbered from 1, as `iptables -L
 * --line-numbers` does (fw_verdict.rule is 0-based).
 */
#include "explain/explain.h"
#include "explain/explain_internal.h"
#include "explain/ipv6.h" /* explain_icmp6_name */
#include "explain/socket.h"
#include "explain/xlat.h" /* explain_xlat_refusal */

#include "sim/engine.h" /* SIM_S */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Remotes named in a drop sentence before "and N more", and how many of a
 * mapping's remotes are looked at to find them. */
#define NAT_LIST_SHOWN 3
#define NAT_LIST_SCAN 16

/* ---- firewall ------------------------------------------------------------ */

static const char *chain_direction(enum fw_chain chain)
{
	switch (chain) {
	case FW_CHAIN_INPUT:
		return "inbound";
	case FW_CHAIN_OUTPUT:
		return "outbound";
	default:
		return "forwarded";
	}
}

/* Why an ESTABLISHED packet is one: the other direction was seen first. */
static const char *established_reason(enum fw_chain chain)
{
	switch (chain) {
	case FW_CHAIN_INPUT:
		return "a reply to a flow this host started";
	case FW_CHAIN_OUTPUT:
		return "a reply to a flow the remote side started";
	default:
		return "a reply to a flow already forwarded the other way";
	}
}

/* "a new inbound flow", "an established inbound flow", "a related inbound
 * ICMP error", "an invalid inbound packet" (conntrack could not place it). */
static const char *state_article(enum conntrack_state state)
{
	switch (state) {
	case CONNTRACK_ESTABLISHED:
		return "an established";
	case CONNTRACK_RELATED:
		return "a related";
	case CONNTRACK_INVALID:
		return "an invalid";
	case CONNTRACK_UNTRACKED:
		return "an untracked";
	default:
		return "a new";
	}
}

static const char *state_noun(enum conntrack_state state)
{
	switch (state) {
	case CONNTRACK_RELATED:
		return "ICMP error";
	case CONNTRACK_INVALID:
	case CONNTRACK_UNTRACKED:
		return "packet";
	default:
		return "flow";
	}
}

static const char *action_verb(enum fw_action action)
{
	switch (action) {
	case FW_ACCEPT:
		return "accepted";
	case FW_REJECT:
		return "rejected";
	default:
		return "dropped";
	}
}

/* "rule INPUT #2 (-p udp --dport 5000 -j DROP) dropped it[: comment]", or for
 * an accept on state ESTABLISHED, the reason the packet counts as a reply. */
static void rule_sentence(const struct fw_verdict *v, char *out, size_t size)
{
	const struct fw_rule *r = v->matched;
	struct fw_rule bare = *r;
	char text[160];
	int n;

	bare.comment[0] = '\0'; /* the comment goes after the verb, not inside () */
	fw_rule_format(&bare, text, sizeof(text));
	n = snprintf(out, size, "rule %s #%d (%s)", fw_chain_name(v->chain), v->rule + 1, text);
	if (n < 0 || (size_t)n >= size)
		return;
	if (r->action == FW_ACCEPT && (r->states & CONNTRACK_ESTABLISHED) &&
	    v->state == CONNTRACK_ESTABLISHED)
		snprintf(out + n, size - (size_t)n, ": %s", established_reason(v->chain));
	else if (r->action == FW_ACCEPT && (r->states & CONNTRACK_RELATED) &&
		 v->state == CONNTRACK_RELATED)
		snprintf(out + n, size - (size_t)n,
			 ": an ICMP error about a flow conntrack tracks "
			 "(RELATED)");
	else if (r->comment[0] != '\0')
		snprintf(out + n, size - (size_t)n, " %s it: %s", action_verb(r->action),
			 r->comment);
	else
		snprintf(out + n, size - (size_t)n, " %s it", action_verb(r->action));
}

/* "no rule in FORWARD accepted a new forwarded flow, but endpoint-independent
 * filtering admitted it: [2001:db8:1::5]:5000 has an outbound UDP flow (to
 * [2001:db8:2::1]:3478, conntrack id 3)". */
static void explain_firewall_admitted(const struct fw_verdict *v, char *out, size_t size)
{
	const struct fw_admission *a = v->admitted;
	char inside[IP6_TEXT_SIZE + 8], remote[IP6_TEXT_SIZE + 8];

	if (a == NULL) {
		snprintf(out, size, "admitted by the filter's filtering behaviour");
		return;
	}
	endpoint6_format(&a->inside, inside, sizeof(inside));
	endpoint6_format(&a->remote, remote, sizeof(remote));
	snprintf(out, size,
		 "no rule in %s accepted a new %s flow, but %s filtering admitted it: %s "
		 "has an outbound %s flow (to %s, conntrack id %u)%s",
		 fw_chain_name(v->chain), chain_direction(v->chain),
		 nat_behaviour_name((enum nat_behaviour)a->filtering), inside,
		 a->proto == 17	 ? "UDP"
		 : a->proto == 6 ? "TCP"
				 : "IPv6",
		 remote, a->flow_id,
		 a->filtering == NAT_ADDRESS_DEPENDENT ? " to the same address" : "");
}

void explain_firewall(const struct fw_verdict *v, char *out, size_t size)
{
	const char *name = fw_chain_name(v->chain);

	switch (v->reason) {
	case FW_REASON_RULE:
		rule_sentence(v, out, size);
		return;
	case FW_REASON_POLICY:
		snprintf(out, size, "no rule in %s matched %s %s %s, and the %s policy is %s", name,
			 state_article(v->state), chain_direction(v->chain), state_noun(v->state),
			 name, fw_action_name(v->action));
		return;
	case FW_REASON_ADMITTED:
		explain_firewall_admitted(v, out, size);
		return;
	case FW_REASON_NO_CHAIN:
		break;
	}
	snprintf(out, size, "no such chain (%d)", (int)v->chain);
}

/* ---- NAT ----------------------------------------------------------------- */

/* "a", "a and b", "a, b and c", "a, b, c and 2 more". With ip_only, remotes
 * are listed by address, each address once (what ADF compares). */
static void nat_join(const struct endpoint *eps, size_t n, size_t n_total, bool ip_only, char *out,
		     size_t size)
{
	char items[NAT_LIST_SHOWN][24];
	size_t uniq = 0, shown = 0;

	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; ip_only && j < i && !dup; j++)
			dup = eps[j].ip == eps[i].ip;
		if (dup)
			continue;
		if (shown < NAT_LIST_SHOWN) {
			if (ip_only)
				ip_format(eps[i].ip, items[shown], sizeof(items[0]));
			else
				endpoint_format(&eps[i], items[shown], sizeof(items[0]));
			shown++;
		}
		uniq++;
	}
	size_t more = uniq - shown + (n_total - n);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < shown && used < size; i++) {
		const char *sep = i == 0 ? "" : (i + 1 == shown && more == 0) ? " and " : ", ";
		int w = snprintf(out + used, size - used, "%s%s", sep, items[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (more > 0 && used < size)
		snprintf(out + used, size - used, " and %zu more", more);
}

static size_t nat_unique_ips(const struct endpoint *eps, size_t n)
{
	size_t uniq = 0;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = eps[j].ip == eps[i].ip;
		uniq += !dup;
	}
	return uniq;
}

int explain_nat_filter(enum nat_behaviour filtering, const struct endpoint *remotes, size_t n,
		       bool is_static, char *out, size_t size)
{
	char list[160];

	if (is_static)
		return snprintf(out, size, "accepts anyone (port forward)");
	if (filtering == NAT_ENDPOINT_INDEPENDENT)
		return snprintf(out, size, "accepts anyone (endpoint-independent filtering)");
	if (n == 0)
		return snprintf(out, size, "accepts nobody yet (%s filtering)",
				nat_behaviour_name(filtering));
	bool ip_only = filtering == NAT_ADDRESS_DEPENDENT;
	nat_join(remotes, n, n, ip_only, list, sizeof(list));
	return snprintf(out, size, "accepts %s%s (%s filtering)", list,
			ip_only ? " on any port" : "", nat_behaviour_name(filtering));
}

/* Appends to the sentence in out[size] (used bytes so far); a sentence too
 * long for the buffer ends in "..." instead of being cut silently. */
static size_t nat_append(char *out, size_t size, size_t used, const char *fmt, ...)
{
	va_list ap;

	if (used + 1 >= size)
		return used;
	va_start(ap, fmt);
	int w = vsnprintf(out + used, size - used, fmt, ap);
	va_end(ap);
	if (w < 0)
		return used;
	if ((size_t)w < size - used)
		return used + (size_t)w;
	if (size >= 4)
		memcpy(out + size - 4, "...", 4);
	return size - 1;
}

/* "office dropped 203.0.113.7:4000 → 198.51.100.9:61002: " */
static const char *icmp_words(uint8_t type, uint8_t code, char *out, size_t size);

/* An echo's id plays a port in the verdict (sim/verdict.h: a request's is
 * its source port, a reply's its destination port). */
static bool nat_is_echo(const struct nat_result *res)
{
	return res->proto == 1 && (res->icmp_type == 0 || res->icmp_type == 8);
}

static uint16_t nat_echo_id(const struct nat_result *res)
{
	return res->icmp_type == 8 ? res->src.port : res->dst.port;
}

/* "home dropped 198.51.100.2:4000 → 203.0.113.7:61002: ", or for an echo
 * "home dropped the ICMP echo request 192.0.2.1 → 203.0.113.7 (id 5000): "
 * (ICMP has no ports). */
static size_t nat_drop_prefix(const struct nat_result *res, const char *node, char *out,
			      size_t size)
{
	char src[24], dst[24], what[48];

	out[0] = '\0';
	if (nat_is_echo(res))
		return nat_append(out, size, 0,
				  "%s dropped the ICMP %s %s \u2192 %s (id %u): ", node,
				  icmp_words(res->icmp_type, res->icmp_code, what, sizeof(what)),
				  ip_format(res->src.ip, src, sizeof(src)),
				  ip_format(res->dst.ip, dst, sizeof(dst)), nat_echo_id(res));
	endpoint_format(&res->src, src, sizeof(src));
	endpoint_format(&res->dst, dst, sizeof(dst));
	if (res->proto == 6) /* a segment by its flags: "the TCP SYN ..." */
		return nat_append(out, size, 0, "%s dropped the TCP %s %s \u2192 %s: ", node,
				  explain_tcp_flags(res->tcp_flags, what, sizeof(what)), src, dst);
	return nat_append(out, size, 0, "%s dropped %s \u2192 %s: ", node, src, dst);
}

/* Why filtering refused the packet (RFC 4787 section 5). */
static void nat_filter_sentence(const struct nat_result *res, size_t used, char *out, size_t size)
{
	struct endpoint eps[NAT_LIST_SCAN];
	char inside[24], list[160];
	size_t n = res->n_allowed < NAT_LIST_SCAN ? res->n_allowed : NAT_LIST_SCAN;

	if (n > 0)
		memcpy(eps, res->allowed, n * sizeof(*eps));
	endpoint_format(&res->internal, inside, sizeof(inside));
	if (nat_is_echo(res)) { /* a reply comes from no port: by address alone */
		size_t uniq = nat_unique_ips(eps, n) + (res->n_allowed - n);
		char a[16];

		nat_join(eps, n, res->n_allowed, true, list, sizeof(list));
		nat_append(out, size, used,
			   "its mapping for %s id %u only accepts echo replies from %s, %s it has "
			   "pinged (%s filtering)",
			   ip_format(res->internal.ip, a, sizeof(a)), res->internal.port, list,
			   uniq == 1 ? "the one address" : "the addresses",
			   nat_behaviour_name(res->behaviour));
	} else if (res->behaviour == NAT_ADDRESS_DEPENDENT) {
		size_t uniq = nat_unique_ips(eps, n) + (res->n_allowed - n);
		nat_join(eps, n, res->n_allowed, true, list, sizeof(list));
		nat_append(out, size, used,
			   "its mapping for %s only accepts packets from %s (any port), %s it has "
			   "sent to (address-dependent filtering)",
			   inside, list, uniq == 1 ? "the one address" : "the addresses");
	} else {
		nat_join(eps, n, res->n_allowed, false, list, sizeof(list));
		nat_append(out, size, used,
			   "its mapping for %s only accepts replies from %s, %s it has sent to "
			   "(address-and-port-dependent filtering)",
			   inside, list,
			   res->n_allowed == 1 ? "the one endpoint" : "the endpoints");
	}
}

/* ---- NAT and ICMP (RFC 5508) ---------------------------------------------- */

/* The ICMP messages the models send and read, in a student's words (RFC
 * 792, RFC 1812 5.2.7.1); explain/ needs no model/ for them. */
static const char *icmp_words(uint8_t type, uint8_t code, char *out, size_t size)
{
	static const char *const unreach[] = {
	    [0] = "network unreachable",
	    [1] = "host unreachable",
	    [2] = "protocol unreachable",
	    [3] = "port unreachable",
	    [4] = "fragmentation needed",
	    [9] = "network administratively prohibited",
	    [10] = "host administratively prohibited",
	    [13] = "communication administratively prohibited",
	};
	const char *w = NULL;

	switch (type) {
	case 0:
		w = "echo reply";
		break;
	case 3:
		w = code < sizeof(unreach) / sizeof(unreach[0]) ? unreach[code] : NULL;
		break;
	case 8:
		w = "echo request";
		break;
	case 11:
		w = code == 0 ? "time exceeded" : "fragment reassembly time exceeded";
		break;
	case 12:
		w = "parameter problem";
		break;
	}
	if (w != NULL)
		snprintf(out, size, "%s", w);
	else
		snprintf(out, size, "type %u code %u", type, code);
	return out;
}

/* "UDP header" or "ICMP echo header": what the quoted packet carries. */
static const char *inner_header(uint8_t proto)
{
	return proto == 1 ? "ICMP echo header" : proto == 17 ? "UDP header" : "header";
}

/* "home dropped the ICMP port unreachable 192.0.2.1 → 203.0.113.7: " */
static size_t nat_error_prefix(const struct nat_result *res, const char *node, char *out,
			       size_t size)
{
	char src[16], dst[16], what[48];

	out[0] = '\0';
	return nat_append(out, size, 0, "%s dropped the ICMP %s %s \u2192 %s: ", node,
			  icmp_words(res->icmp_type, res->icmp_code, what, sizeof(what)),
			  ip_format(res->src.ip, src, sizeof(src)),
			  ip_format(res->dst.ip, dst, sizeof(dst)));
}

/* Whether the NAT met the error coming in. An error goes to the sender of
 * the packet it quotes (nf_conntrack_inet_error checks it): going out, that
 * sender is the remote beyond the NAT; coming in, the NAT's own endpoint,
 * or, when a NAT beyond left the quote alone (icmp-inner off), some other
 * address, but never the remote. */
static bool nat_error_inbound(const struct nat_result *res)
{
	return res->dst.ip != res->remote.ip;
}

/* The packet an error quotes, as it was quoted: coming in, one that left
 * through the NAT (inner_before -> remote); going out, one that came in
 * (remote -> inner_before). A quoted echo by its id: "ping A → B id=N". */
static void nat_quoted_flow(const struct nat_result *res, char *out, size_t size)
{
	bool in = nat_error_inbound(res);
	const struct endpoint *from = in ? &res->inner_before : &res->remote;
	const struct endpoint *to = in ? &res->remote : &res->inner_before;
	char a[24], b[24];

	if (res->inner_proto == 1) { /* the id is the side's that chose it */
		snprintf(out, size, "ping %s \u2192 %s id=%u", ip_format(from->ip, a, sizeof(a)),
			 ip_format(to->ip, b, sizeof(b)), from->port ? from->port : to->port);
		return;
	}
	endpoint_format(from, a, sizeof(a));
	endpoint_format(to, b, sizeof(b));
	snprintf(out, size, "%s \u2192 %s", a, b);
}

/* RFC 5508: an error the NAT would not carry. */
static void nat_error_drop_sentence(const struct nat_result *res, const char *node, char *out,
				    size_t size)
{
	char flow[64];
	size_t used = nat_error_prefix(res, node, out, size);

	nat_quoted_flow(res, flow, sizeof(flow));
	if (res->decision == NAT_DECISION_ICMP_ERRORS_OFF)
		nat_append(out, size, used,
			   "this NAT drops every ICMP error (icmp-errors off), so the sender of "
			   "%s never learns what became of it",
			   flow);
	else
		nat_append(out, size, used,
			   "it is about %s, a flow this NAT has no mapping for, so there is "
			   "nobody to give it to",
			   flow);
}

static void nat_drop_sentence(const struct nat_result *res, const char *node, char *out,
			      size_t size)
{
	char src[16], dst[16], ipbuf[16], what[48];
	size_t used;

	out[0] = '\0';
	if (res->decision == NAT_DECISION_NOT_UDP) {
		used =
		    nat_append(out, size, 0,
			       "%s dropped %s \u2192 %s: this NAT translates UDP, TCP, ICMP echoes "
			       "and ICMP errors only, ",
			       node, ip_format(res->src.ip, src, sizeof(src)),
			       ip_format(res->dst.ip, dst, sizeof(dst)));
		if (res->proto == 1)
			nat_append(out, size, used,
				   "and an ICMP %s leaving from inside belongs to no flow it "
				   "translates",
				   icmp_words(res->icmp_type, res->icmp_code, what, sizeof(what)));
		else
			nat_append(out, size, used, "and this is protocol %u", res->proto);
		return;
	}
	if (res->verdict != NAT_VERDICT_DROP)
		return;
	if (res->decision == NAT_DECISION_ICMP_NO_FLOW ||
	    res->decision == NAT_DECISION_ICMP_ERRORS_OFF) {
		nat_error_drop_sentence(res, node, out, size);
		return;
	}
	used = nat_drop_prefix(res, node, out, size);
	switch (res->decision) {
	case NAT_DECISION_NO_MAPPING:
		if (nat_is_echo(res) && res->icmp_type == 8)
			nat_append(out, size, used,
				   "a NAT maps the ids of echoes started inside (RFC 5508 REQ-1), "
				   "and nobody inside started this one, so there is nobody to "
				   "deliver it to");
		else
			nat_append(out, size, used,
				   "no mapping uses %s %u, so there is nobody inside to deliver it "
				   "to",
				   nat_is_echo(res) ? "echo id" : "port", res->external.port);
		break;
	case NAT_DECISION_FILTERED:
		nat_filter_sentence(res, used, out, size);
		break;
	case NAT_DECISION_PORTS_EXHAUSTED:
		nat_append(out, size, used,
			   "every port from %u to %u on %s is taken by another mapping, so there "
			   "is no external port left for a new one",
			   res->port_lo, res->port_hi,
			   ip_format(res->public_ip, ipbuf, sizeof(ipbuf)));
		break;
	case NAT_DECISION_NO_MEMORY:
		nat_append(out, size, used, "the NAT ran out of memory for a new mapping");
		break;
	default: /* translations are worded by nat_translated_sentence */
		break;
	}
}

/* An error translated by the mapping of the flow it quotes (RFC 5508
 * REQ-3/4): "office passed the ICMP port unreachable from 192.0.2.1 on to
 * 10.0.0.7 and rewrote the UDP header inside the error back to
 * 10.0.0.7:5000", or, with icmp_inner off, what it left undone. */
static void nat_related_sentence(const struct nat_result *res, const char *node, char *out,
				 size_t size)
{
	char what[48], peer[16], before[24], after[24], host[16];
	bool in = nat_error_inbound(res);
	size_t used;

	icmp_words(res->icmp_type, res->icmp_code, what, sizeof(what));
	endpoint_format(&res->inner_before, before, sizeof(before));
	endpoint_format(&res->inner_after, after, sizeof(after));
	out[0] = '\0';
	if (in)
		used = nat_append(out, size, 0, "%s passed the ICMP %s from %s on to %s", node,
				  what, ip_format(res->src.ip, peer, sizeof(peer)),
				  ip_format(res->internal.ip, host, sizeof(host)));
	else
		used = nat_append(out, size, 0, "%s sent the ICMP %s from %s out as %s", node, what,
				  ip_format(res->src.ip, host, sizeof(host)),
				  ip_format(res->external.ip, peer, sizeof(peer)));
	if (res->inner_translated)
		nat_append(out, size, used, " and rewrote the %s inside the error %s %s",
			   inner_header(res->inner_proto), in ? "back to" : "to", after);
	else
		nat_append(out, size, used,
			   " but left the %s inside the error as %s (it does not translate "
			   "the packet an error quotes), so %s cannot match it to its own",
			   inner_header(res->inner_proto), before,
			   in ? "the inside host" : "the remote side");
}

/* A translation in words (RFC 4787 REQ-1 outbound, REQ-8 inbound). */
/* "192.168.1.5:5000", or for an echo (RFC 5508 REQ-1: the id is the port)
 * "192.168.1.5 id 4242". */
static void nat_endpoint(const struct nat_result *res, const struct endpoint *ep, char *out,
			 size_t size)
{
	char ip[16];

	if (res->proto == 1)
		snprintf(out, size, "%s id %u", ip_format(ep->ip, ip, sizeof(ip)), ep->port);
	else
		endpoint_format(ep, out, size);
}

static void nat_translated_sentence(const struct nat_result *res, const char *node, char *out,
				    size_t size)
{
	char in[40], ex[40], re[24], who[200];
	bool echo = res->proto == 1;

	if (res->decision == NAT_DECISION_RELATED) {
		nat_related_sentence(res, node, out, size);
		return;
	}
	nat_endpoint(res, &res->internal, in, sizeof(in));
	nat_endpoint(res, &res->external, ex, sizeof(ex));
	if (echo)
		ip_format(res->remote.ip, re, sizeof(re));
	else
		endpoint_format(&res->remote, re, sizeof(re));
	if (res->decision == NAT_DECISION_ADMITTED && echo) {
		snprintf(out, size, "%s let the echo reply from %s in through its mapping for %s",
			 node, re, in);
		return;
	}
	if (res->decision == NAT_DECISION_ADMITTED) {
		explain_nat_filter(res->behaviour, res->allowed, res->n_allowed, res->is_static,
				   who, sizeof(who));
		snprintf(out, size, "%s let %s in through its mapping for %s, which %s", node, re,
			 in, who);
		return;
	}
	snprintf(out, size, "%s %s %s \u2192 %s for %s%s (%s mapping)", node,
		 res->decision == NAT_DECISION_MAPPING_CREATED ? "made a new mapping"
							       : "reused its mapping",
		 in, ex, echo ? "pings to " : "", re, nat_behaviour_name(res->behaviour));
}

size_t explain_nat(const struct nat_result *res, const char *node, char *out, size_t size)
{
	if (res->verdict == NAT_VERDICT_DROP || res->decision == NAT_DECISION_NOT_UDP)
		nat_drop_sentence(res, node, out, size);
	else
		nat_translated_sentence(res, node, out, size);
	return strlen(node) + 1; /* every NAT sentence starts "<node> " */
}

size_t explain_firewall_drop(const struct fw_verdict *v, const struct verdict_flow *flow,
			     const char *node, char *out, size_t size)
{
	char decided[200], text[EXPLAIN_FLOW_SIZE];

	explain_firewall(v, decided, sizeof(decided));
	snprintf(out, size, "%s's firewall %s %s: %s", node,
		 v->action == FW_REJECT ? "rejected" : "dropped",
		 explain_flow(flow, text, sizeof(text)), decided);
	return strlen(node) + 3; /* "<node>'s " */
}

/* iptables' --reject-with name of a destination unreachable code
 * (iptables-extensions(8), REJECT (IPv4)). */
static const char *reject_with_name(uint8_t type, uint8_t code)
{
	if (type != 3)
		return NULL;
	switch (code) {
	case 0:
		return "icmp-net-unreachable";
	case 1:
		return "icmp-host-unreachable";
	case 2:
		return "icmp-proto-unreachable";
	case 3:
		return "icmp-port-unreachable";
	case 9:
		return "icmp-net-prohibited";
	case 10:
		return "icmp-host-prohibited";
	case 13:
		return "icmp-admin-prohibited";
	default:
		return NULL;
	}
}

/* ip6tables' --reject-with name of an ICMPv6 destination unreachable code
 * (iptables-extensions(8), REJECT (IPv6)). */
static const char *reject_with_name6(uint8_t type, uint8_t code)
{
	static const char *const names[] = {"icmp6-no-route", "icmp6-adm-prohibited", NULL,
					    "icmp6-addr-unreachable", "icmp6-port-unreachable"};

	return type == 1 && code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

/* reject_answer for an ip6 rule's REJECT (nf_send_unreach6 -> icmp6_send:
 * ICMPv6's names, its rate limit and RFC 4443's never). */
static void reject_answer6(const struct icmp_answer *a, size_t used, char *out, size_t size)
{
	char name[48];
	const char *with = reject_with_name6(a->type, a->code);

	explain_icmp6_name(a->type, a->code, name, sizeof(name));
	if (a->kind == ICMP_ANSWER_SENT) {
		used = nat_append(out, size, used, ", and told the sender: ICMPv6 %s", name);
		if (with != NULL)
			used = nat_append(out, size, used, " (%s)", with);
		if (a->packet_id != 0)
			nat_append(out, size, used, ", #%llu", (unsigned long long)a->packet_id);
	} else if (a->kind == ICMP_ANSWER_RATE_LIMITED) {
		nat_append(out, size, used,
			   ", but did not tell the sender (ICMPv6 %s): " EXPLAIN_ICMP6_RATE_LIMIT,
			   name);
	} else if (a->kind == ICMP_ANSWER_NEVER) {
		nat_append(out, size, used,
			   ", and told the sender nothing (RFC 4443 2.4(e): no error about an "
			   "ICMPv6 error, nor to a multicast or unspecified source)");
	}
}

/* What a REJECT told the sender, after the rule that decided. Linux sends
 * the error with icmp_send() (nf_send_unreach), so it is rate limited like
 * any other error and never sent about an ICMP error. */
static void reject_answer(const struct icmp_answer *a, const struct verdict_flow *flow, size_t used,
			  char *out, size_t size)
{
	char name[48];
	const char *with = reject_with_name(a->type, a->code);

	if (flow->ip_version == 6 && a->kind != ICMP_ANSWER_TCP_RST) {
		reject_answer6(a, used, out, size);
		return;
	}
	explain_icmp_name(a->type, a->code, name, sizeof(name));
	switch (a->kind) {
	case ICMP_ANSWER_SENT:
		used = nat_append(out, size, used, ", and told the sender: %s", name);
		if (with != NULL)
			used = nat_append(out, size, used, " (%s)", with);
		if (a->packet_id != 0)
			nat_append(out, size, used, ", #%llu", (unsigned long long)a->packet_id);
		break;
	case ICMP_ANSWER_RATE_LIMITED:
		nat_append(out, size, used,
			   ", but did not tell the sender (%s): Linux's ICMP rate limit (6 at "
			   "once, then 1 per second per destination)",
			   name);
		break;
	case ICMP_ANSWER_NEVER:
		nat_append(out, size, used, ", and told the sender nothing%s",
			   flow->proto == 1 && explain_icmp_is_error(flow->icmp_type)
			       ? ": an ICMP error is never answered with another (RFC 1122 3.2.2)"
			       : " (RFC 1122 3.2.2: no error about a broadcast or a fragment)");
		break;
	case ICMP_ANSWER_TCP_RST:
		used = nat_append(out, size, used, ", and told the sender: a TCP RST");
		if (a->packet_id != 0)
			nat_append(out, size, used, ", #%llu", (unsigned long long)a->packet_id);
		break;
	case ICMP_ANSWER_NONE:
		break;
	}
}

size_t explain_firewall_reject(const struct fw_verdict *v, const struct verdict_flow *flow,
			       const struct icmp_answer *answer, const char *node, char *out,
			       size_t size)
{
	size_t lead = explain_firewall_drop(v, flow, node, out, size);

	if (answer != NULL && v->action == FW_REJECT)
		reject_answer(answer, flow, strlen(out), out, size);
	return lead;
}

void explain_firewall_rule(const struct fw_verdict *v, char *out, size_t size)
{
	/* Rules are numbered from 1, as iptables -L --line-numbers does. */
	if (v->rule >= 0)
		snprintf(out, size, "%s #%d", fw_chain_name(v->chain), v->rule + 1);
	else
		snprintf(out, size, "%s policy", fw_chain_name(v->chain));
}

/* ---- conntrack -L --------------------------------------------------------- */

static const char *ct_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58: /* libnetfilter_conntrack proto2str[IPPROTO_ICMPV6] */
		return "icmpv6";
	default:
		return "unknown";
	}
}

/* libnetfilter_conntrack snprintf_default.c __snprintf_proto: ports for
 * UDP, "type=%d code=%d id=%d" for ICMP (type and code from the tuple's
 * destination part, the id from its source part: sim/trace.h). */
static int ct_format_tuple(uint8_t proto, const struct trace_ct_tuple *t, char *out, size_t size)
{
	char src[16], dst[16];

	ip_format(t->src, src, sizeof(src));
	ip_format(t->dst, dst, sizeof(dst));
	if (proto == 1 /* ICMP */)
		return snprintf(out, size, "src=%s dst=%s type=%u code=%u id=%u", src, dst,
				(unsigned)(t->dport >> 8), (unsigned)(t->dport & 0xff), t->sport);
	return snprintf(out, size, "src=%s dst=%s sport=%u dport=%u", src, dst, t->sport, t->dport);
}

/* libnetfilter_conntrack src/conntrack/snprintf.c states[], indexed by the
 * kernel's enum tcp_conntrack (model/conntrack.h enum conntrack_tcp_state). */
static const char *ct_tcp_state_name(uint8_t state)
{
	static const char *const names[] = {
	    "NONE",	  "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
	    "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",	  "SYN_SENT2",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

int conntrack_format_tcp_state(const struct trace_conntrack *rec, char *out, size_t size)
{
	/* conntrack -E's [UPDATE] line names the state the segment moved the
	 * entry to, with the flags conntrack -L prints ([UNREPLIED] in the
	 * middle of its line, [ASSURED] at the end). */
	return snprintf(out, size, "%s%s%s", ct_tcp_state_name(rec->tcp_state),
			rec->seen_reply ? "" : " [UNREPLIED]", rec->assured ? " [ASSURED]" : "");
}

int explain_ct_line(const struct explain_ct_line *l, int64_t now, char *out, size_t size)
{
	/* Seconds left, rounded up (the header's contract). The kernel
	 * truncates (ct->timeout - nfct_time_stamp) / HZ, but it also prints
	 * a few jiffies after creation, so a fresh flow reads 29; rounding up
	 * lets a student see the configured 30 at the instant of creation and
	 * 0 only at the instant the entry dies. */
	int64_t left = l->expires_at - now;
	long long secs = left <= 0 ? 0 : (long long)((left + SIM_S(1) - 1) / SIM_S(1));
	char state[16] = "";

	/* conntrack-tools src/conntrack.c / libnetfilter_conntrack
	 * output/snprintf_default.c: "%-8s %u " protocol, then the timeout,
	 * TCP's state (__snprintf_protoinfo, "%s "), flags after the tuple they
	 * belong to, then mark and use. The layer 3 protocol ("ipv4 2", "ipv6
	 * 10") is printed only with -o extended. */
	if (l->proto == 6 /* TCP */)
		snprintf(state, sizeof(state), "%s ", ct_tcp_state_name(l->tcp_state));
	return snprintf(out, size, "%-8s %u %lld %s%s %s%s%s mark=%u use=%u",
			ct_proto_name(l->proto), l->proto, secs, state, l->orig,
			l->seen_reply ? "" : "[UNREPLIED] ", l->reply,
			l->assured ? " [ASSURED]" : "", l->mark, l->use);
}

int conntrack_format_record(const struct trace_conntrack *rec, int64_t now, char *out, size_t size)
{
	char orig[2 * IP6_TEXT_SIZE + 48], reply[2 * IP6_TEXT_SIZE + 48];
	struct explain_ct_line l = {.proto = rec->proto,
				    .orig = orig,
				    .reply = reply,
				    .seen_reply = rec->seen_reply,
				    .assured = rec->assured,
				    .expires_at = rec->expires_at,
				    .mark = rec->mark,
				    .use = rec->use,
				    .tcp_state = rec->tcp_state};

	if (rec->family == 6 && rec->tuples6 != NULL) {
		ct_format_tuple6(rec->proto, &rec->tuples6->orig, orig, sizeof(orig));
		ct_format_tuple6(rec->proto, &rec->tuples6->reply, reply, sizeof(reply));
	} else {
		ct_format_tuple(rec->proto, &rec->orig, orig, sizeof(orig));
		ct_format_tuple(rec->proto, &rec->reply, reply, sizeof(reply));
	}
	return explain_ct_line(&l, now, out, size);
}

int conntrack_format_footer(size_t n, char *out, size_t size)
{
	/* conntrack-tools prints the plural even for one entry. */
	return snprintf(out, size,
			"conntrack v1.4.7 (conntrack-tools): %zu flow entries have been shown.", n);
}

/* ---- the trace's hook ------------------------------------------------------ */

/* A drop record that carries a verdict and no sentence gets its words here,
 * before any observer sees it. buf holds the rule label, then the sentence. */
static void explain_record(struct trace_record *r, char *buf, size_t size)
{
	struct trace_packet *p = &r->u.packet;
	const size_t label = 32;
	char *words = buf + label;
	size_t lead;

	if (size <= label || p->hop != TRACE_HOP_DROP) /* accepts carry facts, no words */
		return;
	switch (p->verdict.kind) {
	case NODE_VERDICT_FIREWALL: {
		const struct node_firewall_facts *f = p->verdict.facts;
		struct fw_verdict v = f->verdict;

		v.matched = v.reason == FW_REASON_RULE ? &f->rule : NULL;
		explain_firewall_rule(&v, buf, label);
		p->rule = buf;
		lead =
		    explain_firewall_reject(&v, &f->flow, &f->answer, p->node, words, size - label);
		if (v.state == CONNTRACK_INVALID && strlen(words) + 1 < size - label)
			explain_tcp_invalid(&f->flow, v.invalid, words + strlen(words),
					    size - label - strlen(words));
		break;
	}
	case NODE_VERDICT_NAT: {
		const struct nat_facts *f = p->verdict.facts;
		struct nat_result res = f->result;

		res.allowed = f->allowed;
		lead = explain_nat(&res, p->node, words, size - label);
		if (strlen(words) + 1 < size - label)
			explain_tcp_nat_answer(f, p->node, words + strlen(words),
					       size - label - strlen(words));
		break;
	}
	case NODE_VERDICT_PATH:
		lead = explain_path(p->verdict.facts, p->node, words, size - label);
		break;
	case NODE_VERDICT_LINK:
		lead = explain_link(p->verdict.facts, p->node, words, size - label);
		break;
	default:
		return;
	}
	p->why = words;
	p->why_after_node = lead > 0 && lead < strlen(words) ? words + lead : NULL;
}

void explain_attach(struct trace *t)
{
	trace_set_explainer(t, explain_record);
}

/* ---- a router's or host's own path ---------------------------------------- */

/* The flow's destination address as text, either family. */
static char *flow_dst_text(const struct verdict_flow *i, char *out, size_t size)
{
	return i->ip_version == 6 ? ip6_format(&i->dst6, out, size) : ip_format(i->dst, out, size);
}

/* The same, for the IPv6 path's drops and the translators' (NPTv6, NAT64). */
static size_t path_node_sentence6(const struct node_path_facts *f, const char *node, char *out,
				  size_t size)
{
	char flow[EXPLAIN_FLOW_SIZE], a[IP6_TEXT_SIZE];
	const struct verdict_flow *i = &f->flow;

	switch (f->cause) {
	case NODE_PATH_NO_IPV6_ROUTE: /* Linux: ip6_null_entry, ip6_pkt_discard */
		snprintf(out, size,
			 "%s dropped %s: no IPv6 route to %s (no entry in its IPv6 table matches, "
			 "and it has no default route)",
			 node, explain_flow(i, flow, sizeof(flow)), flow_dst_text(i, a, sizeof(a)));
		break;
	case NODE_PATH_NO_IPV6_ADDRESS:
		snprintf(out, size, "%s dropped %s: %s has no IPv6 address", node,
			 explain_flow(i, flow, sizeof(flow)), node);
		break;
	case NODE_PATH_PACKET_TOO_BIG: /* RFC 8200 section 5, ip6_forward */
		snprintf(out, size,
			 "%s dropped %s: at %zu bytes it is bigger than the %u-byte MTU of the "
			 "link it routes to, and an IPv6 router never fragments",
			 node, explain_flow(i, flow, sizeof(flow)), i->len, f->mtu);
		break;
	case NODE_PATH_NO_NEIGHBOUR6:
		/* natsim has no neighbour discovery (docs/ipv6.md): nobody on
		 * the link holding the address plays a solicitation nobody
		 * answers, which Linux reports as address unreachable. */
		snprintf(out, size,
			 "%s dropped %s: its next hop %s is on no attachment of the link it "
			 "routes to, so no neighbour would answer for it",
			 node, explain_flow(i, flow, sizeof(flow)),
			 ip6_format(&f->addr6, a, sizeof(a)));
		break;
	case NODE_PATH_HOST_NO_NEIGHBOUR6:
		/* model/host6.c host6_no_neighbour: Linux's ndisc_error_report ->
		 * ip6_link_failure answers the host itself; natsim has no
		 * neighbour discovery and answers at once, Linux after ~3 s. */
		snprintf(
		    out, size,
		    "%s dropped %s: nobody on its link holds %s, so its neighbour solicitations "
		    "would go unanswered and its own stack reports the failure to itself",
		    node, explain_flow(i, flow, sizeof(flow)), ip6_format(&f->addr6, a, sizeof(a)));
		break;
	case NODE_PATH_XLAT: /* model/router_xlat.c: NPTv6 or NAT64 refused it */
		snprintf(out, size, "%s dropped %s: %s", node, explain_flow(i, flow, sizeof(flow)),
			 explain_xlat_refusal(f->xlat, f->xlat_result));
		break;
	case NODE_PATH_UDP6_CSUM_ZERO: /* Linux: __udp6_lib_rcv, udp6_csum_zero_error */
		snprintf(out, size,
			 "%s dropped %s: its UDP checksum is 0 (none), which IPv6 does not allow "
			 "(RFC 8200 section 8.1); routers forward such a datagram, the receiver "
			 "drops it without an answer",
			 node, explain_flow(i, flow, sizeof(flow)));
		break;
	default:
		return 0;
	}
	return strlen(node) + 1;
}

/* Sentences whose subject is the node: "<node> " then the rest. */
static size_t path_node_sentence(const struct node_path_facts *f, const char *node, char *out,
				 size_t size)
{
	char flow[EXPLAIN_FLOW_SIZE], a[IP6_TEXT_SIZE], b[IP6_TEXT_SIZE];
	const struct verdict_flow *i = &f->flow;

	switch (f->cause) {
	case NODE_PATH_MALFORMED:
		snprintf(out, size, "%s dropped a malformed packet: %s", node, f->detail);
		break;
	case NODE_PATH_NO_ROUTE:
		snprintf(out, size,
			 "%s dropped %s: no route to %s (no entry in its table matches, and it has "
			 "no default route)",
			 node, explain_flow(i, flow, sizeof(flow)),
			 ip_format(i->dst, a, sizeof(a)));
		break;
	case NODE_PATH_OWN_NO_SOCKET:
		snprintf(out, size,
			 "%s accepted %s into its own stack (%s) and conntrack now tracks it, "
			 "but nothing listens on port %u",
			 node, explain_flow(i, flow, sizeof(flow)),
			 f->inside ? "from its inside, as a home router's LAN zone does"
				   : "input accept, as a bare Linux box does",
			 i->dport);
		break;
	case NODE_PATH_OWN_ADDRESS:
		snprintf(out, size,
			 "%s dropped %s: %s is %s's own address, and routers do not run services "
			 "here",
			 node, explain_flow(i, flow, sizeof(flow)), flow_dst_text(i, a, sizeof(a)),
			 node);
		break;
	case NODE_PATH_NOT_FOR_US:
		if (i->ip_version == 6)
			ip6_format(&f->addr6, b, sizeof(b));
		else
			ip_format(f->addr, b, sizeof(b));
		snprintf(out, size, "%s dropped %s: it is addressed to %s, and %s is %s", node,
			 explain_flow(i, flow, sizeof(flow)), flow_dst_text(i, a, sizeof(a)), node,
			 b);
		break;
	case NODE_PATH_NO_SOCKET:
		/* A TCP segment reaches here until hosts have a TCP stack (issue
		 * 16); Linux would answer it with an RST (tcp_v4_send_reset). */
		snprintf(out, size, "%s dropped %s: nothing on %s listens on %s port %u", node,
			 explain_flow(i, flow, sizeof(flow)), node, i->proto == 6 ? "TCP" : "UDP",
			 i->dport);
		break;
	default:
		return path_node_sentence6(f, node, out, size);
	}
	return strlen(node) + 1;
}

/* RFC 4787 REQ-9: an inside host's packet to the NAT's own public side. */
static size_t no_hairpin_sentence(const struct node_path_facts *f, const char *node, char *out,
				  size_t size)
{
	char a[IP6_TEXT_SIZE], b[24], flow[EXPLAIN_FLOW_SIZE];
	const struct verdict_flow *i = &f->flow;

	if (i->proto == 1) { /* ICMP has no ports to name */
		snprintf(out, size,
			 "%s does not hairpin: %s is for its own public address %s, which "
			 "this NAT only translates for packets arriving from outside",
			 node, explain_flow(i, flow, sizeof(flow)),
			 ip_format(i->dst, a, sizeof(a)));
		return strlen(node) + 1;
	}
	snprintf(out, size,
		 "%s does not hairpin: %s sent to its own public address %s, which this NAT "
		 "only translates for packets arriving from outside",
		 node, endpoint_format(&(struct endpoint){i->src, i->sport}, a, sizeof(a)),
		 endpoint_format(&(struct endpoint){i->dst, i->dport}, b, sizeof(b)));
	return strlen(node) + 1;
}

/* A host whose destination is off its link and who has no gateway. */
static size_t host_no_route_sentence(const struct node_path_facts *f, const char *node, char *out,
				     size_t size)
{
	char a[IP6_TEXT_SIZE], b[24];
	const struct verdict_flow *i = &f->flow;

	if (i->ip_version == 6) {
		struct ip6_addr net = ip6_prefix_masked(&f->addr6, f->prefix_len);
		char c[IP6_TEXT_SIZE];

		snprintf(out, size,
			 "%s has no route to %s: it is not on %s/%u and %s has no IPv6 "
			 "default gateway",
			 node, ip6_format(&i->dst6, a, sizeof(a)), ip6_format(&net, c, sizeof(c)),
			 f->prefix_len, node);
		return strlen(node) + 1;
	}
	snprintf(out, size,
		 "%s has no route to %s: it is not on %s/%u and %s has no default "
		 "gateway",
		 node, ip_format(f->dst, a, sizeof(a)),
		 ip_format(f->addr & prefix_mask(f->prefix_len), b, sizeof(b)), f->prefix_len,
		 node);
	return strlen(node) + 1;
}

static size_t path_sentence(const struct node_path_facts *f, const char *node, char *out,
			    size_t size)
{
	char a[IP6_TEXT_SIZE], flow[EXPLAIN_FLOW_SIZE];
	const struct verdict_flow *i = &f->flow;

	switch (f->cause) {
	case NODE_PATH_HOP_LIMIT: /* RFC 8200 section 3; as TTL, no subject */
		snprintf(out, size,
			 "hop limit exceeded at %s: %s arrived with hop limit %u, and a router "
			 "may not forward a packet whose hop limit would reach 0",
			 node, explain_flow(i, flow, sizeof(flow)), i->ttl);
		return 0;
	case NODE_PATH_TTL: /* RFC 1812 5.3.1; the node is not the subject */
		snprintf(out, size,
			 "TTL expired at %s: %s arrived with TTL %u, and a router may not forward "
			 "a packet whose TTL would reach 0",
			 node, explain_flow(i, flow, sizeof(flow)), i->ttl);
		return 0;
	case NODE_PATH_NO_HAIRPIN: /* RFC 4787 REQ-9 */
		return no_hairpin_sentence(f, node, out, size);
	case NODE_PATH_NAT_UNPARSABLE:
		snprintf(out, size, "%s's NAT produced a packet that does not parse", node);
		return strlen(node) + 3;
	case NODE_PATH_HOST_NO_ROUTE:
		return host_no_route_sentence(f, node, out, size);
	case NODE_PATH_HOST_UNATTACHED:
		if (i->ip_version == 6)
			ip6_format(&i->dst6, a, sizeof(a));
		else
			ip_format(f->dst, a, sizeof(a));
		snprintf(out, size, "%s cannot reach %s: its %s is not attached to any link", node,
			 a, f->iface);
		return strlen(node) + 1;
	case NODE_PATH_CT_INVALID:
		return explain_tcp_ct_invalid(f, node, out, size);
	default:
		return path_node_sentence(f, node, out, size);
	}
}

/* A drop the stack answers with an ICMP error (or would, but for a rule of
 * RFC 1122 3.2.2 or Linux's rate limit) says so after its reason. */
size_t explain_path(const struct node_path_facts *f, const char *node, char *out, size_t size)
{
	size_t lead = path_sentence(f, node, out, size);
	size_t used = strlen(out);

	if (used + 1 >= size)
		return lead;
	/* Linux answers UDP to its own closed port (__udp4_lib_rcv): say so
	 * when this stack did not. */
	if (f->cause == NODE_PATH_OWN_NO_SOCKET && f->answer.kind == ICMP_ANSWER_NONE &&
	    f->flow.proto != 6)
		snprintf(out + used, size - used, ", and no port unreachable was sent back");
	else
		explain_icmp_answer(&f->answer, &f->flow, out + used, size - used);
	return lead;
}

/* ---- the packet, and a link's own drops ----------------------------------- */

/* explain_flow for IPv6 (ip_version 6): RFC 5952 text. */
static char *flow6(const struct verdict_flow *flow, char *out, size_t size)
{
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], name[48];

	if (flow->form == VERDICT_FLOW_PARSED && flow->proto == 58) { /* ICMPv6 */
		snprintf(out, size, "ICMPv6 %s %s \u2192 %s",
			 explain_icmp6_name(flow->icmp_type, flow->icmp_code, name, sizeof(name)),
			 ip6_format(&flow->src6, a, sizeof(a)),
			 ip6_format(&flow->dst6, b, sizeof(b)));
	} else if (flow->form == VERDICT_FLOW_PARSED) {
		snprintf(
		    out, size, "%s \u2192 %s",
		    endpoint6_format(&(struct endpoint6){flow->src6, flow->sport}, a, sizeof(a)),
		    endpoint6_format(&(struct endpoint6){flow->dst6, flow->dport}, b, sizeof(b)));
	} else if (flow->form == VERDICT_FLOW_ADDRESSES) {
		snprintf(out, size, "%s \u2192 %s", ip6_format(&flow->src6, a, sizeof(a)),
			 ip6_format(&flow->dst6, b, sizeof(b)));
	} else {
		snprintf(out, size, "a %zu-byte malformed packet", flow->len);
	}
	return out;
}

char *explain_flow(const struct verdict_flow *flow, char *out, size_t size)
{
	char a[24], b[24];

	if (flow->ip_version == 6)
		return flow6(flow, out, size);
	switch (flow->form) {
	case VERDICT_FLOW_PARSED:
		if (flow->proto == 1) /* ICMP: what the message is, first */
			return explain_packet(&(struct explain_packet_facts){.flow = *flow}, out,
					      size);
		snprintf(out, size, "%s \u2192 %s",
			 endpoint_format(&(struct endpoint){flow->src, flow->sport}, a, sizeof(a)),
			 endpoint_format(&(struct endpoint){flow->dst, flow->dport}, b, sizeof(b)));
		break;
	case VERDICT_FLOW_ADDRESSES:
		snprintf(out, size, "%s \u2192 %s", ip_format(flow->src, a, sizeof(a)),
			 ip_format(flow->dst, b, sizeof(b)));
		break;
	default:
		snprintf(out, size, "a %zu-byte malformed packet", flow->len);
		break;
	}
	return out;
}

/* Drops whose subject is the sending node: "<node> could not send ...". */
static size_t link_sender_sentence(const struct link_drop_facts *f, const char *node,
				   const char *flow, char *out, size_t size)
{
	char addr[IP6_TEXT_SIZE];

	switch (f->cause) {
	case LINK_DROP_NOT_ATTACHED:
		snprintf(out, size, "%s could not send %s: %s is not attached to link %s", node,
			 flow, f->iface, f->link);
		break;
	case LINK_DROP_LINK_DOWN:
		snprintf(out, size, "%s could not send %s: link %s is down", node, flow, f->link);
		break;
	case LINK_DROP_ACCESS_DOWN:
		snprintf(out, size, "%s could not send %s: its access to link %s is down", node,
			 flow, f->link);
		break;
	case LINK_DROP_NO_NEIGHBOUR:
		/* IPv6: natsim has no neighbour discovery; nobody holds the
		 * address, as nobody would answer its neighbour solicitation. */
		snprintf(out, size, "%s could not send %s: nobody on link %s has address %s", node,
			 flow, f->link,
			 f->flow.ip_version == 6 ? ip6_format(&f->next_hop6, addr, sizeof(addr))
						 : ip_format(f->next_hop, addr, sizeof(addr)));
		break;
	case LINK_DROP_QUEUE_FULL:
		snprintf(out, size,
			 "%s dropped %s: its queue on link %s is full (%zu packets wait behind the "
			 "one being sent at %llu bit/s)",
			 node, flow, f->link, f->queue_limit, (unsigned long long)f->rate_bps);
		break;
	default:
		out[0] = '\0';
		return 0;
	}
	return strlen(node) + 1;
}

size_t explain_link(const struct link_drop_facts *f, const char *node, char *out, size_t size)
{
	char flow[EXPLAIN_FLOW_SIZE];

	explain_flow(&f->flow, flow, sizeof(flow));
	switch (f->cause) {
	case LINK_DROP_NO_MEMORY:
		snprintf(out, size, "the simulator ran out of memory for packets in flight");
		return 0;
	case LINK_DROP_PEER_DOWN:
		snprintf(out, size, "%s never reached %s: its access to link %s is down", flow,
			 f->peer, f->link);
		return 0;
	case LINK_DROP_LOSS: /* drawn from the link's own stream, "link:<name>" */
		snprintf(out, size, "%s was lost on link %s (loss %g%%)", flow, f->link,
			 f->loss * 100.0);
		return 0;
	case LINK_DROP_LOSS_ACCESS:
		snprintf(out, size,
			 "%s was lost on link %s (loss %g%%, counting the access of %s "
			 "and %s)",
			 flow, f->link, f->loss * 100.0, node, f->peer);
		return 0;
	case LINK_DROP_CUT_IN_FLIGHT:
		snprintf(out, size, "%s never reached %s: link %s went down while it was in flight",
			 flow, f->peer, f->link);
		return 0;
	case LINK_DROP_ACCESS_CUT_IN_FLIGHT:
		snprintf(out, size,
			 "%s never reached %s: %s's access to link %s went down while it was in "
			 "flight",
			 flow, f->peer, f->cut_by, f->link);
		return 0;
	default:
		return link_sender_sentence(f, node, flow, out, size);
	}
}
