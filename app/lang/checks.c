/*
 * checks.c - the semantic checks run once the whole scenario is parsed: they
 * resolve names, report duplicates, forwarding and NAT cycles and clashing
 * addresses at the token that caused them, and sort the actions by time.
 */
#include "app/lang/scenario_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ checks */

static int loc_cmp(const struct scenario_loc *a, const struct scenario_loc *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

static int node_name_cmp(const void *va, const void *vb)
{
	const struct node_name *a = va, *b = vb;
	int c = strcmp(a->name, b->name);

	return c ? c : loc_cmp(&a->loc, &b->loc);
}

static const char *kind_word(int kind)
{
	switch (kind) {
	case KIND_HOST:
		return "host";
	case KIND_NAT:
		return "NAT";
	case KIND_COORD:
		return "coordinator";
	case KIND_ROUTER:
		return "router";
	case KIND_NAT | KIND_ROUTER:
		return "NAT or router";
	case KIND_HOST | KIND_NAT:
		return "host or NAT";
	}
	return "node";
}

static const char *kind_plural(int kind)
{
	switch (kind) {
	case KIND_HOST:
		return "hosts";
	case KIND_NAT:
		return "NATs";
	case KIND_NAT | KIND_ROUTER:
		return "NATs and routers";
	case KIND_HOST | KIND_NAT:
		return "hosts and NATs";
	}
	return "nodes";
}

static int build_names(struct checker *c)
{
	struct scenario *s = c->s;
	size_t n = s->n_hosts + s->n_nats + s->n_routers + (s->coordinator ? 1 : 0);

	c->names = malloc((n ? n : 1) * sizeof(*c->names));
	if (!c->names)
		return c->p->oom = true, -1;
	for (size_t i = 0; i < s->n_nats; i++)
		c->names[c->n++] =
		    (struct node_name){s->nats[i].name, KIND_NAT, s->nats[i].name_loc, i};
	for (size_t i = 0; i < s->n_hosts; i++)
		c->names[c->n++] =
		    (struct node_name){s->hosts[i].name, KIND_HOST, s->hosts[i].name_loc, i};
	for (size_t i = 0; i < s->n_routers; i++)
		c->names[c->n++] =
		    (struct node_name){s->routers[i].name, KIND_ROUTER, s->routers[i].name_loc, i};
	if (s->coordinator)
		c->names[c->n++] = (struct node_name){s->coordinator->name, KIND_COORD,
						      s->coordinator->name_loc, 0};
	qsort(c->names, c->n, sizeof(*c->names), node_name_cmp);
	return 0;
}

/* Names are unique across hosts, NATs and the coordinator. */
static void check_duplicates(struct checker *c)
{
	for (size_t i = 1, first = 0; i < c->n; i++) {
		if (strcmp(c->names[i].name, c->names[first].name) != 0) {
			first = i;
			continue;
		}
		err_loc(c->p, c->names[i].loc, "'%s' is already defined as a %s", c->names[i].name,
			kind_word(c->names[first].kind));
		note_loc(c->p, c->names[first].loc, "'%s' is first defined here",
			 c->names[first].name);
	}
}

/* The first definition of `name`, or NULL. */
const struct node_name *lookup(const struct checker *c, const char *name)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->names[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && strcmp(c->names[lo].name, name) == 0 ? &c->names[lo] : NULL;
}

static void report_unknown(struct checker *c, const struct scenario_ref *ref, int mask)
{
	const char **cands = calloc(c->n ? c->n : 1, sizeof(*cands));
	size_t n = 0;
	char list[200];

	if (!cands) {
		err_loc(c->p, ref->loc, "unknown %s '%s'", kind_word(mask), ref->name);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		if ((c->names[i].kind & mask) &&
		    (n == 0 || strcmp(cands[n - 1], c->names[i].name) != 0))
			cands[n++] = c->names[i].name;
	const char *best = diag_suggest(ref->name, cands, n);
	if (best) {
		err_loc(c->p, ref->loc, "unknown %s '%s'; did you mean '%s'?", kind_word(mask),
			ref->name, best);
	} else if (n == 0) {
		err_loc(c->p, ref->loc, "unknown %s '%s': the scenario defines no %s",
			kind_word(mask), ref->name, kind_plural(mask));
	} else if (n <= 8) {
		join_names(cands, n, list, sizeof(list));
		err_loc(c->p, ref->loc, "unknown %s '%s'; the %s are %s", kind_word(mask),
			ref->name, kind_plural(mask), list);
	} else {
		err_loc(c->p, ref->loc, "unknown %s '%s'", kind_word(mask), ref->name);
	}
	free(cands);
}

/* The definition `ref` names if it has a kind in `mask`; else reports and
 * returns NULL. An absent ref is NULL without a report. */
const struct node_name *resolve(struct checker *c, const struct scenario_ref *ref, int mask)
{
	if (!ref->name)
		return NULL;
	const struct node_name *nn = lookup(c, ref->name);
	if (nn && (nn->kind & mask))
		return nn;
	if (nn)
		err_loc(c->p, ref->loc, "'%s' is a %s, not a %s", ref->name, kind_word(nn->kind),
			kind_word(mask));
	else
		report_unknown(c, ref, mask);
	return NULL;
}

static void check_forwards(struct checker *c)
{
	struct scenario *s = c->s;

	for (size_t i = 0; i < s->n_forwards; i++) {
		const struct scenario_forward *f = &s->forwards[i];
		const struct node_name *nat = resolve(c, &f->nat, KIND_NAT);
		const struct node_name *host = resolve(c, &f->host, KIND_HOST);

		if (nat && host) {
			const struct scenario_host *h = &s->hosts[host->index];
			if (!h->behind.name || strcmp(h->behind.name, nat->name) != 0)
				err_loc(c->p, f->host.loc,
					"host '%s' is not behind NAT '%s', so "
					"'%s' cannot forward to it",
					h->name, nat->name, nat->name);
		}
		for (size_t j = 0; j < i; j++) {
			const struct scenario_forward *g = &s->forwards[j];
			if (g->port == f->port && g->proto == f->proto &&
			    strcmp(g->nat.name, f->nat.name) == 0) {
				err_loc(c->p, f->port_loc,
					"%s port %u of '%s' is already forwarded",
					f->proto == 6 ? "TCP" : "UDP", f->port, f->nat.name);
				note_loc(c->p, g->port_loc, "the first forward is here");
				break;
			}
		}
	}
}

static void check_links(struct checker *c)
{
	struct scenario *s = c->s;

	for (size_t i = 0; i < s->n_links; i++) {
		resolve(c, &s->links[i].node, KIND_ANY);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->links[j].node.name, s->links[i].node.name) == 0) {
				err_loc(c->p, s->links[i].node.loc,
					"the link of '%s' is already set", s->links[i].node.name);
				note_loc(c->p, s->links[j].node.loc, "it is first set here");
				break;
			}
		}
	}
}

