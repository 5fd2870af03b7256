/*
 * world6.c - the IPv6 half of world_build: addresses, routes, gateways and
 * IPv6 firewalls of a dual-stack or IPv6-only world (docs/ipv6.md step 5).
 * world.c builds every IPv4 world exactly as before and calls in here only
 * for what a scenario says about IPv6; the addressing scheme is in world.h.
 */
#include "app/world/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/filter6.h"
#include "model/router_xlat.h"

/* The internet's side of transit link k is 3fff:0:k::1, a home's wan
 * 3fff:0:k::2 (RFC 9637 reserves 3fff::/20 for documentation). */
static struct ip6_addr transit6(unsigned k, uint8_t last)
{
	struct ip6_addr a = {.b = {0x3f, 0xff, 0, 0, (uint8_t)(k >> 8), (uint8_t)k}};

	a.b[15] = last;
	return a;
}

static int report6(struct world *w, struct diag *d, const struct scenario_loc *loc,
		   const char *what)
{
	scenario_report(w->scn, d, DIAG_ERROR, loc, "%s", what);
	return -1;
}

static bool address6_taken(const struct scenario *s, const struct ip6_addr *a)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].has_ip6 && ip6_equal(&s->hosts[i].ip6, a))
			return true;
	const struct scenario_coordinator *c = s->coordinator;
	return c && c->has_ip6 &&
	       (ip6_equal(&c->ip6, a) || (c->has_alternate && ip6_equal(&c->alt_ip6, a)));
}

/* The lowest ::N (N = 1, 2, ...) of prefix/len no node of the scenario
 * holds: a home's lan address, or the gateway of a public element's /64
 * (as world.c takes the .1 of a /24). */
static struct ip6_addr first_free6(const struct scenario *s, const struct ip6_addr *prefix,
				   uint8_t len)
{
	struct ip6_addr net = ip6_prefix_masked(prefix, len), a = net;

	for (unsigned n = 1; n < 65536; n++) {
		a.b[14] = (uint8_t)(n >> 8);
		a.b[15] = (uint8_t)n;
		if (!address6_taken(s, &a))
			return a;
	}
	return net; /* unreachable for the hosts a scenario can hold */
}

/* The internet's side of a new uplink, with IPv4 address `gw` (0: none). */
static struct iface *internet_iface(struct world *w, uint32_t gw)
{
	char ifname[16];

	snprintf(ifname, sizeof(ifname), "if%zu", router_node(w->internet)->n_ifaces);
	return router_add_iface(w->internet, ifname, gw, gw ? 24 : 0);
}

struct iface *world6_internet_iface(struct world *w)
{
	return internet_iface(w, 0);
}

/* An element on the internet holding `a` as a /128: the internet's side of
 * its uplink gets the gateway address and a host route to `a`. *gw = the
 * element's gateway. */
static int route_public6(struct world *w, struct link *uplink, const struct ip6_addr *a,
			 struct ip6_addr *gw)
{
	struct iface *near = link_attachment(uplink, 0);

	*gw = first_free6(w->scn, a, 64);
	if (!near || (!near->has_addr6 && iface_set_addr6(near, gw, 64) < 0))
		return -1;
	*gw = *iface_addr6(near);
	return router_add_route6(w->internet, a, 128, near, NULL);
}

/* world6_home, the internet routing `routed` (the inside prefix, or the
 * outside one of an NPTv6 home) to the home. */
