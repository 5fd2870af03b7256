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
	struct link *uplink;   /* the link its wan attaches to */
};

struct world_host {
	const struct scenario_host *spec;
	struct host *host;
	struct link *uplink;   /* its own uplink (public), or its NAT's LAN */
	uint32_t gateway;      /* its default router: its NAT's inside address, or
				  the internet's side of its uplink */
	struct sim_agent *agent;
};

struct world {
	const struct scenario *scn;
	struct net *net;
	struct simdrive *drive;
	struct router *internet;
	struct world_nat *nats;     /* parallel to scn->nats */
	struct world_host *hosts;   /* parallel to scn->hosts */
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

/* Emit the topology records (TRACE_NODE, TRACE_LINK). */
void world_announce(struct world *w);

struct world_host *world_find_host(struct world *w, const char *name);
struct world_nat *world_find_nat(struct world *w, const char *name);
/* The trace node name of a scenario name (hosts, NATs, the coordinator, "internet"). */
struct node *world_find_node(struct world *w, const char *name);
/* The link of a host, NAT or the coordinator: its own uplink (*ifc NULL), or
 * the LAN it sits on and its attachment there (*ifc). False if no such name. */
bool world_element_link(struct world *w, const char *name, struct link **l, struct iface **ifc);
/* Cut or restore the link of a host, NAT or the coordinator. Returns 0 or -1. */
int world_set_link_up(struct world *w, const char *name, bool up);

#endif
