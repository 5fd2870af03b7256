/*
 * world.c - scenario -> simulated world. See world.h for the topology.
 */
#include "app/world/world.h"
#include "explain/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/endpoint.h"
#include "model/filter6.h"

#define LAN_LATENCY SIM_US(500)
#define DEFAULT_INTERNET_LATENCY SIM_MS(20)

/* True if the scenario gives `addr` to anything (host, NAT, coordinator). */
static bool address_taken(const struct scenario *s, uint32_t addr)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (s->hosts[i].ip == addr)
			return true;
	for (size_t i = 0; i < s->n_nats; i++)
		for (size_t k = 0; k < s->nats[i].n_public; k++)
			if (s->nats[i].public_ip[k] == addr)
				return true;
	const struct scenario_coordinator *c = s->coordinator;
	return c && (c->ip == addr || (c->has_alternate && c->alt_ip == addr));
}

/* The gateway of the /24 holding `addr`: .1, else .254, .253, ... - the first
 * address the scenario does not use for anything else. */
static uint32_t gateway_for(const struct scenario *s, uint32_t addr)
{
	uint32_t net = addr & prefix_mask(24);
	if (!address_taken(s, net | 1))
		return net | 1;
	for (uint32_t last = 254; last > 1; last--)
		if (!address_taken(s, net | last))
			return net | last;
	return net | 1; /* a /24 full of nodes: the builder reports the clash */
}

/* Something on the internet holds its address alone (/32, as on an ISP's
 * point-to-point link) and reaches everything through its gateway: two
 * customers of one /24 are not on one Ethernet. Inside a NAT, a LAN /24. */
static uint8_t prefix_of(const struct scenario_ref *behind)
{
	return behind->name ? 24 : 32;
}

static int report(struct world *w, struct diag *d, const struct scenario_loc *loc, const char *what)
{
	scenario_report(w->scn, d, DIAG_ERROR, loc, "%s", what);
	return -1;
}

/* One-way uplink behaviour: half the internet's latency and jitter, and the
 * loss that makes a crossing of two uplinks lose `loss`. */
void world_uplink_config(const struct scenario *s, struct link_config *lc)
{
	link_config_default(lc);
	int64_t lat =
	    s->internet.latency_ns >= 0 ? s->internet.latency_ns : DEFAULT_INTERNET_LATENCY;
	lc->latency = lat / 2;
	if (s->internet.jitter_ns > 0)
		lc->jitter = s->internet.jitter_ns / 2;
	if (s->internet.loss > 0) {
		/* 1 - (1 - p)^(1/2), without libm's pow for one square root. */
		double keep = 1.0 - s->internet.loss, r = keep;
		for (int i = 0; i < 40; i++)
			r = 0.5 * (r + keep / (r > 0 ? r : 1e-12));
		lc->loss = 1.0 - r;
	}
}

/* Give `far` (an element's outside interface) its own link to the internet
 * router, named after the element; route its addresses there. */
static struct link *attach_to_internet(struct world *w, const char *name, struct iface *far,
				       const uint32_t *addrs, size_t n_addrs)
{
	struct link_config lc;
	world_uplink_config(w->scn, &lc);
	struct link *l = link_new(w->net, name, &lc);
	char ifname[16];
	snprintf(ifname, sizeof(ifname), "if%zu", router_node(w->internet)->n_ifaces);
	/* An element without IPv4 (n_addrs 0): world6.c addresses the near side. */
	struct iface *near =
	    n_addrs ? router_add_iface(w->internet, ifname, gateway_for(w->scn, addrs[0]), 24)
		    : world6_internet_iface(w);
	if (!l || !near || link_attach(l, near) < 0 || link_attach(l, far) < 0)
		return NULL;
	/* Host routes, so two elements in one /24 stay apart; extra public
	 * addresses of a NAT are reached through its first one. */
	for (size_t i = 0; i < n_addrs; i++)
		if (router_add_route(w->internet, addrs[i], 32, near, i ? addrs[0] : 0) < 0)
			return NULL;
	return l;
}

