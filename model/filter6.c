/*
 * filter6.c - a node's IPv6 filter (model/filter6.h): the ip6 rule set
 * (model/firewall.c, firewall_filter6) in front of the IPv6 connection
 * tracking table (model/conntrack6.h), in Linux's order: conntrack places
 * the packet (nf_conntrack_in, PREROUTING or OUTPUT), the filter table's
 * chain decides, and an accepted packet is counted on its entry, a NEW one
 * confirmed into a new entry (nf_conntrack_confirm, POSTROUTING or INPUT).
 *
 * RFC 6092 mode (filter6_make_rfc6092) is a rule set plus two things no
 * rule expresses: the UDP idle timeouts REC-14 asks for, and filtering
 * wider than conntrack's five-tuple (address-dependent, endpoint-
 * independent), which admits a NEW inbound packet the rules refuse when its
 * inside endpoint has an outbound flow (fw_verdict.admitted says which).
 *
 * RFC 6092's REC numbers below were checked against the text of its
 * section 3 (3.1 REC-1..9, 3.2.1 REC-10, 3.2.2 REC-11..13, 3.2.3
 * REC-14..20, 3.3.1 REC-31..37 for TCP): docs/ipv6.md, "RFC 6092, what is
 * implemented". TCP is conntrack's (REC-31, REC-32, REC-36, REC-37);
 * REC-34's ICMPv6 answer to an unsolicited SYN after 6 s is not modelled
 * (the SYN is dropped, or rejected at once): docs/ipv6.md, "Known
 * differences".
 */
#include "model/filter6.h"

#include <stdlib.h>
#include <string.h>

#include "model/conntrack6.h"

struct filter6 {
	struct firewall *fw;
	struct conntrack6 *ct;
	/* RFC 6092 mode's wider filtering: the inside prefix and the
	 * behaviour (NAT_ADDRESS_AND_PORT_DEPENDENT: conntrack's own). */
	bool widened;
	struct ip6_addr inside;
	uint8_t inside_len;
	enum nat_behaviour filtering;
	struct fw_admission admission; /* what fw_verdict.admitted points at */
};

struct filter6 *filter6_new(struct engine *e, const char *node_name)
{
	struct filter6 *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->fw = firewall_new(node_name);
	f->ct = conntrack6_new(e, node_name, NULL);
	if (f->fw == NULL || f->ct == NULL) {
		filter6_free(f);
		return NULL;
	}
	f->filtering = NAT_ADDRESS_AND_PORT_DEPENDENT;
	return f;
}

void filter6_free(struct filter6 *f)
{
	if (f == NULL)
		return;
	firewall_free(f->fw);
	conntrack6_free(f->ct);
	free(f);
}

struct firewall *filter6_firewall(struct filter6 *f)
{
	return f->fw;
}

struct conntrack6 *filter6_conntrack(struct filter6 *f)
{
	return f->ct;
}

/* The outbound flow that admits `info` under the filter's wider filtering:
 * an entry started from the inside endpoint the packet is addressed to
 * (its original source), going to the packet's source address
 * (address-dependent) or anywhere (endpoint-independent). RFC 4787 REQ-8's
 * terms, which RFC 6092 3.2.2 defines again and REC-17 (UDP) and REC-33
 * (TCP, 3.3.1) use. */
struct admit_search {
	const struct packet6_info *info;
	enum nat_behaviour filtering;
	const struct conntrack6_entry *found;
};

static bool admits(const struct conntrack6_entry *e, void *ctx)
{
	struct admit_search *s = ctx;
	const struct conntrack6_tuple *o = &e->orig;

	if (o->proto != s->info->next_header || o->sport != s->info->dport ||
	    memcmp(&o->src, &s->info->dst, sizeof(o->src)) != 0)
		return true;
	if (s->filtering == NAT_ADDRESS_DEPENDENT &&
	    memcmp(&o->dst, &s->info->src, sizeof(o->dst)) != 0)
		return true;
	s->found = e;
	return false;
}