static int home_routed(struct world *w, struct router *r, struct iface *wan, struct iface *lan,
		       struct link *uplink, const struct scenario_v6side *v,
		       const struct ip6_addr *routed, struct diag *d)
{
	unsigned k = ++w->n_transit;
	struct ip6_addr inet = transit6(k, 1), home = transit6(k, 2), any = {{0}};
	struct ip6_addr lan6 = first_free6(w->scn, &v->prefix, v->prefix_len);
	struct iface *near = link_attachment(uplink, 0);

	if (k > 0xffff)
		return report6(w, d, &v->loc, "more homes with IPv6 than transit links (65535)");
	if (!near || iface_set_addr6(near, &inet, 64) < 0 || iface_set_addr6(wan, &home, 64) < 0 ||
	    iface_set_addr6(lan, &lan6, v->prefix_len) < 0 ||
	    router_add_route6(w->internet, routed, v->prefix_len, near, &home) < 0 ||
	    router_add_route6(r, &any, 0, wan, &inet) < 0)
		return report6(w, d, &v->loc, "cannot give this home its IPv6 side");
	if (v->firewall == SCENARIO_FW6_OFF)
		return 0;
	/* Home routers here ship with RFC 6092's firewall on. The RFC does not
	 * require that (REC-49: the transparent mode MAY be the default; RFC
	 * 7084 S-1 takes no position): natsim's choice.
	 * Filtering is conntrack's five-tuple unless `filtering6` widens it,
	 * where REC-17 asks for endpoint-independent by default on unmanaged
	 * gateways (docs/ipv6.md, "Known differences"). */
	enum nat_behaviour f =
	    v->filtering >= 0 ? (enum nat_behaviour)v->filtering : NAT_ADDRESS_AND_PORT_DEPENDENT;
	if (filter6_make_rfc6092(router_filter6(r), &v->prefix, v->prefix_len, f, v->reject == 1) <
	    0)
		return report6(w, d, &v->loc, "cannot set up this home's IPv6 firewall");
	return 0;
}

int world6_home(struct world *w, struct router *r, struct iface *wan, struct iface *lan,
		struct link *uplink, const struct scenario_v6side *v, struct diag *d)
{
	return home_routed(w, r, wan, lan, uplink, v, &v->prefix, d);
}

/* A NAT64 home's IPv4 side: the pool address on its wan (a /32, as a
 * NAT's), the internet routing it there, a default route back. */
static int home_nat64(struct world *w, struct world_router *wr, struct iface *near, struct diag *d)
{
	const struct scenario_router *sr = wr->spec;
	struct nat64_config cfg;

	nat64_config_default(&cfg, sr->nat64_pool);
	cfg.prefix = sr->nat64_prefix;
	if (router_add_route(w->internet, sr->nat64_pool, 32, near, 0) < 0 ||
	    router_add_route(wr->router, 0, 0, wr->wan, near->addr) < 0 ||
	    !router_enable_nat64(wr->router, wr->wan, &cfg))
		return report6(w, d, &sr->nat64_loc, "cannot set up this router's NAT64");
	return 0;
}

int world6_build_router(struct world *w, size_t i, struct diag *d)
{
	const struct scenario_router *sr = &w->scn->routers[i];
	struct world_router *wr = &w->routers[i];
	struct link_config lc;
	char lname[96];

	wr->spec = sr;
	wr->router = router_new(w->net, sr->name);
	if (!wr->router)
		return -1;
	wr->wan =
	    router_add_iface(wr->router, "wan", sr->nat64 ? sr->nat64_pool : 0, sr->nat64 ? 32 : 0);
	wr->lan = router_add_iface(wr->router, "lan", 0, 0);
	snprintf(lname, sizeof(lname), "%s-lan", sr->name);
	link_config_default(&lc);
	lc.latency = SIM_US(500); /* world.c's LAN_LATENCY */
	wr->lan_link = link_new(w->net, lname, &lc);
	world_uplink_config(w->scn, &lc);
	wr->uplink = link_new(w->net, sr->name, &lc);
	/* A NAT64 home's uplink carries IPv4 too: the internet's side holds
	 * the gateway of the pool address's /24, as a NAT's does (world.c). */
	struct iface *near =
	    internet_iface(w, sr->nat64 ? world_gateway_for(w->scn, sr->nat64_pool) : 0);
	if (!wr->wan || !wr->lan || !wr->lan_link || !wr->uplink || !near ||
	    link_attach(wr->lan_link, wr->lan) < 0 || link_attach(wr->uplink, near) < 0 ||
	    link_attach(wr->uplink, wr->wan) < 0)
		return -1;
	if (sr->nat64 && home_nat64(w, wr, near, d) < 0)
		return -1;
	const struct ip6_addr *routed = sr->nptv6 ? &sr->nptv6_outside : &sr->v6.prefix;
	if (home_routed(w, wr->router, wr->wan, wr->lan, wr->uplink, &sr->v6, routed, d) < 0)
		return -1;
	/* After the home's addresses, so the outside prefix's route exists. */
	if (sr->nptv6 && router_enable_nptv6(wr->router, wr->wan, &sr->v6.prefix,
					     &sr->nptv6_outside, sr->nptv6_len) < 0)
		return report6(w, d, &sr->nptv6_loc, "cannot set up this router's NPTv6");
	return 0;
}