static int build_nat_config(const struct scenario_nat *sn, struct nat_config *cfg)
{
	nat_config_default(cfg);
	if (sn->preset && nat_config_preset(cfg, sn->preset) < 0)
		return -1;
	if (sn->has_mapping)
		cfg->mapping = (enum nat_behaviour)sn->mapping;
	if (sn->has_filtering)
		cfg->filtering = (enum nat_behaviour)sn->filtering;
	if (sn->has_ports)
		cfg->ports = (enum nat_port_assignment)sn->ports;
	if (sn->has_range) {
		cfg->port_lo = sn->port_lo;
		cfg->port_hi = sn->port_hi;
	}
	if (sn->timeout_ns >= 0)
		cfg->mapping_timeout = sn->timeout_ns;
	if (sn->hairpinning >= 0)
		cfg->hairpinning = sn->hairpinning;
	if (sn->inbound_refresh >= 0)
		cfg->inbound_refresh = sn->inbound_refresh;
	if (sn->pooling >= 0)
		cfg->pooling = (enum nat_pooling)sn->pooling;
	if (sn->icmp_inner >= 0)
		cfg->icmp_inner = sn->icmp_inner;
	if (sn->icmp_errors >= 0)
		cfg->icmp_errors = sn->icmp_errors;
	if (sn->icmp_timeout_ns >= 0)
		cfg->icmp_timeout = sn->icmp_timeout_ns;
	if (sn->tcp_established_timeout_ns >= 0)
		cfg->tcp_established_timeout = sn->tcp_established_timeout_ns;
	if (sn->tcp_transitory_timeout_ns >= 0)
		cfg->tcp_transitory_timeout = sn->tcp_transitory_timeout_ns;
	if (sn->tcp_unsolicited >= 0)
		cfg->tcp_unsolicited_syn = (enum nat_tcp_unsolicited)sn->tcp_unsolicited;
	if (sn->pcp >= 0)
		cfg->pcp = sn->pcp;
	if (sn->natpmp >= 0)
		cfg->natpmp = sn->natpmp;
	cfg->n_public = sn->n_public;
	for (size_t i = 0; i < sn->n_public; i++)
		cfg->public_ip[i] = sn->public_ip[i];
	return 0;
}

/* The address of a NAT's inside: the gateway of the /24 its inside elements
 * share. All of them must be in that /24, and none may hold the address. */
static int nat_lan_address(struct world *w, size_t ni, struct diag *d, uint32_t *out)
{
	const struct scenario *s = w->scn;
	const char *name = s->nats[ni].name;
	bool any = false;
	uint32_t net = 0, gw = 0;
	for (size_t i = 0; i < s->n_hosts + s->n_nats; i++) {
		bool is_host = i < s->n_hosts;
		const struct scenario_ref *behind =
		    is_host ? &s->hosts[i].behind : &s->nats[i - s->n_hosts].behind;
		if (!behind->name || strcmp(behind->name, name) != 0 ||
		    (is_host && !scenario_host_has_ipv4(&s->hosts[i])))
			continue;
		uint32_t a = is_host ? s->hosts[i].ip : s->nats[i - s->n_hosts].public_ip[0];
		const struct scenario_loc *loc =
		    is_host ? &s->hosts[i].ip_loc : &s->nats[i - s->n_hosts].public_loc[0];
		if (!any) {
			any = true;
			net = a & prefix_mask(24);
			gw = gateway_for(s, a);
		} else if ((a & prefix_mask(24)) != net) {
			char msg[160], ns[16];
			snprintf(msg, sizeof(msg),
				 "everything behind %s must share one /24 network (%s/24)", name,
				 ip_format(net, ns, sizeof(ns)));
			return report(w, d, loc, msg);
		}
	}
	if (!any) /* nothing inside yet: any private network not its own will do */
		gw = (s->nats[ni].public_ip[0] & prefix_mask(24)) == IP4(192, 168, 0, 0)
			 ? IP4(10, 0, 0, 1)
			 : IP4(192, 168, 0, 1);
	*out = gw;
	return 0;
}

