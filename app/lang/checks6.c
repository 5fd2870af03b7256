/*
 * checks6.c - what IPv6 asks of a scenario, once it is parsed (checks.c
 * has resolved the names): a host's IPv6 address lies in the prefix of the
 * home it sits behind, a home with IPv6 hands its prefix to its inside and
 * routes it from the internet, no two nodes share an IPv6 address, and
 * what is IPv4 by nature (the agent, port forwards, the IPv4 firewall) is
 * not asked of a node without IPv4. Run only when the scenario has IPv6, so
 * IPv4 scenarios are checked exactly as before.
 */
#include "app/lang/scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool rules_or_actions_have_ipv6(const struct scenario *s)
{
	for (size_t i = 0; i < s->n_rules; i++)
		if (s->rules[i].family == 6)
			return true;
	for (size_t i = 0; i < s->n_actions; i++)
		if (s->actions[i].dst.is6 || s->actions[i].about_src.is6 ||
		    s->actions[i].about_dst.is6)
			return true;
	for (size_t i = 0; i < s->n_expects; i++)
		if (s->expects[i].from.is6 || s->expects[i].to.is6)
			return true;
	return false;
}

static void check_needs_ipv4(struct checker *c, const struct scenario_ref *ref, const char *what);

/* Expectations match IPv4 endpoints (the runner compares IPv4 addresses);
 * an IPv6 one would never match, and an expectation must be able to hold. */
static void check_expect_endpoints(struct checker *c)
{
	const struct scenario *s = c->s;
	for (size_t i = 0; i < s->n_expects; i++) {
		const struct scenario_expect *e = &s->expects[i];
		const struct scenario_endpoint *ep = e->from.is6 ? &e->from : &e->to;
		if (e->kind == SCENARIO_EXPECT_TCP) /* a connection of either family */
			continue;
		if (ep->is6)
			err_loc(c->p, ep->loc,
				"an expectation about an IPv6 endpoint is not modelled yet: expect "
				"without 'from'/'to'");
		check_needs_ipv4(c, &e->from.node, "an expectation's endpoint is");
		check_needs_ipv4(c, &e->to.node, "an expectation's endpoint is");
	}
}

bool scenario_has_ipv6(const struct scenario *s)
{
	if (s->n_routers || (s->coordinator && s->coordinator->has_ip6))
		return true;
	for (size_t i = 0; i < s->n_nats; i++)
		if (s->nats[i].v6.present)
			return true;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].has_ip6)
			return true;
	return rules_or_actions_have_ipv6(s);
}

/* The IPv6 side of the home `name` (a NAT or a router), or NULL. */
static const struct scenario_v6side *home_v6(const struct checker *c, const char *name,
					     bool *is_router)
{
	const struct node_name *nn = name ? lookup(c, name) : NULL;

	*is_router = nn && nn->kind == KIND_ROUTER;
	if (!nn || !(nn->kind & (KIND_NAT | KIND_ROUTER)))
		return NULL;
	return *is_router ? &c->s->routers[nn->index].v6 : &c->s->nats[nn->index].v6;
}

/* A host's families against the home it sits behind. */
static void check_host_home(struct checker *c, const struct scenario_host *h)
{
	char buf[48], pre[48];
	bool router;
	const struct scenario_v6side *v = home_v6(c, h->behind.name, &router);

	if (!h->behind.name || !lookup(c, h->behind.name))
		return;
	if (router && scenario_host_has_ipv4(h))
		err_loc(c->p, h->ip_loc,
			"'%s' is an IPv6-only router (no IPv4, no NAT), so a host behind it has "
			"an IPv6 address alone",
			h->behind.name);
	if (!h->has_ip6)
		return;
	if (!v || !v->present) {
		err_loc(c->p, h->ip6_loc,
			"'%s' has no IPv6 side, so nothing behind it has IPv6: give it one with "
			"'ipv6 2001:db8:1::/64'",
			h->behind.name);
		return;
	}
	if (!ip6_prefix_match(&v->prefix, v->prefix_len, &h->ip6)) {
		err_loc(c->p, h->ip6_loc, "%s is not in %s/%u, the prefix of '%s' it sits behind",
			ip6_format(&h->ip6, buf, sizeof(buf)),
			ip6_format(&v->prefix, pre, sizeof(pre)), v->prefix_len, h->behind.name);
		note_loc(c->p, v->loc, "the prefix of '%s' is here", h->behind.name);
	}
}

/* A home router's IPv6 side needs the internet to route its prefix to it,
 * so it sits on the internet (an ISP's CGNAT with IPv6 behind it is not
 * modelled), and two homes' prefixes must not overlap. */