static void check_not_same(struct checker *c, const struct scenario_ref *a,
			   const struct scenario_ref *b, const char *what)
{
	if (a->name && b->name && strcmp(a->name, b->name) == 0)
		err_loc(c->p, b->loc, "'%s' %s itself", a->name, what);
}

/* Background traffic goes to a server on the internet: a public host or
 * the coordinator, by name or address, which takes the datagrams in. To a
 * NAT, to a host behind one, or to an address nobody has, every datagram
 * would be dropped, one timeline line each. */
static void check_background_target(struct checker *c, const struct scenario_action *a)
{
	const struct scenario *s = c->s;
	const struct scenario_coordinator *co = s->coordinator;
	const struct node_name *nn = resolve(c, &a->dst.node, KIND_ANY);
	char ip[16];

	if (a->dst.is6) { /* an IPv6 literal: a host holding it takes the flows in */
		for (size_t i = 0; i < s->n_hosts; i++)
			if (s->hosts[i].has_ip6 && ip6_equal(&s->hosts[i].ip6, &a->dst.ip6))
				return;
		err_loc(c->p, a->dst.loc,
			"no host has this IPv6 address: background traffic needs a server to go "
			"to");
		return;
	}
	bool coord_ip = co && !a->dst.node.name &&
			(co->ip == a->dst.ip || (co->has_alternate && co->alt_ip == a->dst.ip));
	if ((coord_ip || (nn && nn->kind == KIND_COORD)) &&
	    (a->dst.port == co->port || (co->has_alternate && a->dst.port == co->alt_port))) {
		err_loc(c->p, a->dst.loc,
			"port %d is where the coordinator listens: it would refuse every datagram "
			"as a bad message, one timeline line each; send to another of its ports "
			"(e.g. %s:53)",
			a->dst.port, co->name);
		return;
	}
	if (a->dst.node.name) {
		if (nn && (nn->kind == KIND_COORD ||
			   (nn->kind == KIND_HOST && s->hosts[nn->index].is_public)))
			return;
		if (nn)
			err_loc(c->p, a->dst.loc,
				"background traffic goes to a public host or the coordinator, "
				"which take it in; '%s' is %s",
				a->dst.node.name, nn->kind == KIND_NAT ? "a NAT" : "behind a NAT");
		return;
	}
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].is_public && s->hosts[i].ip == a->dst.ip)
			return;
	if (coord_ip)
		return;
	format_ip(a->dst.ip, ip);
	err_loc(c->p, a->dst.loc,
		"no public host or coordinator has the address %s: background traffic needs a "
		"server to go to (e.g. 'host dns at %s public')",
		ip, ip);
}