static int build_nat(struct world *w, size_t ni, struct diag *d);

/* Attach an element (host eth0 or NAT wan) to the place it lives: its own
 * uplink, or the LAN of the NAT it sits behind. Returns the link and sets
 * *gateway. */
static struct link *place_element(struct world *w, const char *name,
				  const struct scenario_ref *behind, struct iface *ifc,
				  const uint32_t *addrs, size_t n, uint32_t *gateway,
				  struct diag *d)
{
	if (!behind->name) {
		*gateway = n ? gateway_for(w->scn, addrs[0]) : 0;
		return attach_to_internet(w, name, ifc, addrs, n);
	}
	const struct scenario *s = w->scn;
	struct world_router *wr = world_find_router(w, behind->name);
	if (wr) { /* an IPv6-only home: no IPv4 gateway */
		*gateway = 0;
		return link_attach(wr->lan_link, ifc) < 0 ? NULL : wr->lan_link;
	}
	for (size_t i = 0; i < s->n_nats; i++) {
		if (strcmp(s->nats[i].name, behind->name) != 0)
			continue;
		if (!w->nats[i].router && build_nat(w, i, d) < 0)
			return NULL;
		*gateway = w->nats[i].lan->addr;
		if (link_attach(w->nats[i].lan_link, ifc) < 0)
			return NULL;
		return w->nats[i].lan_link;
	}
	return NULL;
}

static int build_nat(struct world *w, size_t ni, struct diag *d)
{
	const struct scenario_nat *sn = &w->scn->nats[ni];
	struct world_nat *wn = &w->nats[ni];
	struct nat_config cfg;
	uint32_t lan_addr, gw;
	if (build_nat_config(sn, &cfg) < 0)
		return report(w, d, &sn->loc, "unknown NAT preset");
	if (nat_lan_address(w, ni, d, &lan_addr) < 0)
		return -1;
	wn->spec = sn;
	wn->router = router_new(w->net, sn->name);
	if (!wn->router)
		return -1;
	wn->wan = router_add_iface(wn->router, "wan", sn->public_ip[0], prefix_of(&sn->behind));
	wn->lan = router_add_iface(wn->router, "lan", lan_addr, 24);
	char lname[96];
	snprintf(lname, sizeof(lname), "%s-lan", sn->name);
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = LAN_LATENCY;
	wn->lan_link = link_new(w->net, lname, &lc);
	if (!wn->wan || !wn->lan || !wn->lan_link || link_attach(wn->lan_link, wn->lan) < 0)
		return -1;
	wn->uplink =
	    place_element(w, sn->name, &sn->behind, wn->wan, sn->public_ip, sn->n_public, &gw, d);
	if (!wn->uplink || router_add_route(wn->router, 0, 0, wn->wan, gw) < 0)
		return -1;
	if (sn->input >= 0)
		router_set_input(wn->router, (enum router_input)sn->input);
	if (!router_enable_nat(wn->router, wn->wan, &cfg))
		return report(w, d, &sn->loc, "cannot set up this NAT");
	if (sn->v6.present)
		return world6_home(w, wn->router, wn->wan, wn->lan, wn->uplink, &sn->v6, d);
	return 0;
}

/* The coordinator listens on TCP too when an agent speaks it (only then: a
 * listener is a socket the trace shows, and UDP lessons stay as they were). */
static bool any_agent_speaks_tcp(const struct scenario *s)
{
	for (size_t i = 0; i < s->n_actions; i++)
		if (s->actions[i].kind == SCENARIO_ACT_CONNECT && s->actions[i].tcp)
			return true;
	return false;
}