static void check_homes(struct checker *c)
{
	const struct scenario *s = c->s;
	for (size_t i = 0; i < s->n_nats; i++)
		if (s->nats[i].v6.present && s->nats[i].behind.name)
			err_loc(c->p, s->nats[i].v6.loc,
				"an IPv6 prefix for a NAT behind another NAT is not modelled: the "
				"internet routes a home's prefix to a router on it");
	size_t n = s->n_nats + s->n_routers;
	for (size_t i = 0; i < n; i++) {
		const struct scenario_v6side *a =
		    i < s->n_nats ? &s->nats[i].v6 : &s->routers[i - s->n_nats].v6;
		for (size_t j = 0; j < i && a->present; j++) {
			const struct scenario_v6side *b =
			    j < s->n_nats ? &s->nats[j].v6 : &s->routers[j - s->n_nats].v6;
			uint8_t len = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;
			if (b->present && ip6_prefix_match(&b->prefix, len, &a->prefix) &&
			    ip6_prefix_match(&a->prefix, len, &b->prefix)) {
				err_loc(c->p, a->loc,
					"this prefix overlaps another home's: the internet could "
					"not tell which home an address is in");
				note_loc(c->p, b->loc, "the other prefix is here");
			}
		}
	}
}

struct addr6_use {
	const struct ip6_addr *a;
	struct scenario_loc loc;
	const char *owner;
};

static int addr6_cmp(const void *va, const void *vb)
{
	const struct addr6_use *a = va, *b = vb;
	int r = ip6_compare(a->a, b->a);

	if (r)
		return r;
	return a->loc.line != b->loc.line ? (a->loc.line < b->loc.line ? -1 : 1)
					  : (a->loc.col > b->loc.col) - (a->loc.col < b->loc.col);
}

/* IPv6 addresses are global: no two nodes anywhere may share one. */
static void check_addresses6(struct checker *c)
{
	const struct scenario *s = c->s;
	struct addr6_use *u = malloc((s->n_hosts + 2) * sizeof(*u));
	size_t n = 0;
	char buf[48];

	if (!u) {
		c->p->oom = true;
		return;
	}
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].has_ip6)
			u[n++] = (struct addr6_use){&s->hosts[i].ip6, s->hosts[i].ip6_loc,
						    s->hosts[i].name};
	const struct scenario_coordinator *co = s->coordinator;
	if (co && co->has_ip6) {
		u[n++] = (struct addr6_use){&co->ip6, co->ip6_loc, co->name};
		if (co->has_alternate)
			u[n++] = (struct addr6_use){&co->alt_ip6, co->alt6_loc, co->name};
	}
	qsort(u, n, sizeof(*u), addr6_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (!ip6_equal(u[i].a, u[first].a)) {
			first = i;
			continue;
		}
		err_loc(c->p, u[i].loc, "address %s is already used by '%s'",
			ip6_format(u[i].a, buf, sizeof(buf)), u[first].owner);
		note_loc(c->p, u[first].loc, "'%s' has %s here", u[first].owner, buf);
	}
	free(u);
}

/* The host an agent action or a forward names, if it has no IPv4 address:
 * the agent and the NAT speak IPv4 only (docs/ipv6.md step 6). */
static void check_needs_ipv4(struct checker *c, const struct scenario_ref *ref, const char *what)
{
	const struct node_name *nn = ref->name ? lookup(c, ref->name) : NULL;

	if (nn && nn->kind == KIND_HOST && !scenario_host_has_ipv4(&c->s->hosts[nn->index]))
		err_loc(c->p, ref->loc,
			"host '%s' has no IPv4 address, and %s IPv4 only for now (the agent's "
			"IPv6 is docs/ipv6.md step 6)",
			ref->name, what);
}

/* An agent action of an IPv6-only host: its agent needs the coordinator
 * over IPv6 (an IPv6 address, or a NAT64 home's synthesized one). */
static void check_agent6(struct checker *c, const struct scenario_ref *ref)
{
	const struct node_name *nn = ref->name ? lookup(c, ref->name) : NULL;
	const struct scenario_host *h =
	    nn && nn->kind == KIND_HOST ? &c->s->hosts[nn->index] : NULL;

	if (!h || scenario_host_has_ipv4(h) || scenario_host_has_agent6(c->s, h))
		return;
	err_loc(c->p, ref->loc,
		"host '%s' has no IPv4 address, and its agent reaches the coordinator over "
		"IPv6 only if the coordinator has an IPv6 address or the host sits behind a "
		"router with 'nat64'",
		ref->name);
}