static void check_action(struct checker *c, const struct scenario_action *a)
{
	switch (a->kind) {
	case SCENARIO_ACT_CONNECT:
	case SCENARIO_ACT_SEND:
		resolve(c, &a->peer, KIND_HOST);
		check_not_same(c, &a->host, &a->peer,
			       a->kind == SCENARIO_ACT_SEND ? "cannot send to"
							    : "cannot connect to");
		/* fall through */
	case SCENARIO_ACT_REGISTER:
	case SCENARIO_ACT_CLASSIFY:
	case SCENARIO_ACT_KEEPALIVE:
	case SCENARIO_ACT_SERVE:
		resolve(c, &a->host, KIND_HOST);
		break;
	case SCENARIO_ACT_RAW:
		resolve(c, &a->about_src.node, KIND_ANY);
		resolve(c, &a->about_dst.node, KIND_ANY);
		/* fall through */
	case SCENARIO_ACT_PING:
	case SCENARIO_ACT_TRACEROUTE:
	case SCENARIO_ACT_TCP:
		resolve(c, &a->host, KIND_HOST);
		resolve(c, &a->dst.node, KIND_ANY);
		break;
	case SCENARIO_ACT_BACKGROUND:
		resolve(c, &a->host, KIND_HOST);
		check_background_target(c, a);
		break;
	case SCENARIO_ACT_CUT_LINK:
	case SCENARIO_ACT_RESTORE_LINK:
		resolve(c, &a->target, KIND_ANY);
		break;
	case SCENARIO_ACT_REBOOT:
	case SCENARIO_ACT_SET:
		resolve(c, &a->target, KIND_NAT);
		break;
	default:
		break;
	}
}