/* The home a host sits behind: its lan's IPv6 address and prefix length. */
static bool home_lan6(struct world *w, const char *name, struct ip6_addr *gw, uint8_t *len)
{
	struct world_nat *wn = world_find_nat(w, name);
	struct world_router *wr = wn ? NULL : world_find_router(w, name);
	struct iface *lan = wn ? wn->lan : wr ? wr->lan : NULL;

	if (!lan || !lan->has_addr6)
		return false;
	*gw = *iface_addr6(lan);
	*len = lan->prefix6_len;
	return true;
}

int world6_host(struct world *w, struct world_host *wh, struct diag *d)
{
	const struct scenario_host *sh = wh->spec;
	struct ip6_addr gw;
	uint8_t len = 128;

	if (!sh->has_ip6)
		return 0;
	if (sh->behind.name ? !home_lan6(w, sh->behind.name, &gw, &len)
			    : route_public6(w, wh->uplink, &sh->ip6, &gw) < 0)
		return report6(w, d, &sh->ip6_loc, "cannot route this host's IPv6 address");
	if (host_set_address6(wh->host, &sh->ip6, len) < 0)
		return report6(w, d, &sh->ip6_loc, "cannot give this host its IPv6 address");
	host_set_gateway6(wh->host, &gw);
	if (sh->firewall == 1 && !wh->fw6) {
		if (filter6_make_stateful_host(host_filter6(wh->host)) < 0)
			return -1;
		wh->fw6 = true;
	}
	return 0;
}

int world6_coordinator(struct world *w, struct diag *d)
{
	const struct scenario_coordinator *sc = w->scn->coordinator;
	struct ip6_addr gw;

	if (!sc || !sc->has_ip6)
		return 0;
	if (route_public6(w, w->coord_link, &sc->ip6, &gw) < 0 ||
	    host_set_address6(w->coord_host, &sc->ip6, 128) < 0)
		return report6(w, d, &sc->ip6_loc, "cannot give the coordinator its IPv6 address");
	host_set_gateway6(w->coord_host, &gw);
	if (!sc->has_alternate)
		return 0;
	/* The alternate's interface is the second one of the host (world.c). */
	struct iface *alt = node_iface_by_addr(host_node(w->coord_host), sc->alt_ip);
	struct iface *near = link_attachment(w->coord_link, 0);
	if (!alt || iface_set_addr6(alt, &sc->alt_ip6, 128) < 0 ||
	    router_add_route6(w->internet, &sc->alt_ip6, 128, near, NULL) < 0)
		return report6(w, d, &sc->alt6_loc, "cannot add the alternate IPv6 address");
	return 0;
}

static struct p2p_endpoint p2p6(const struct ip6_addr *a, uint16_t port)
{
	struct p2p_endpoint ep = {.port = port, .family = P2P_FAMILY_IPV6};

	memcpy(ep.ip6, a->b, 16);
	return ep;
}

void world6_agent(struct world *w, const struct scenario_host *sh, struct agent_config *ac)
{
	const struct scenario_coordinator *sc = w->scn->coordinator;
	const struct scenario_router *nat64 = scenario_host_nat64(w->scn, sh);

	ac->local = p2p6(&sh->ip6, ac->local.port);
	/* Behind a NAT64 the host knows its prefix, as RFC 7050's query to
	 * its DNS64 would tell it: the agent reaches IPv4 candidates there. */
	if (nat64 != NULL)
		memcpy(ac->nat64_prefix, nat64->nat64_prefix.b, sizeof(ac->nat64_prefix));
	if (sc->has_ip6) {
		ac->coordinator = p2p6(&sc->ip6, sc->port);
		return;
	}
	/* No AAAA record: a DNS64 behind the NAT64 answers the coordinator's
	 * name with its A record's address in the NAT64 prefix (RFC 6147 5.1.7,
	 * the /96 form of RFC 6052 2.2). natsim has no DNS; the world plays it. */
	struct ip6_addr a = nat64->nat64_prefix;
	a.b[12] = (uint8_t)(sc->ip >> 24);
	a.b[13] = (uint8_t)(sc->ip >> 16);
	a.b[14] = (uint8_t)(sc->ip >> 8);
	a.b[15] = (uint8_t)sc->ip;
	ac->coordinator = p2p6(&a, sc->port);
}