static int build_coordinator(struct world *w, struct diag *d)
{
	const struct scenario_coordinator *sc = w->scn->coordinator;
	if (!sc)
		return 0;
	uint32_t addrs[2] = {sc->ip, sc->alt_ip};
	w->coord_host = host_new(w->net, sc->name, sc->ip, 32, gateway_for(w->scn, sc->ip));
	if (!w->coord_host)
		return -1;
	w->coord_link = attach_to_internet(w, sc->name, host_iface(w->coord_host), addrs, 1);
	if (!w->coord_link)
		return -1;
	if (sc->has_alternate) {
		struct iface *alt = host_add_address(w->coord_host, sc->alt_ip, 32);
		struct iface *near = link_attachment(w->coord_link, 0);
		if (!alt || link_attach(w->coord_link, alt) < 0 ||
		    router_add_route(w->internet, sc->alt_ip, 32, near, 0) < 0)
			return report(w, d, &sc->alt_loc, "cannot add the alternate address");
	}
	struct coord_config cc = {.primary = {.ip = sc->ip, .port = sc->port},
				  .has_alternate = sc->has_alternate,
				  .alternate = {.ip = sc->alt_ip, .port = sc->alt_port},
				  .disable_relay = !sc->relay,
				  .software = "natsim"};
	if (world6_coordinator(w, d) < 0)
		return -1;
	w->coord = simdrive_add_coord(w->drive, w->coord_host, &cc);
	if (w->coord && any_agent_speaks_tcp(w->scn) && simdrive_coord_listen_tcp(w->coord) < 0)
		return report(w, d, &sc->loc, "cannot listen on TCP at the coordinator's port");
	return w->coord ? 0 : report(w, d, &sc->loc, "cannot start the coordinator");
}

static int build_host(struct world *w, size_t hi, struct diag *d)
{
	const struct scenario_host *sh = &w->scn->hosts[hi];
	struct world_host *wh = &w->hosts[hi];
	uint32_t gw = 0;
	bool v4 = scenario_host_has_ipv4(sh);
	wh->spec = sh;
	wh->host = host_new(w->net, sh->name, sh->ip, v4 ? prefix_of(&sh->behind) : 0, 0);
	if (!wh->host)
		return -1;
	wh->uplink = place_element(w, sh->name, &sh->behind, host_iface(wh->host), &sh->ip,
				   v4 ? 1 : 0, &gw, d);
	if (!wh->uplink)
		return -1;
	if (v4)
		host_set_gateway(wh->host, gw);
	wh->gateway = gw;
	if (sh->firewall == 1)
		host_enable_firewall(wh->host, true);
	return world6_host(w, wh, d);
}

/* The language names the techniques with the agent's own bits. */
_Static_assert(SCENARIO_TECH_PREDICTION == AGENT_TECH_PREDICTION &&
		   SCENARIO_TECH_BIRTHDAY == AGENT_TECH_BIRTHDAY &&
		   SCENARIO_TECH_PORT_MAPPING == AGENT_TECH_PORT_MAPPING &&
		   SCENARIO_TECH_ALL == AGENT_TECH_ALL,
	       "scenario.h's technique bits are p2p/agent.h's");
_Static_assert(SCENARIO_SOCKETS_MAX == AGENT_MAX_SOCKETS,
	       "a host's `sockets` goes up to the agent's most");

void world_hard_nat_config(const struct scenario_host *sh, uint32_t gateway,
			   struct agent_config *ac)
{
	if (sh->techniques > 0)
		ac->techniques = (unsigned)sh->techniques;
	if (sh->prediction_window > 0)
		ac->prediction_window = (unsigned)sh->prediction_window;
	if (sh->sockets > 0)
		ac->birthday_sockets = (unsigned)sh->sockets;
	if (sh->probe_rate > 0)
		ac->probe_rate = (unsigned)sh->probe_rate;
	if (sh->probes > 0)
		ac->probe_budget = (unsigned)sh->probes;
	if (sh->mapping_lifetime_ns > 0)
		ac->mapping_lifetime_s = (uint32_t)(sh->mapping_lifetime_ns / SIM_S(1));
	/* The router a host asks for a mapping is its default gateway (RFC 6887
	 * section 8.1: with no PCP server configured, the client uses its default
	 * router list; RFC 6886 section 3.1: NAT-PMP asks its configured gateway);
	 * port 0: the agent's 5351. */
	if (ac->techniques & AGENT_TECH_PORT_MAPPING)
		ac->gateway = (struct p2p_endpoint){.ip = gateway, .port = 0};
}