static void check_expect(struct checker *c, const struct scenario_expect *e)
{
	switch (e->kind) {
	case SCENARIO_EXPECT_PATH:
		resolve(c, &e->host, KIND_HOST);
		resolve(c, &e->peer, KIND_HOST);
		check_not_same(c, &e->host, &e->peer, "cannot be connected to");
		break;
	case SCENARIO_EXPECT_DROP:
	case SCENARIO_EXPECT_NO_DROP:
		resolve(c, &e->node, KIND_ANY);
		resolve(c, &e->from.node, KIND_ANY);
		resolve(c, &e->to.node, KIND_ANY);
		break;
	case SCENARIO_EXPECT_MAPPING:
	case SCENARIO_EXPECT_NO_MAPPING:
		resolve(c, &e->node, KIND_NAT);
		resolve(c, &e->host, KIND_HOST);
		break;
	case SCENARIO_EXPECT_CLASSIFY:
	case SCENARIO_EXPECT_DATA:
		resolve(c, &e->host, KIND_HOST);
		resolve(c, &e->peer, KIND_HOST);
		break;
	case SCENARIO_EXPECT_ICMP:
	case SCENARIO_EXPECT_NO_ICMP:
		resolve(c, &e->host, KIND_HOST);
		resolve(c, &e->from.node, KIND_ANY);
		break;
	case SCENARIO_EXPECT_RELATED:
	case SCENARIO_EXPECT_CONNTRACK:
	case SCENARIO_EXPECT_NO_CONNTRACK:
		resolve(c, &e->node, KIND_ANY);
		break;
	case SCENARIO_EXPECT_TCP:
		resolve(c, &e->to.node, KIND_ANY);
		/* fall through */
	case SCENARIO_EXPECT_SOCKET:
	case SCENARIO_EXPECT_NO_SOCKET:
		resolve(c, &e->host, KIND_HOST);
		break;
	default:
		break;
	}
}

/* register, connect, send and classify talk to the coordinator. */
static void check_coordinator_needed(struct checker *c)
{
	if (c->s->coordinator)
		return;
	for (size_t i = 0; i < c->s->n_actions; i++) {
		const struct scenario_action *a = &c->s->actions[i];

		if (a->kind == SCENARIO_ACT_REGISTER || a->kind == SCENARIO_ACT_CONNECT ||
		    a->kind == SCENARIO_ACT_SEND || a->kind == SCENARIO_ACT_CLASSIFY) {
			err_loc(c->p, a->kind_loc,
				"'%s' needs a coordinator, but the scenario has "
				"none",
				action_names[a->kind]);
			note_loc(c->p, (struct scenario_loc){0},
				 "add one, e.g. 'coordinator coord at 192.0.2.1'");
			return;
		}
	}
}

/* An agent speaks one transport: `connect ... over tcp` makes both hosts'
 * agents TCP ones, which cannot also connect over UDP or classify (RFC 5780
 * discovery is UDP's). */
bool scenario_host_speaks_tcp(const struct scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		if (a->kind == SCENARIO_ACT_CONNECT && a->tcp && a->host.name && a->peer.name &&
		    (strcmp(a->host.name, name) == 0 || strcmp(a->peer.name, name) == 0))
			return true;
	}
	return false;
}

/* The host of a UDP-only action (`connect` without `over tcp`, `classify`)
 * whose agent speaks TCP, or NULL. */
static const char *tcp_host_in_udp_action(const struct scenario *s, const struct scenario_action *a)
{
	bool udp = (a->kind == SCENARIO_ACT_CONNECT && !a->tcp) || a->kind == SCENARIO_ACT_CLASSIFY;
	if (!udp || !a->host.name)
		return NULL;
	if (scenario_host_speaks_tcp(s, a->host.name))
		return a->host.name;
	if (a->kind == SCENARIO_ACT_CONNECT && a->peer.name &&
	    scenario_host_speaks_tcp(s, a->peer.name))
		return a->peer.name;
	return NULL;
}

/* A host's hard-NAT settings that would do nothing: budgets without a
 * technique, techniques on an agent that speaks TCP (they are UDP ones,
 * p2p/agent.h "Hard NATs"), port mapping with no NAT to ask. Warnings: the
 * run is still what the file says. */
static void check_hard_nat_settings(struct checker *c)
{
	for (size_t i = 0; i < c->s->n_hosts; i++) {
		const struct scenario_host *h = &c->s->hosts[i];
		bool budgets = h->probe_rate > 0 || h->probes > 0 || h->sockets > 0 ||
			       h->prediction_window > 0 || h->mapping_lifetime_ns > 0;
		if (h->techniques <= 0 && budgets)
			warn_loc(c->p, h->name_loc,
				 "host '%s' sets budgets for techniques it does not use; add "
				 "'techniques prediction' (or birthday, port-mapping, all)",
				 h->name);
		if (h->techniques > 0 && scenario_host_speaks_tcp(c->s, h->name))
			warn_loc(c->p, h->name_loc,
				 "host '%s' speaks TCP (a 'connect ... over tcp' names it): its "
				 "techniques are UDP ones and do nothing",
				 h->name);
		else if (h->techniques > 0 && (h->techniques & SCENARIO_TECH_PORT_MAPPING) &&
			 h->is_public)
			warn_loc(c->p, h->name_loc,
				 "host '%s' is public: no NAT of its own to ask for a mapping (its "
				 "requests meet the internet's router, which answers port "
				 "unreachable)",
				 h->name);
	}
}