/* Whether the node `name` has an address of each family. */
static void node_families(const struct checker *c, const char *name, bool *v4, bool *v6)
{
	const struct node_name *nn = lookup(c, name);
	const struct scenario *s = c->s;

	*v4 = nn && nn->kind != KIND_ROUTER &&
	      (nn->kind != KIND_HOST || scenario_host_has_ipv4(&s->hosts[nn->index]));
	*v6 = nn && ((nn->kind == KIND_HOST && s->hosts[nn->index].has_ip6) ||
		     (nn->kind == KIND_COORD && s->coordinator->has_ip6));
}

/* A raw action's packet in words, and (in *send) what its host sends. */
static const char *raw_what(const struct scenario_action *a, const char **send)
{
	*send = a->icmp ? "send ICMPv6" : a->tcp ? "send TCP" : "send UDP";
	return a->icmp ? "raw ICMP message" : a->tcp ? "raw TCP segment" : "raw datagram";
}

/* A ping (and a traceroute) goes over IPv6 to an IPv6 literal, or to a name when both ends
 * have IPv6 (RFC 6724's order, runner.c), else over IPv4: the ends need
 * the family it goes over. */
static void check_ping_families(struct checker *c, const struct scenario_action *a)
{
	bool h4, h6, t4 = false, t6 = false;

	node_families(c, a->host.name, &h4, &h6);
	if (a->dst.node.name)
		node_families(c, a->dst.node.name, &t4, &t6);
	bool raw = a->kind == SCENARIO_ACT_RAW, bg = a->kind == SCENARIO_ACT_BACKGROUND;
	const char *send = "send UDP";
	const char *what = raw				 ? raw_what(a, &send)
			   : bg				 ? "background flow"
			   : a->kind == SCENARIO_ACT_TCP ? "TCP connection"
							 : scenario_action_kind_name(a->kind);
	if (a->dst.is6 && !h6)
		err_loc(c->p, a->host.loc, "host '%s' has no IPv6 address to %s from", a->host.name,
			raw || bg		      ? send
			: a->kind == SCENARIO_ACT_TCP ? "connect"
						      : what);
	else if (!a->dst.is6 && !(h6 && t6) && (!h4 || (a->dst.node.name && !t4)))
		err_loc(c->p, a->dst.loc,
			"'%s' and '%s' share no address family: a %s goes over IPv4 or IPv6, "
			"and needs an address of that family at both ends",
			a->host.name, a->dst.node.name ? a->dst.node.name : "this address", what);
}

/* A background flow over IPv6 (to an IPv6 address, or to a name both
 * ends have IPv6 for) carries at most 1452 bytes a datagram: a 1500-byte
 * packet less IPv6's 40-byte header and UDP's 8 (IPv4's limit is 1472). */
static void check_background_size6(struct checker *c, const struct scenario_action *a)
{
	bool h4, h6, t4 = false, t6 = false;

	node_families(c, a->host.name, &h4, &h6);
	if (a->dst.node.name)
		node_families(c, a->dst.node.name, &t4, &t6);
	if ((a->dst.is6 || (h6 && t6)) && a->size > 1452)
		err_loc(c->p, a->dst.loc,
			"a background datagram over IPv6 holds at most 1452 bytes (a 1500-byte "
			"packet less the 40-byte IPv6 header and the 8-byte UDP header), not %d",
			a->size);
}

/* A raw ICMP error `about` a datagram quotes a header of its own family:
 * over IPv6 each end needs an IPv6 address (a literal, or a node that has
 * one), over IPv4 an IPv6 literal cannot be quoted. */
static void check_about_family(struct checker *c, const struct scenario_endpoint *e, bool over6)
{
	bool v4, v6 = e->is6;

	if (!over6 && e->is6)
		err_loc(c->p, e->loc,
			"a raw ICMP error to an IPv4 target quotes an IPv4 datagram, not this "
			"IPv6 address");
	if (!over6)
		return;
	if (!v6 && e->node.name)
		node_families(c, e->node.name, &v4, &v6);
	if (!v6)
		err_loc(c->p, e->loc,
			"a raw ICMPv6 error quotes an IPv6 datagram: '%s' has no IPv6 address",
			e->node.name ? e->node.name : "this address");
}

/* A raw UDP datagram, ICMP message or TCP segment picks its family as ping
 * does; one to a name without IPv6 at both ends goes over IPv4, checked as
 * before (a router's name stands for its NAT64 pool address, runner.c
 * endpoint_ip). */