/* What wider filtering may let in: a UDP datagram (RFC 6092 REC-17) or a
 * TCP SYN, a connection's first segment (REC-33, the same words for TCP);
 * not an ICMPv6 query, nor a TCP segment conntrack picked up mid-stream. */
static bool filter6_may_admit(const struct packet6_info *info)
{
	if (info->next_header == IPPROTO_NUM_TCP)
		return (info->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	return info->next_header == IPPROTO_NUM_UDP;
}

/* RFC 6092 mode: a NEW UDP datagram or TCP SYN forwarded to the inside that the rules
 * refused, let in by an outbound flow of its inside endpoint. */
static bool filter6_admit(struct filter6 *f, enum fw_chain chain, const struct packet6_info *info,
			  struct fw_verdict *out)
{
	struct admit_search s = {.info = info, .filtering = f->filtering};
	const struct conntrack6_entry *e;

	if (!f->widened || f->filtering == NAT_ADDRESS_AND_PORT_DEPENDENT ||
	    chain != FW_CHAIN_FORWARD || out->state != CONNTRACK_NEW || out->action == FW_ACCEPT ||
	    !filter6_may_admit(info) || !ip6_prefix_match(&f->inside, f->inside_len, &info->dst) ||
	    ip6_prefix_match(&f->inside, f->inside_len, &info->src))
		return false;
	conntrack6_foreach(f->ct, admits, &s);
	if ((e = s.found) == NULL)
		return false;
	/* The refusing rule did not decide after all: uncount it (it is the
	 * firewall's own, writable, rule). */
	if (out->reason == FW_REASON_RULE)
		((struct fw_rule *)out->matched)->hits--;
	f->admission = (struct fw_admission){
	    .filtering = (uint8_t)f->filtering,
	    .flow_id = e->id,
	    .proto = e->orig.proto,
	    .inside = {.ip = e->orig.src, .port = e->orig.sport},
	    .remote = {.ip = e->orig.dst, .port = e->orig.dport},
	};
	*out = (struct fw_verdict){.action = FW_ACCEPT,
				   .reason = FW_REASON_ADMITTED,
				   .chain = chain,
				   .rule = -1,
				   .state = CONNTRACK_NEW,
				   .admitted = &f->admission};
	return true;
}

/* A TCP segment on its entry (conntrack6_seen_tcp). One that makes no
 * entry after all (the machine refused it as the entry's first: nothing
 * was told) leaves none behind; a reopening SYN that still meets REOPEN
 * is tracked again on a new entry, as model/host.c host_track does. */
static void filter6_track_tcp(struct filter6 *f, const struct packet6_info *info, size_t len,
			      struct conntrack6_entry *entry, enum conntrack_dir dir)
{
	struct conntrack6_tuple t;
	bool fresh = entry->packets[0] + entry->packets[1] == 0;
	enum conntrack_tcp_verdict v = conntrack6_seen_tcp(f->ct, entry, dir, info, len);

	if (v == CONNTRACK_TCP_INVALID && fresh) {
		conntrack6_destroy(f->ct, entry, "refused by conntrack");
		return;
	}
	if (v != CONNTRACK_TCP_REOPEN)
		return;
	conntrack6_tuple_of(info, &t);
	entry = conntrack6_confirm(f->ct, &t);
	if (entry != NULL)
		filter6_track_tcp(f, info, len, entry, CONNTRACK_DIR_ORIGINAL);
}

/* A packet on its entry: counted and timed, a NEW one confirmed first.
 * RELATED errors neither count nor refresh (nf_conntrack_inet_error sets
 * the skb's entry only); INVALID and UNTRACKED have none. A full table (or
 * no memory) lets the packet pass untracked here, where Linux drops it
 * ("nf_conntrack: table full"): no IPv6 scenario comes near 65536 flows. */
static void filter6_track(struct filter6 *f, const struct packet6_info *info, size_t len,
			  enum conntrack_state state, struct conntrack6_entry *entry,
			  enum conntrack_dir dir)
{
	struct conntrack6_tuple t;

	if (state == CONNTRACK_NEW && entry == NULL) {
		conntrack6_tuple_of(info, &t);
		entry = conntrack6_confirm(f->ct, &t);
		dir = CONNTRACK_DIR_ORIGINAL;
	}
	if (entry == NULL || (state != CONNTRACK_NEW && state != CONNTRACK_ESTABLISHED))
		return;
	if (info->next_header == IPPROTO_NUM_TCP)
		filter6_track_tcp(f, info, len, entry, dir);
	else
		conntrack6_seen(f->ct, entry, dir, len);
}

/* Linux loads conntrack into a network namespace when its rule set first
 * asks for a state (nft's `ct state`, iptables' -m state): a node whose ip6
 * rules ask for none tracks nothing and records nothing, as an IPv4 node
 * without a stateful firewall. */
static bool filter6_tracks(const struct filter6 *f)
{
	if (f->widened)
		return true;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		for (size_t i = 0; i < firewall_rule_count(f->fw, (enum fw_chain)c); i++)
			if (firewall_rule(f->fw, (enum fw_chain)c, i)->states != FW_STATE_ANY)
				return true;
	return false;
}

/* What an empty filter decides (every policy ACCEPT, no rules, no
 * conntrack): for a node whose filter nobody has asked for. */
static bool filter6_accept_untracked(enum fw_chain chain, struct fw_verdict *out)
{
	*out = (struct fw_verdict){.action = FW_ACCEPT,
				   .reason = FW_REASON_POLICY,
				   .chain = chain,
				   .rule = -1,
				   .state = CONNTRACK_NEW};
	return true;
}

/* The packet's conntrack state. A SYN reopening a closed TCP flow: the
 * old entry goes and the segment is looked up again (nf_conntrack_in's
 * NF_REPEAT), so the rules see it NEW, as model/host.c and model/router.c
 * do for IPv4. */
static enum conntrack_state filter6_classify(struct filter6 *f, const struct packet6_info *info,
					     struct conntrack6_entry **entry,
					     enum conntrack_dir *dir)
{
	enum conntrack_state state = conntrack6_classify(f->ct, info, entry, dir);

	if (*entry == NULL || !conntrack6_tcp_reopens(*entry, *dir, info))
		return state;
	conntrack6_destroy(f->ct, *entry, "reopened by a new SYN");
	return conntrack6_classify(f->ct, info, entry, dir);
}

bool filter6_packet(struct filter6 *f, enum fw_chain chain, const struct packet6_info *info,
		    size_t len, struct fw_verdict *out)
{
	struct conntrack6_entry *entry = NULL;
	enum conntrack_dir dir = CONNTRACK_DIR_ORIGINAL;
	enum conntrack_state state;

	if (f == NULL) /* nobody has asked for a filter: nothing to decide */
		return filter6_accept_untracked(chain, out);

	if (!filter6_tracks(f)) { /* no conntrack: every packet is new to the rules */
		firewall_filter6(f->fw, chain, info, CONNTRACK_NEW, out);
		return out->action == FW_ACCEPT;
	}
	state = filter6_classify(f, info, &entry, &dir);
	firewall_filter6(f->fw, chain, info, state, out);
	if (state == CONNTRACK_INVALID)
		out->invalid = conntrack6_tcp_invalid_cause(entry, info);
	filter6_admit(f, chain, info, out);
	if (out->action == FW_ACCEPT)
		filter6_track(f, info, len, state, entry, dir);
	/* nf_conntrack_in ran before the filter table: a tracked TCP flow's
	 * state moves even when the rules drop the segment (an entry that
	 * exists; a NEW flow dropped is never confirmed). */
	else if (entry != NULL && info->next_header == IPPROTO_NUM_TCP &&
		 (state == CONNTRACK_NEW || state == CONNTRACK_ESTABLISHED))
		filter6_track_tcp(f, info, len, entry, dir);
	return out->action == FW_ACCEPT;
}

/* RFC 6092 REC-14 (section 3.2.3): a UDP state record whose ports are both
 * outside 0-1023 MUST NOT expire in less than two minutes of idle time, and
 * five minutes is the default. Linux's conntrack gives an unanswered flow 30 s
 * (nf_conntrack_udp_timeout) and a stream 120 s: an nftables firewall left
 * at those defaults closes a hole nobody has answered yet after 30 s, which
 * REC-14 forbids. This mode uses the RFC's default for both; REC-15's
 * shorter timeouts (MAY) for well-known ports are not modelled. */
static void filter6_rfc6092_timeouts(struct filter6 *f)
{
	struct conntrack_config cfg = *conntrack6_config(f->ct);

	cfg.udp_timeout = SIM_S(300);
	cfg.udp_timeout_stream = SIM_S(300);
	conntrack6_set_config(f->ct, &cfg);
}

int filter6_make_rfc6092(struct filter6 *f, const struct ip6_addr *inside, uint8_t len,
			 enum nat_behaviour filtering, bool reject)
{
	/* RFC 6092 3.2: what the inside starts and what belongs to it passes
	 * (REC-16: outbound packets MUST refresh a UDP record, inbound ones
	 * MAY, and do here as in conntrack); ICMPv6 errors about a tracked
	 * flow are RELATED and pass (REC-18 for UDP), others are dropped
	 * (REC-10); INVALID is dropped; outbound means from the inside prefix
	 * (spoofed sources are not forwarded out: RFC 6092 3.1 REC-5, BCP 38). */
	const struct fw_rule rules[] = {
	    {.chain = FW_CHAIN_FORWARD,
	     .family = 6,
	     .states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED,
	     .action = FW_ACCEPT,
	     .comment = "flows the inside started (RFC 6092)"},
	    {.chain = FW_CHAIN_FORWARD,
	     .family = 6,
	     .states = CONNTRACK_INVALID,
	     .action = FW_DROP,
	     .comment = "conntrack cannot place it"},
	    {.chain = FW_CHAIN_FORWARD,
	     .family = 6,
	     .src6 = *inside,
	     .src_len = len,
	     .action = FW_ACCEPT,
	     .comment = "outbound from the inside"},
	    {.chain = FW_CHAIN_FORWARD,
	     .family = 6,
	     .action = FW_REJECT,
	     .reject_with = FW_REJECT_ADMIN_PROHIBITED,
	     .comment = "unsolicited inbound"},
	};
	size_t n = sizeof(rules) / sizeof(rules[0]) - (reject ? 0 : 1);

	/* Policy first: a failed append leaves the firewall closed. */
	firewall_clear(f->fw);
	firewall_set_policy(f->fw, FW_CHAIN_FORWARD, FW_DROP);
	f->widened = true;
	f->inside = *inside;
	f->inside_len = len;
	f->filtering = filtering;
	filter6_rfc6092_timeouts(f);
	for (size_t i = 0; i < n; i++)
		if (firewall_append(f->fw, &rules[i]) < 0) {
			firewall_clear(f->fw);
			return -1;
		}
	return 0;
}

int filter6_make_stateful_host(struct filter6 *f)
{
	/* As firewall_make_stateful_host: RELATED with ESTABLISHED, or the
	 * ICMPv6 errors about the host's own flows (port unreachable, packet
	 * too big) would never reach it. */
	const struct fw_rule established = {
	    .chain = FW_CHAIN_INPUT,
	    .family = 6,
	    .states = CONNTRACK_ESTABLISHED | CONNTRACK_RELATED,
	    .action = FW_ACCEPT,
	    .comment = "replies to flows this host started",
	};

	firewall_clear(f->fw);
	firewall_set_policy(f->fw, FW_CHAIN_INPUT, FW_DROP);
	firewall_set_policy(f->fw, FW_CHAIN_OUTPUT, FW_ACCEPT);
	firewall_set_policy(f->fw, FW_CHAIN_FORWARD, FW_ACCEPT);
	f->widened = false;
	return firewall_append(f->fw, &established) < 0 ? -1 : 0;
}