static int build_agent(struct world *w, struct world_host *wh)
{
	const struct scenario_coordinator *sc = w->scn->coordinator;
	const struct scenario_host *sh = wh->spec;
	if (!scenario_host_has_ipv4(sh)) /* the agent speaks IPv4 (docs/ipv6.md step 6) */
		return 0;
	struct agent_config ac = {
	    .name = sh->name,
	    .local = {.ip = sh->ip,
		      .port = sh->port >= 0 ? (uint16_t)sh->port : WORLD_DEFAULT_AGENT_PORT},
	    .disable_host_candidates = sh->host_candidates == 0,
	    .transport = scenario_host_speaks_tcp(w->scn, sh->name) ? AGENT_TRANSPORT_TCP
								    : AGENT_TRANSPORT_UDP,
	};
	if (sc)
		ac.coordinator = (struct p2p_endpoint){.ip = sc->ip, .port = sc->port};
	if (sh->keepalive_ns > 0)
		ac.keepalive_ns = (uint64_t)sh->keepalive_ns;
	world_hard_nat_config(sh, wh->gateway, &ac);
	wh->agent = simdrive_add_agent(w->drive, wh->host, &ac);
	if (!wh->agent)
		return -1;
	if (sh->keepalive_ns == 0)
		agent_set_keepalive(sim_agent_agent(wh->agent), 0);
	return 0;
}

/* The firewall a rule or policy goes into: a host's (a rule switches its
 * stateful firewall on) or a NAT router's. NULL if `name` has none. */
static struct firewall *firewall_of(struct world *w, const char *name)
{
	struct world_host *wh = world_find_host(w, name);
	struct host *h = wh ? wh->host : NULL;
	if (!h && w->coord_host && strcmp(name, w->scn->coordinator->name) == 0)
		h = w->coord_host;
	if (h) {
		if (wh && wh->spec->firewall == 0)
			return NULL;
		if (!host_firewall_enabled(h))
			host_enable_firewall(h, true);
		return host_firewall(h);
	}
	struct world_nat *wn = world_find_nat(w, name);
	return wn ? router_firewall(wn->router) : NULL;
}

#define NO_FIREWALL_MSG                                                                            \
	"this node has no firewall to put it in (a NAT, a host or the coordinator; a host "        \
	"with `firewall off` filters nothing)"

void world_rule_of(const struct scenario_rule *sr, struct fw_rule *r)
{
	*r = (struct fw_rule){
	    .chain = (enum fw_chain)sr->chain,
	    .proto = sr->proto,
	    .src = sr->src,
	    .src_len = sr->has_src ? sr->src_len : 0,
	    .dst = sr->dst,
	    .dst_len = sr->has_dst ? sr->dst_len : 0,
	    .sport_lo = sr->has_sport ? sr->sport_lo : 0,
	    .sport_hi = sr->has_sport ? sr->sport_hi : 0,
	    .dport_lo = sr->has_dport ? sr->dport_lo : 0,
	    .dport_hi = sr->has_dport ? sr->dport_hi : 0,
	    .match_icmp_type = sr->has_icmp_type,
	    .icmp_type = sr->icmp_type,
	    .match_icmp_code = sr->has_icmp_code,
	    .icmp_code = sr->icmp_code,
	    .tcp_flags_mask = sr->tcp_flags_mask,
	    .tcp_flags_match = sr->tcp_flags_match,
	    .states = sr->states, /* SCENARIO_STATE_* are the conntrack state bits */
	    .action = (enum fw_action)sr->verdict,
	    .reject_with = sr->reject_with >= 0 ? (enum fw_reject_with)sr->reject_with
						: FW_REJECT_PORT_UNREACHABLE,
	};
	if (sr->family == 6) { /* an ip6 rule: its prefixes are IPv6 */
		r->family = 6;
		r->src6 = sr->src6;
		r->dst6 = sr->dst6;
	}
	snprintf(r->comment, sizeof(r->comment), "line %d", sr->loc.line);
}

