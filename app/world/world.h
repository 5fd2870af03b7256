/*
 * world.h - builds a simulated world from a parsed scenario.
 *
 * The topology a scenario implies, made explicit:
 *   - one router named "internet" in the middle;
 *   - everything on the internet (the coordinator, public hosts, outermost
 *     NATs) has its own uplink link named after it, half the internet's
 *     latency each way, so crossing the internet costs the stated latency;
 *     the internet's side of an uplink is the .1 (or .254) of the element's
 *     /24, its gateway;
 *   - a NAT is a router with `wan` (its first public address) and `lan` (the
 *     .1 or .254 of the /24 its inside hosts share); its inside is one LAN
 *     link named NAT-lan where its hosts (and inner NATs, for CGNAT) attach;
 *   - `link X latency ...` overrides X's uplink, or, for something inside a
 *     NAT, X's own access to that LAN (its Wi-Fi, say);
 *   - the coordinator holds its primary and alternate addresses (RFC 5780) on
 *     two interfaces of one host.
 * IPv6 (world6.c, docs/scenario.md "IPv6"): an element on the internet holds
 * its IPv6 address as a /128 and its gateway is the lowest free ::N of its
 * /64 on the internet's side of its uplink; a home router with `ipv6 PREFIX`
 * (a `nat`'s IPv6 side, or a `router`, IPv6 only) gets transit link k (the
 * k-th home with IPv6, in file order) 3fff:0:k::/64 (RFC 9637's documentation
 * prefix, apart from the 2001:db8::/32 scenarios use): the internet ::1, the
 * home's wan ::2; the internet routes PREFIX to ::2, the home's default route
 * goes to ::1, its lan holds the lowest free ::N of PREFIX, its inside's gateway.
 * Every host gets an agent (the real p2p code) on its port (default 5000).
 *
 * Map: docs/architecture.md, "The layers", says what app/ may use and how
 * today's flat folder differs from DESIGN.md's rooms. "Life of a packet"
 * step 0 shows how world_build() and app/world/simdrive.c set up the path; step 12
 * lists the trace observers app/ subscribes.
 */
#ifndef NATSIM_APP_WORLD_H
#define NATSIM_APP_WORLD_H

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/world/simdrive.h"
#include "model/host.h"
#include "model/net.h"
#include "model/router.h"

#define WORLD_DEFAULT_AGENT_PORT 5000

struct world_nat {
	const struct scenario_nat *spec;
	struct router *router;
	struct iface *wan, *lan;
	struct link *lan_link;
	struct link *uplink; /* the link its wan attaches to */
};

/* An IPv6-only home router (`router NAME ipv6 PREFIX`): no NAT, no IPv4. */
struct world_router {
	const struct scenario_router *spec;
	struct router *router;
	struct iface *wan, *lan;
	struct link *lan_link;
	struct link *uplink;
};

struct world_host {
	const struct scenario_host *spec;
	struct host *host;
	struct link *uplink;	 /* its own uplink (public), or its NAT's LAN */
	uint32_t gateway;	 /* its default router: its NAT's inside address, or
				    the internet's side of its uplink */
	struct sim_agent *agent; /* NULL for a host without IPv4 (the agent speaks IPv4) */
	bool fw6;		 /* its IPv6 stateful firewall is on */
};

struct world {
	const struct scenario *scn;
	struct net *net;
	struct simdrive *drive;
	struct router *internet;
	struct world_nat *nats;	      /* parallel to scn->nats */
	struct world_host *hosts;     /* parallel to scn->hosts */
	struct world_router *routers; /* parallel to scn->routers */
	unsigned n_transit;	      /* IPv6 transit links made so far */
	bool coord_fw6;		      /* the coordinator's IPv6 stateful firewall is on */
	struct host *coord_host;
	struct sim_coord *coord;
	struct link *coord_link;
};

/* Build the world for `s` with `seed`. Problems the parser cannot see (hosts
 * of one NAT on different networks, an address clash with a gateway) are
 * reported into `d` at the scenario line concerned. Returns 0, or -1 (the
 * world is then freed). The trace has no observer yet: attach observers,
 * then call world_announce(). */
int world_build(struct world *w, const struct scenario *s, uint64_t seed, struct diag *d);
void world_free(struct world *w);

/* The firewall rule a scenario `rule` statement becomes (the TUI rebuilds
 * rule lists with it, to show hit counts beside the rules). */
void world_rule_of(const struct scenario_rule *sr, struct fw_rule *r);

/* A host's techniques against hard NATs and their budgets, into the agent's
 * config: those the scenario does not give stay 0 (the agent's defaults);
 * with port-mapping, the router to ask is `gateway` (the host's default
 * router; port 0: PCP's 5351). */
void world_hard_nat_config(const struct scenario_host *sh, uint32_t gateway,
			   struct agent_config *ac);

/* One-way uplink behaviour from the scenario's `internet` line. */
void world_uplink_config(const struct scenario *s, struct link_config *lc);

/* world6.c: the IPv6 half of world_build (each 0, or -1 with a report). */
/* The IPv6 side of a home router (`ipv6 PREFIX` of a NAT or a router):
 * transit to the internet, its lan's address, its RFC 6092 firewall. */
int world6_home(struct world *w, struct router *r, struct iface *wan, struct iface *lan,
		struct link *uplink, const struct scenario_v6side *v, struct diag *d);
/* An IPv6-only home router, with its inside LAN, attached to the internet. */
int world6_build_router(struct world *w, size_t i, struct diag *d);
/* A host's IPv6 address, gateway and firewall, once it is placed. */
int world6_host(struct world *w, struct world_host *wh, struct diag *d);
/* The coordinator's IPv6 addresses (primary on eth0, alternate on its second
 * interface), routed by the internet. */
int world6_coordinator(struct world *w, struct diag *d);
/* The ip6 filter a rule of family 6 goes into (a host's switches its
 * stateful IPv6 firewall on), or NULL if `name` has none. */
struct filter6 *world6_filter_of(struct world *w, const char *name);
/* Append an ip6 rule to `name`'s ip6 table `f` (world6_filter_of): at a
 * home whose RFC 6092 firewall rejects, before its closing REJECT. */
int world6_append_rule(struct world *w, const char *name, struct filter6 *f,
		       const struct fw_rule *r);
/* The internet's side of a new uplink for an element without IPv4. */
struct iface *world6_internet_iface(struct world *w);

/* Emit the topology records (TRACE_NODE, TRACE_LINK). */
void world_announce(struct world *w);

struct world_host *world_find_host(struct world *w, const char *name);
struct world_nat *world_find_nat(struct world *w, const char *name);
struct world_router *world_find_router(struct world *w, const char *name);
/* The trace node name of a scenario name (hosts, NATs, the coordinator, "internet"). */
struct node *world_find_node(struct world *w, const char *name);
/* The link of a host, NAT or the coordinator: its own uplink (*ifc NULL), or
 * the LAN it sits on and its attachment there (*ifc). False if no such name. */
bool world_element_link(struct world *w, const char *name, struct link **l, struct iface **ifc);
/* Cut or restore the link of a host, NAT or the coordinator. Returns 0 or -1. */
int world_set_link_up(struct world *w, const char *name, bool up);

#endif