struct filter6 *world6_filter_of(struct world *w, const char *name)
{
	struct world_host *wh = world_find_host(w, name);
	struct world_nat *wn = wh ? NULL : world_find_nat(w, name);
	struct world_router *wr = wh || wn ? NULL : world_find_router(w, name);

	if (wh) {
		if (wh->spec->firewall == 0)
			return NULL;
		/* As for IPv4 (world.c firewall_of): a rule switches the host's
		 * stateful firewall on; the rule comes after its defaults. */
		if (!wh->fw6 && filter6_make_stateful_host(host_filter6(wh->host)) < 0)
			return NULL;
		wh->fw6 = true;
		return host_filter6(wh->host);
	}
	if (w->coord_host && strcmp(name, w->scn->coordinator->name) == 0) {
		if (!w->coord_fw6 && filter6_make_stateful_host(host_filter6(w->coord_host)) < 0)
			return NULL;
		w->coord_fw6 = true;
		return host_filter6(w->coord_host);
	}
	if (wn)
		return router_filter6(wn->router);
	return wr ? router_filter6(wr->router) : NULL;
}

/* The IPv6 side of the home `name` (a NAT or a router), or NULL. */
static const struct scenario_v6side *home_side(struct world *w, const char *name)
{
	struct world_nat *wn = world_find_nat(w, name);
	struct world_router *wr = wn ? NULL : world_find_router(w, name);

	return wn ? &wn->spec->v6 : wr ? &wr->spec->v6 : NULL;
}

/* Every rule of fw again, `r` inserted before FORWARD's last one
 * (firewall.h has append only). */
static int append_before_last(struct firewall *fw, const struct fw_rule *r)
{
	size_t total = 0, k = 0;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		total += firewall_rule_count(fw, (enum fw_chain)c);
	struct fw_rule *all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return -1;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		for (size_t i = 0; i < firewall_rule_count(fw, (enum fw_chain)c); i++)
			all[k++] = *firewall_rule(fw, (enum fw_chain)c, i);
	/* all[] is in chain order, so FORWARD's last rule is the last of
	 * FORWARD's run: find it. */
	size_t last = 0;
	for (size_t i = 0; i < total; i++)
		if (all[i].chain == FW_CHAIN_FORWARD)
			last = i;
	firewall_clear(fw);
	int rc = 0;
	for (size_t i = 0; i < total && rc == 0; i++) {
		if (i == last)
			rc = firewall_append(fw, r) < 0 ? -1 : 0;
		if (rc == 0)
			rc = firewall_append(fw, &all[i]) < 0 ? -1 : 0;
	}
	free(all);
	return rc;
}

int world6_append_rule(struct world *w, const char *name, struct filter6 *f,
		       const struct fw_rule *r)
{
	struct firewall *fw = filter6_firewall(f);
	const struct scenario_v6side *v = home_side(w, name);

	/* A home whose RFC 6092 firewall rejects ends FORWARD with a REJECT of
	 * every unsolicited inbound packet (filter6_make_rfc6092): a rule after
	 * it would never match, so it goes before, where an nftables user
	 * writes an accept rule above the chain's reject. */
	if (r->chain == FW_CHAIN_FORWARD && v && v->reject == 1 &&
	    v->firewall != SCENARIO_FW6_OFF && firewall_rule_count(fw, FW_CHAIN_FORWARD) > 0)
		return append_before_last(fw, r);
	return firewall_append(fw, r) < 0 ? -1 : 0;
}