static void check_transports(struct checker *c)
{
	for (size_t i = 0; i < c->s->n_actions; i++) {
		const struct scenario_action *a = &c->s->actions[i];
		const char *h = tcp_host_in_udp_action(c->s, a);
		if (h)
			err_loc(c->p, a->kind_loc,
				"'%s' speaks TCP (another 'connect ... over tcp' names it): it "
				"cannot %s over UDP too",
				h, a->kind == SCENARIO_ACT_CLASSIFY ? "classify" : "connect");
	}
}

/* The NAT a NAT sits behind, as an index, or -1 (internet or unknown). */
static long outer_nat(const struct checker *c, size_t i)
{
	const char *behind = c->s->nats[i].behind.name;
	const struct node_name *nn = behind ? lookup(c, behind) : NULL;

	return nn && nn->kind == KIND_NAT ? (long)nn->index : -1;
}

static void report_cycle(struct checker *c, const size_t *stack, size_t depth, size_t start)
{
	const struct scenario_nat *last = &c->s->nats[stack[depth - 1]];
	char path[256];
	size_t used = 0;

	if (depth - start == 1) {
		err_loc(c->p, last->behind.loc, "nat '%s' cannot be behind itself", last->name);
		return;
	}
	for (size_t k = start; k <= depth && used < sizeof(path); k++) {
		const char *name = c->s->nats[stack[k < depth ? k : start]].name;
		used += (size_t)snprintf(path + used, sizeof(path) - used, "%s'%s'",
					 k > start ? " -> " : "", name);
	}
	err_loc(c->p, last->behind.loc, "the NATs are behind each other in a cycle: %s", path);
}

/* 'behind' between NATs must form a tree: walk up from each NAT. */
static void check_cycles(struct checker *c)
{
	size_t n = c->s->n_nats;
	unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on the walk, 2 done */
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack));

	if (!state || !stack) {
		c->p->oom = true;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t depth = 0;
		long cur = (long)i;

		while (cur >= 0 && state[cur] == 0) {
			state[cur] = 1;
			stack[depth++] = (size_t)cur;
			cur = outer_nat(c, (size_t)cur);
		}
		if (cur >= 0 && state[cur] == 1) {
			size_t start = 0;
			while (stack[start] != (size_t)cur)
				start++;
			report_cycle(c, stack, depth, start);
		}
		for (size_t k = 0; k < depth; k++)
			state[stack[k]] = 2;
	}
out:
	free(state);
	free(stack);
}

/* An address in a network: -1 the internet, else the index of the NAT it is
 * behind. */
struct address {
	long net;
	uint32_t ip;
	struct scenario_loc loc;
	const char *owner;
	int kind;
};

static int address_cmp(const void *va, const void *vb)
{
	const struct address *a = va, *b = vb;

	if (a->net != b->net)
		return a->net < b->net ? -1 : 1;
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return loc_cmp(&a->loc, &b->loc);
}

/* The network a host or NAT lives in, or -2 if that is unknown. */
static long network_of(const struct checker *c, const struct scenario_ref *behind)
{
	if (!behind->name)
		return -1;
	const struct node_name *nn = lookup(c, behind->name);
	return nn && nn->kind == KIND_NAT ? (long)nn->index : -2;
}