static void check_raw_families(struct checker *c, const struct scenario_action *a)
{
	bool h4, h6, t4 = false, t6 = false;

	node_families(c, a->host.name, &h4, &h6);
	if (a->dst.node.name)
		node_families(c, a->dst.node.name, &t4, &t6);
	if (a->dst.is6)
		check_ping_families(c, a);
	else if (!(h6 && t6))
		check_needs_ipv4(c, &a->host, "this action speaks");
	if (a->icmp && a->has_about) {
		check_about_family(c, &a->about_src, a->dst.is6 || (h6 && t6));
		check_about_family(c, &a->about_dst, a->dst.is6 || (h6 && t6));
	}
}

static void check_agent_actions(struct checker *c)
{
	const struct scenario *s = c->s;
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		switch (a->kind) {
		case SCENARIO_ACT_CONNECT:
		case SCENARIO_ACT_SEND:
			if (a->tcp) { /* the agent over TCP stays IPv4 (docs/ipv6.md step 6) */
				check_needs_ipv4(c, &a->host, "the agent over TCP speaks");
				check_needs_ipv4(c, &a->peer, "the agent over TCP speaks");
			}
			check_agent6(c, &a->peer);
			/* fall through */
		case SCENARIO_ACT_REGISTER:
		case SCENARIO_ACT_KEEPALIVE:
			check_agent6(c, &a->host);
			break;
		case SCENARIO_ACT_CLASSIFY: /* RFC 5780 discovery stays IPv4 (p2p/) */
			check_needs_ipv4(c, &a->host, "NAT behaviour discovery speaks");
			break;
		case SCENARIO_ACT_RAW:
			check_raw_families(c, a);
			break;
		case SCENARIO_ACT_PING:
		case SCENARIO_ACT_TRACEROUTE: /* picks its family as ping does */
			check_ping_families(c, a);
			break;
		case SCENARIO_ACT_BACKGROUND: /* UDP flows: as a raw datagram */
			check_raw_families(c, a);
			check_background_size6(c, a);
			break;
		case SCENARIO_ACT_TCP: /* picks its family as ping does */
			check_ping_families(c, a);
			break;
		case SCENARIO_ACT_SERVE: /* listens on each family the host has */
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < s->n_forwards; i++)
		check_needs_ipv4(c, &s->forwards[i].host, "a forward (a NAT's) is");
}

/* An ip6 rule goes where there is IPv6 to filter; an IPv4 rule (or a
 * policy: iptables') where there is IPv4. */
static void check_rule_families(struct checker *c)
{
	const struct scenario *s = c->s;
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct scenario_rule *r = &s->rules[i];
		const struct node_name *nn = lookup(c, r->node.name);
		if (!nn)
			continue;
		bool has4 = nn->kind != KIND_ROUTER &&
			    (nn->kind != KIND_HOST || scenario_host_has_ipv4(&s->hosts[nn->index]));
		bool has6 = nn->kind == KIND_ROUTER ||
			    (nn->kind == KIND_NAT && s->nats[nn->index].v6.present) ||
			    (nn->kind == KIND_HOST && s->hosts[nn->index].has_ip6) ||
			    (nn->kind == KIND_COORD && s->coordinator->has_ip6);
		if (r->family == 6 && !has6)
			err_loc(c->p, r->node.loc,
				"this is an ip6 rule, and '%s' has no IPv6 to filter",
				r->node.name);
		else if (r->family != 6 && !has4)
			err_loc(c->p, r->node.loc,
				"'%s' has no IPv4, so this IPv4 rule would filter nothing: write "
				"'ip6' in it for its IPv6 firewall",
				r->node.name);
	}
	for (size_t i = 0; i < s->n_policies; i++) {
		const struct node_name *nn = lookup(c, s->policies[i].node.name);
		if (nn &&
		    (nn->kind == KIND_ROUTER ||
		     (nn->kind == KIND_HOST && !scenario_host_has_ipv4(&s->hosts[nn->index]))))
			err_loc(c->p, s->policies[i].node.loc,
				"a policy sets the IPv4 firewall's, and '%s' has no IPv4; its IPv6 "
				"firewall is set with 'firewall6' and ip6 rules",
				s->policies[i].node.name);
	}
}

void check_ipv6(struct checker *c)
{
	const struct scenario *s = c->s;
	for (size_t i = 0; i < s->n_hosts; i++)
		check_host_home(c, &s->hosts[i]);
	check_homes(c);
	check_addresses6(c);
	check_agent_actions(c);
	check_rule_families(c);
	check_expect_endpoints(c);
}