static int build_rules(struct world *w, struct diag *d)
{
	const struct scenario *s = w->scn;
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct scenario_rule *sr = &s->rules[i];
		struct filter6 *f6 = sr->family == 6 ? world6_filter_of(w, sr->node.name) : NULL;
		struct firewall *fw = sr->family == 6 ? (f6 ? filter6_firewall(f6) : NULL)
						      : firewall_of(w, sr->node.name);
		if (!fw)
			return report(w, d, &sr->node.loc, NO_FIREWALL_MSG);
		struct fw_rule r;
		world_rule_of(sr, &r);
		if (f6 ? world6_append_rule(w, sr->node.name, f6, &r) < 0
		       : firewall_append(fw, &r) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->n_policies; i++) {
		const struct scenario_policy *sp = &s->policies[i];
		struct firewall *fw = firewall_of(w, sp->node.name);
		if (!fw)
			return report(w, d, &sp->node.loc, NO_FIREWALL_MSG);
		firewall_set_policy(fw, (enum fw_chain)sp->chain, (enum fw_action)sp->verdict);
	}
	return 0;
}

static int build_forwards(struct world *w, struct diag *d)
{
	const struct scenario *s = w->scn;
	for (size_t i = 0; i < s->n_forwards; i++) {
		const struct scenario_forward *sf = &s->forwards[i];
		struct world_nat *wn = world_find_nat(w, sf->nat.name);
		struct world_host *wh = world_find_host(w, sf->host.name);
		if (!wn || !wh)
			return report(w, d, &sf->loc, "a forward needs a NAT and a host");
		struct endpoint inside = {wh->spec->ip, sf->host_port};
		if (nat_add_forward(router_nat(wn->router), sf->proto, sf->port, &inside) < 0)
			return report(w, d, &sf->port_loc,
				      "this external port is already forwarded");
	}
	return 0;
}

/* `link X ...`: X's own uplink, or X's access to the LAN it sits on. */
static int apply_link_overrides(struct world *w, struct diag *d)
{
	const struct scenario *s = w->scn;
	for (size_t i = 0; i < s->n_links; i++) {
		const struct scenario_link *sl = &s->links[i];
		struct link *l = NULL;
		struct iface *ifc = NULL;
		if (!world_element_link(w, sl->node.name, &l, &ifc))
			return report(w, d, &sl->node.loc, "no link by this name");
		if (ifc) {
			if (link_attachment_configure(l, ifc,
						      sl->latency_ns > 0 ? sl->latency_ns : 0,
						      sl->jitter_ns > 0 ? sl->jitter_ns : 0,
						      sl->loss > 0 ? sl->loss : 0) < 0)
				return -1;
			continue;
		}
		struct link_config lc = *link_get_config(l);
		if (sl->latency_ns >= 0)
			lc.latency = sl->latency_ns;
		if (sl->jitter_ns >= 0)
			lc.jitter = sl->jitter_ns;
		if (sl->loss >= 0)
			lc.loss = sl->loss;
		link_set_config(l, &lc);
	}
	return 0;
}

static int build_all(struct world *w, struct diag *d)
{
	const struct scenario *s = w->scn;
	w->internet = router_new(w->net, "internet");
	if (!w->internet || build_coordinator(w, d) < 0)
		return -1;
	for (size_t i = 0; i < s->n_nats; i++)
		if (!w->nats[i].router && build_nat(w, i, d) < 0)
			return -1;
	for (size_t i = 0; i < s->n_routers; i++)
		if (world6_build_router(w, i, d) < 0)
			return -1;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (build_host(w, i, d) < 0)
			return -1;
	if (build_rules(w, d) < 0 || build_forwards(w, d) < 0 || apply_link_overrides(w, d) < 0)
		return -1;
	for (size_t i = 0; i < s->n_hosts; i++)
		if (build_agent(w, &w->hosts[i]) < 0)
			return report(w, d, &s->hosts[i].loc, "cannot bind this host's agent port");
	return 0;
}