static size_t collect_addresses(const struct checker *c, struct address *out)
{
	const struct scenario *s = c->s;
	size_t n = 0;

	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct scenario_host *h = &s->hosts[i];
		long net = network_of(c, &h->behind);
		if (h->ip_loc.line > 0 && net != -2 && (h->is_public || h->behind.name))
			out[n++] = (struct address){net, h->ip, h->ip_loc, h->name, KIND_HOST};
	}
	for (size_t i = 0; i < s->n_nats; i++) {
		const struct scenario_nat *nat = &s->nats[i];
		long net = network_of(c, &nat->behind);
		for (size_t k = 0; k < nat->n_public && net != -2; k++)
			out[n++] = (struct address){net, nat->public_ip[k], nat->public_loc[k],
						    nat->name, KIND_NAT};
	}
	const struct scenario_coordinator *co = s->coordinator;
	if (co && co->ip_loc.line > 0)
		out[n++] = (struct address){-1, co->ip, co->ip_loc, co->name, KIND_COORD};
	if (co && co->has_alternate && co->alt_loc.line > 0)
		out[n++] = (struct address){-1, co->alt_ip, co->alt_loc, co->name, KIND_COORD};
	return n;
}

/* Two nodes in one network must not share an address. Hosts behind
 * different NATs may (that is what private addresses are for). */
static void check_addresses(struct checker *c)
{
	const struct scenario *s = c->s;
	size_t max = s->n_hosts + s->n_nats * SCENARIO_MAX_PUBLIC + 2;
	struct address *a = malloc(max * sizeof(*a));
	char ip[16], where[96];

	if (!a) {
		c->p->oom = true;
		return;
	}
	size_t n = collect_addresses(c, a);
	qsort(a, n, sizeof(*a), address_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (a[i].net != a[first].net || a[i].ip != a[first].ip) {
			first = i;
			continue;
		}
		format_ip(a[i].ip, ip);
		if (a[i].net < 0)
			snprintf(where, sizeof(where), "on the internet");
		else
			snprintf(where, sizeof(where), "behind '%s'", s->nats[a[i].net].name);
		err_loc(c->p, a[i].loc, "address %s is already used by %s '%s' %s", ip,
			kind_word(a[first].kind), a[first].owner, where);
		note_loc(c->p, a[first].loc, "'%s' has %s here", a[first].owner, ip);
	}
	free(a);
}

static int action_cmp(const void *va, const void *vb)
{
	const struct scenario_action *a = va, *b = vb;

	if (a->at_ns != b->at_ns)
		return a->at_ns < b->at_ns ? -1 : 1;
	return loc_cmp(&a->loc, &b->loc); /* ties keep file order */
}

void check_scenario(struct parser *p)
{
	struct checker c = {.p = p, .s = p->s};
	struct scenario *s = p->s;

	if (build_names(&c) < 0)
		return;
	check_duplicates(&c);
	/* A host sits behind a NAT, or a router where the scenario has any (so
	 * IPv4 scenarios' messages speak of NATs alone). */
	int homes = KIND_NAT | (s->n_routers ? KIND_ROUTER : 0);
	for (size_t i = 0; i < s->n_nats; i++)
		resolve(&c, &s->nats[i].behind, KIND_NAT);
	for (size_t i = 0; i < s->n_hosts; i++)
		resolve(&c, &s->hosts[i].behind, homes);
	check_cycles(&c);
	check_addresses(&c);
	check_links(&c);
	check_forwards(&c);
	for (size_t i = 0; i < s->n_rules; i++)
		resolve(&c, &s->rules[i].node, KIND_ANY);
	for (size_t i = 0; i < s->n_policies; i++)
		resolve(&c, &s->policies[i].node, KIND_ANY);
	for (size_t i = 0; i < s->n_actions; i++)
		check_action(&c, &s->actions[i]);
	for (size_t i = 0; i < s->n_expects; i++)
		check_expect(&c, &s->expects[i]);
	check_coordinator_needed(&c);
	check_transports(&c);
	check_hard_nat_settings(&c);
	if (scenario_has_ipv6(s))
		check_ipv6(&c);
	free(c.names);
	if (s->n_actions > 1)
		qsort(s->actions, s->n_actions, sizeof(*s->actions), action_cmp);
}