int world_build(struct world *w, const struct scenario *s, uint64_t seed, struct diag *d)
{
	memset(w, 0, sizeof(*w));
	w->scn = s;
	w->net = net_new(seed);
	if (w->net)
		explain_attach(net_trace(w->net)); /* drops carry verdicts; these are their words */
	w->nats = calloc(s->n_nats ? s->n_nats : 1, sizeof(*w->nats));
	w->hosts = calloc(s->n_hosts ? s->n_hosts : 1, sizeof(*w->hosts));
	w->routers = calloc(s->n_routers ? s->n_routers : 1, sizeof(*w->routers));
	if (w->net)
		w->drive = simdrive_new(w->net);
	if (!w->net || !w->nats || !w->hosts || !w->routers || !w->drive || build_all(w, d) < 0) {
		if (diag_count_errors(d) == 0)
			diag_add(d, DIAG_ERROR, &(struct diag_span){.file = s->filename},
				 "cannot build the world: out of memory");
		world_free(w);
		return -1;
	}
	return 0;
}

void world_free(struct world *w)
{
	simdrive_free(w->drive);
	net_free(w->net);
	free(w->nats);
	free(w->hosts);
	free(w->routers);
	memset(w, 0, sizeof(*w));
}

void world_announce(struct world *w)
{
	net_announce(w->net);
	for (size_t i = 0; i < w->scn->n_nats; i++)
		if (w->nats[i].router)
			nat_announce(router_nat(w->nats[i].router));
}

struct world_host *world_find_host(struct world *w, const char *name)
{
	for (size_t i = 0; i < w->scn->n_hosts; i++)
		if (strcmp(w->scn->hosts[i].name, name) == 0)
			return &w->hosts[i];
	return NULL;
}

struct world_nat *world_find_nat(struct world *w, const char *name)
{
	for (size_t i = 0; i < w->scn->n_nats; i++)
		if (strcmp(w->scn->nats[i].name, name) == 0)
			return &w->nats[i];
	return NULL;
}

struct world_router *world_find_router(struct world *w, const char *name)
{
	for (size_t i = 0; i < w->scn->n_routers; i++)
		if (strcmp(w->scn->routers[i].name, name) == 0)
			return &w->routers[i];
	return NULL;
}

struct node *world_find_node(struct world *w, const char *name)
{
	return net_find_node(w->net, name);
}

bool world_element_link(struct world *w, const char *name, struct link **l, struct iface **ifc)
{
	struct world_host *wh = world_find_host(w, name);
	struct world_nat *wn = wh ? NULL : world_find_nat(w, name);
	struct world_router *wr = wh || wn ? NULL : world_find_router(w, name);
	*ifc = NULL;
	if (wh) {
		*l = wh->uplink;
		if (wh->spec->behind.name)
			*ifc = host_iface(wh->host);
	} else if (wn) {
		*l = wn->uplink;
		if (wn->spec->behind.name)
			*ifc = wn->wan;
	} else if (wr) {
		*l = wr->uplink;
	} else if (w->coord_host && strcmp(name, w->scn->coordinator->name) == 0) {
		*l = w->coord_link;
	} else {
		return false;
	}
	return *l != NULL;
}

int world_set_link_up(struct world *w, const char *name, bool up)
{
	struct link *l;
	struct iface *ifc;
	if (!world_element_link(w, name, &l, &ifc))
		return -1;
	if (ifc)
		return link_attachment_set_up(l, ifc, up);
	link_set_up(l, up);
	return 0;
}
