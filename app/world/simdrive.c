/*
 * simdrive.c - the simulator's driver loop around the sans-I/O p2p objects.
 * See simdrive.h for the contract.
 */
#include "app/world/simdrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/world/secrets.h"
#include "app/world/simtcp.h"
#include "p2p/agent_speed.h"
#include "p2p/stun.h"
#include "sim/rng.h"

#define SIM_COORD_MAX_SOCKETS 4

/* The timer shared by both kinds of driven object: one engine event at most,
 * armed at `at`. */
struct pump_timer {
	engine_event_id id;
	int64_t at;
	/* The deadline the owner last reported (P2P_NO_DEADLINE: none). Every
	 * call into an agent ends in sim_agent_flush, which asks for it anew, so
	 * a timer that fires reads it here instead of asking the agent again
	 * (bench/README.md, "Issue 13: where the misses are"; the agents' summary
	 * of their peers' timers, install_speed, has since made asking cheap). */
	uint64_t want;
};

/* One of an agent's extra sockets (p2p/agent.h "Extra sockets"). */
struct sim_extra {
	struct sim_agent *sa;
	struct host_socket *sock; /* NULL: not open */
	uint16_t index;		  /* the agent's number for it, 1.. */
};

struct sim_agent {
	struct simdrive *d;
	struct host *host;
	struct host_socket *sock;
	struct host_socket *sock6; /* on a host with an IPv6 address: the agent's IPv6 socket */
	struct sim_extra *extra;   /* extra[k - 1]: socket k; grown on demand */
	size_t n_extra;
	size_t n_open;	    /* extra sockets open now */
	uint32_t local_ip;  /* the address the agent bound (0: any): its extra sockets' */
	struct simtcp *tcp; /* an agent whose transport is TCP: no sock */
	struct agent *agent;
	struct pump_timer timer;
	struct rng rng;
	char name[AGENT_NAME_MAX];
	bool stopped; /* sim_agent_stop: no socket, no timer */
};

struct sim_coord {
	struct simdrive *d;
	struct host *host;
	struct host_socket *socks[SIM_COORD_MAX_SOCKETS];
	size_t n_socks;
	struct host_socket *sock6;    /* on a host with an IPv6 address: the primary port's */
	struct p2p_endpoint primary;  /* where peers reach it over IPv4 ... */
	struct p2p_endpoint primary6; /* ... and over IPv6 (family 0: not) */
	struct simtcp *tcp;	      /* simdrive_coord_listen_tcp: its TCP side */
	struct coord *coord;
	struct pump_timer timer;
	struct rng rng;
};

struct simdrive {
	struct net *net;
	struct sim_agent **agents;
	size_t n_agents, cap_agents;
	struct sim_coord **coords;
	size_t n_coords, cap_coords;
	simdrive_agent_hook agent_hook;
	simdrive_coord_hook coord_hook;
	void *hook_ctx;
	struct secrets *secrets;     /* every agent's shared-secret source */
	struct agent_spares *spares; /* the agents' spare queue arrays (p2p/agent_speed.h) */
};

static void rng_fill_cb(void *ctx, uint8_t *out, size_t len)
{
	rng_fill(ctx, out, len);
}

static int shared_secret_cb(void *ctx, const struct crypto_identity *me,
			    const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			    uint8_t out[CRYPTO_KEY_SIZE])
{
	return secrets_lookup(ctx, me, peer_box_pk, out);
}

/* Every REGISTER an agent signs is a job for the worker, and the
 * coordinator's check of it, later, takes the verdict (app/secrets.h). */
_Static_assert(COORD_REG_BYTES_MAX <= SECRETS_SIG_MSG_MAX, "registrations fit a job");

static void signed_registration_cb(void *ctx, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
				   const uint8_t *msg, size_t len,
				   const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	secrets_expect_signature(ctx, sign_pk, msg, len, sig);
}

static bool verify_cb(void *ctx, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE], const uint8_t *msg,
		      size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	return secrets_verify(ctx, sign_pk, msg, len, sig);
}

static struct p2p_endpoint to_p2p(const struct endpoint *ep)
{
	return (struct p2p_endpoint){.ip = ep->ip, .port = ep->port};
}

static struct endpoint from_p2p(const struct p2p_endpoint *ep)
{
	return (struct endpoint){.ip = ep->ip, .port = ep->port};
}

static struct p2p_endpoint to_p2p6(const struct endpoint6 *ep)
{
	return p2p_endpoint6(ep->ip.b, ep->port);
}

static struct endpoint6 from_p2p6(const struct p2p_endpoint *ep)
{
	struct endpoint6 e = {.port = ep->port};
	memcpy(e.ip.b, ep->ip6, 16);
	return e;
}

/* A datagram out of an agent's or the coordinator's socket of its
 * destination's family (p2p.h: socket 0 is the one of that family). */
static void send_either(struct host_socket *s4, struct host_socket *s6,
			const struct p2p_datagram *dg)
{
	if (p2p_endpoint_is6(&dg->to)) {
		struct endpoint6 to = from_p2p6(&dg->to);
		if (s6 != NULL)
			host_udp_sendto6(s6, &to, dg->buf, dg->len);
	} else if (s4 != NULL) {
		struct endpoint to = from_p2p(&dg->to);
		host_udp_sendto(s4, &to, dg->buf, dg->len);
	}
}

static uint64_t now_of(struct simdrive *d)
{
	return (uint64_t)engine_now(net_engine(d->net));
}

/* Arm `t` for `deadline`: keep an earlier pending event (it re-arms lazily
 * when it fires), replace a later one. */
static void pump_arm(struct simdrive *d, struct pump_timer *t, uint64_t deadline, engine_fn fn,
		     void *arg)
{
	struct engine *e = net_engine(d->net);
	t->want = deadline;
	if (deadline == P2P_NO_DEADLINE || deadline > (uint64_t)INT64_MAX)
		return;
	if (t->id != 0 && t->at <= (int64_t)deadline)
		return;
	if (t->id != 0)
		engine_cancel(e, t->id);
	t->at = (int64_t)deadline;
	t->id = engine_schedule_at(e, t->at, fn, arg);
}

static void emit_app(struct simdrive *d, struct host *h, const char *app, const char *event,
		     const char *peer, const char *text)
{
	struct trace *t = net_trace(d->net);
	if (!trace_active(t))
		return;
	struct trace_record r = {.kind = TRACE_APP};
	r.u.app.node = host_node(h)->name;
	r.u.app.app = app;
	r.u.app.event = event;
	r.u.app.peer = (peer && peer[0]) ? peer : NULL;
	r.u.app.text = text;
	trace_emit(t, &r);
}

/* ---- agents ---- */

static void agent_timer_fired(struct engine *e, void *arg);

static void extra_received(struct host_socket *s, const struct endpoint *from,
			   const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	struct sim_extra *x = ctx;
	struct sim_agent *sa = x->sa;
	struct p2p_endpoint src = to_p2p(from);
	(void)s;
	(void)to;
	agent_input_socket(sa->agent, now_of(sa->d), x->index, &src, payload, len);
	sim_agent_flush(sa);
}

/* Extra socket k, bound on first use to the agent's address and a port the
 * host picks (as bind to port 0 does); NULL on OOM or no free port. */
static struct host_socket *extra_socket(struct sim_agent *sa, uint16_t k)
{
	if (k > AGENT_MAX_SOCKETS)
		return NULL;
	if (k > sa->n_extra) {
		/* Allocated once at the largest size: x is every socket's callback
		 * context, so the array must never move. */
		if (sa->extra == NULL &&
		    (sa->extra = calloc(AGENT_MAX_SOCKETS, sizeof(*sa->extra))) == NULL)
			return NULL;
		for (size_t i = sa->n_extra; i < k; i++)
			sa->extra[i] = (struct sim_extra){sa, NULL, (uint16_t)(i + 1)};
		sa->n_extra = k;
	}
	struct sim_extra *x = &sa->extra[k - 1];
	if (x->sock == NULL) {
		x->sock = host_udp_bind_addr(sa->host, sa->local_ip, 0, extra_received, x);
		if (x->sock != NULL)
			sa->n_open++;
	}
	return x->sock;
}

/* Closes the extra sockets the agent no longer wants (agent.h). */
static void close_unwanted(struct sim_agent *sa)
{
	for (size_t i = 0; i < sa->n_extra && sa->n_open > 0; i++) {
		struct sim_extra *x = &sa->extra[i];
		if (x->sock != NULL && !agent_socket_wanted(sa->agent, x->index)) {
			host_udp_close(x->sock);
			x->sock = NULL;
			sa->n_open--;
		}
	}
}

static void close_extra(struct sim_agent *sa)
{
	for (size_t i = 0; i < sa->n_extra; i++)
		if (sa->extra[i].sock != NULL) {
			host_udp_close(sa->extra[i].sock);
			sa->extra[i].sock = NULL;
		}
	sa->n_open = 0;
}

void sim_agent_flush(struct sim_agent *sa)
{
	struct simdrive *d = sa->d;
	/* On the stack, not shared: a hook may call back into any agent. */
	struct p2p_datagram dg;
	struct p2p_event ev;
	struct p2p_tcp_action act;
	if (sa->stopped) { /* a stopped program sends and says nothing */
		while (agent_pop_datagram(sa->agent, &dg) || agent_pop_event(sa->agent, &ev) ||
		       agent_pop_tcp(sa->agent, &act))
			;
		return;
	}
	while (sa->tcp && agent_pop_tcp(sa->agent, &act))
		simtcp_do(sa->tcp, &act);
	while (agent_pop_datagram(sa->agent, &dg))
		send_either(dg.socket ? extra_socket(sa, dg.socket) : sa->sock, sa->sock6, &dg);
	if (sa->n_open > 0)
		close_unwanted(sa);
	while (agent_pop_event(sa->agent, &ev)) {
		emit_app(d, sa->host, sa->name, agent_event_name(ev.type), ev.peer, ev.text);
		if (d->agent_hook)
			d->agent_hook(sa, &ev, d->hook_ctx);
	}
	pump_arm(d, &sa->timer, agent_next_deadline(sa->agent), agent_timer_fired, sa);
}

void sim_agent_stop(struct sim_agent *sa)
{
	if (sa->stopped)
		return;
	sa->stopped = true;
	if (sa->timer.id)
		engine_cancel(net_engine(sa->d->net), sa->timer.id);
	sa->timer.id = 0;
	host_udp_close(sa->sock);
	sa->sock = NULL;
	host_udp_close(sa->sock6);
	sa->sock6 = NULL;
	close_extra(sa);
	simtcp_close_all(sa->tcp);
}

bool sim_agent_stopped(const struct sim_agent *sa)
{
	return sa->stopped;
}

static void agent_timer_fired(struct engine *e, void *arg)
{
	struct sim_agent *sa = arg;
	(void)e;
	sa->timer.id = 0;
	uint64_t now = now_of(sa->d);
	if (sa->timer.want <= now) /* a timer kept for an earlier deadline fires early */
		agent_tick(sa->agent, now);
	sim_agent_flush(sa);
}

static void agent_received(struct host_socket *s, const struct endpoint *from,
			   const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	struct sim_agent *sa = ctx;
	struct p2p_endpoint src = to_p2p(from);
	(void)s;
	(void)to;
	agent_input(sa->agent, now_of(sa->d), &src, payload, len);
	sim_agent_flush(sa);
}

static void agent_received6(struct host_socket *s, const struct endpoint6 *from,
			    const struct endpoint6 *to, const uint8_t *payload, size_t len,
			    void *ctx)
{
	struct sim_agent *sa = ctx;
	struct p2p_endpoint src = to_p2p6(from);
	(void)s;
	(void)to;
	agent_input(sa->agent, now_of(sa->d), &src, payload, len);
	sim_agent_flush(sa);
}

/* The same from the IPv6 socket (IPV6_RECVERR): an ICMPv6 error. */
static void agent_icmp6_error(struct host_socket *s, const struct host_icmp6_error *err, void *ctx)
{
	struct sim_agent *sa = ctx;
	struct p2p_icmp_error e = {.local = to_p2p6(&err->local),
				   .remote = to_p2p6(&err->remote),
				   .reporter = p2p_endpoint6(err->reporter.b, 0),
				   .type = err->type,
				   .code = err->code};
	(void)s;
	agent_handle_icmp_error(sa->agent, now_of(sa->d), &e);
	sim_agent_flush(sa);
}

/* An ICMP error about one of the agent's datagrams: the socket has
 * IP_RECVERR on, as natsim peer's has (app/net/daemon.c), so the simulated
 * agent hears what the real one would. */
static void agent_icmp_error(struct host_socket *s, const struct host_icmp_error *err, void *ctx)
{
	struct sim_agent *sa = ctx;
	struct p2p_icmp_error e = {.local = to_p2p(&err->local),
				   .remote = to_p2p(&err->remote),
				   .reporter = p2p_endpoint4(err->reporter, 0),
				   .type = err->type,
				   .code = err->code};
	(void)s;
	agent_handle_icmp_error(sa->agent, now_of(sa->d), &e);
	sim_agent_flush(sa);
}

/* ---- agents over TCP: the stack's reports, through app/world/simtcp ---- */

static uint32_t agent_accepted_cb(void *obj, uint64_t now, const struct p2p_endpoint *local,
				  const struct p2p_endpoint *remote)
{
	return agent_tcp_accepted(((struct sim_agent *)obj)->agent, now, local, remote);
}

static int agent_connected_cb(void *obj, uint64_t now, uint32_t conn,
			      const struct p2p_endpoint *local, const struct p2p_endpoint *remote,
			      bool simultaneous)
{
	struct sim_agent *sa = obj;
	return agent_tcp_connected(sa->agent, now, conn, local, remote, simultaneous);
}

static int agent_input_cb(void *obj, uint64_t now, uint32_t conn, const uint8_t *buf, size_t len)
{
	return agent_tcp_input(((struct sim_agent *)obj)->agent, now, conn, buf, len);
}

static void agent_closed_cb(void *obj, uint64_t now, uint32_t conn, enum p2p_tcp_close why)
{
	agent_tcp_closed(((struct sim_agent *)obj)->agent, now, conn, why);
}

static void agent_flush_cb(void *ctx)
{
	sim_agent_flush(ctx);
}

static const struct simtcp_ops agent_tcp_ops = {
    .accepted = agent_accepted_cb,
    .connected = agent_connected_cb,
    .input = agent_input_cb,
    .closed = agent_closed_cb,
    .flush = agent_flush_cb,
};

/* The agent's port is its own choice with TCP (no socket is bound before
 * the agent asks to LISTEN), so port 0 is not allowed. */
static int sim_agent_use_tcp(struct sim_agent *sa, struct host *h, struct agent_config *c)
{
	if (c->local.port == 0)
		return -1;
	if (c->local.ip == 0)
		c->local.ip = host_address(h);
	sa->tcp = simtcp_new(h, &agent_tcp_ops, sa, sa);
	return sa->tcp ? 0 : -1;
}

static int grow(void *arrp, size_t *cap, size_t n)
{
	void ***arr = arrp;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void **na = realloc(*arr, ncap * sizeof(*na));
	if (!na)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static void sim_agent_free(struct sim_agent *sa)
{
	if (!sa)
		return;
	if (sa->timer.id)
		engine_cancel(net_engine(sa->d->net), sa->timer.id);
	host_udp_close(sa->sock);
	host_udp_close(sa->sock6);
	close_extra(sa);
	free(sa->extra);
	simtcp_free(sa->tcp);
	agent_free(sa->agent);
	free(sa);
}

/* Texts go to the trace and to the hook; with neither, nobody reads them. */
static bool event_text_wanted_cb(void *ctx)
{
	const struct simdrive *d = ctx;
	return d->agent_hook != NULL || trace_active(net_trace(d->net));
}

/* The agent's speed layer (p2p/agent_speed.h): what cfg->speed leaves
 * unset, filled from this driver's caches; none in a build without the
 * layer (NATSIM_AGENT_SPEED=OFF), where every agent runs plain. */
static void install_speed(struct simdrive *d, struct agent_config *c, struct agent_speed *speed)
{
#if NATSIM_AGENT_SPEED
	if (c->speed != NULL)
		*speed = *c->speed;
	if (speed->shared_secret == NULL) {
		speed->shared_secret = shared_secret_cb;
		speed->secret_ctx = d->secrets;
	}
	if (speed->signed_registration == NULL) {
		speed->signed_registration = signed_registration_cb;
		speed->sign_ctx = d->secrets;
	}
	if (speed->event_text_wanted == NULL) {
		speed->event_text_wanted = event_text_wanted_cb;
		speed->text_ctx = d;
	}
	if (speed->spares == NULL)
		speed->spares = d->spares;
	speed->summarize_deadlines = true; /* the same timers, without walking every peer */
	c->speed = speed;
#else
	(void)d, (void)speed, (void)shared_secret_cb, (void)signed_registration_cb;
	(void)event_text_wanted_cb;
	c->speed = NULL;
#endif
}

/* The coordinator that serves IPv4 endpoint `primary`, if it has an IPv6
 * socket too: its IPv6 endpoint; else family 0. */
static struct p2p_endpoint coord_ipv6_of(const struct simdrive *d,
					 const struct p2p_endpoint *primary)
{
	for (size_t i = 0; i < d->n_coords; i++)
		if (p2p_endpoint_equal(&d->coords[i]->primary, primary))
			return d->coords[i]->primary6;
	return (struct p2p_endpoint){.family = P2P_FAMILY_IPV4};
}

/* On a host with an IPv6 address, the agent gets an IPv6 socket on its
 * IPv4 port (v6only: Linux lets both hold it) and the coordinator's IPv6
 * endpoint, unless its config names them (agent.h "Dual stack"). 0, or -1
 * if the port is taken. */
static int sim_agent_use_ipv6(struct sim_agent *sa, struct host *h, struct agent_config *c)
{
	struct ip6_addr a6;

	if (!p2p_endpoint_is6(&c->coordinator6))
		c->coordinator6 = coord_ipv6_of(sa->d, &c->coordinator);
	if (p2p_endpoint_is6(&c->local6) || !p2p_endpoint_is6(&c->coordinator6) ||
	    !host_address6(h, &a6))
		return 0;
	sa->sock6 = host_udp_bind6(h, &a6, c->local.port, agent_received6, sa);
	if (sa->sock6 == NULL)
		return -1;
	host_udp_set_error6_fn(sa->sock6, agent_icmp6_error);
	struct endpoint6 bound = host_socket_local6(sa->sock6);
	c->local6 = to_p2p6(&bound);
	return 0;
}

struct sim_agent *simdrive_add_agent(struct simdrive *d, struct host *h,
				     const struct agent_config *cfg)
{
	if (grow(&d->agents, &d->cap_agents, d->n_agents) < 0)
		return NULL;
	struct sim_agent *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->d = d;
	sa->host = h;
	snprintf(sa->name, sizeof(sa->name), "%s", cfg->name);
	char stream[96];
	snprintf(stream, sizeof(stream), "agent:%s", cfg->name);
	net_rng(d->net, stream, &sa->rng);

	struct agent_config c = *cfg;
	if (cfg->transport == AGENT_TRANSPORT_TCP) {
		if (sim_agent_use_tcp(sa, h, &c) < 0)
			goto fail;
	} else {
		sa->sock =
		    host_udp_bind_addr(h, cfg->local.ip, cfg->local.port, agent_received, sa);
		if (!sa->sock)
			goto fail;
		host_udp_set_error_fn(sa->sock, agent_icmp_error);
		struct endpoint bound = host_socket_local(sa->sock);
		sa->local_ip = cfg->local.ip;
		if (bound.ip == 0)
			bound.ip = host_address(h);
		c.local = to_p2p(&bound);
		if (sim_agent_use_ipv6(sa, h, &c) < 0)
			goto fail;
	}
	c.random = (struct p2p_random){.fill = rng_fill_cb, .ctx = &sa->rng};
	struct agent_speed speed = {0};
	install_speed(d, &c, &speed);
	uint8_t seed[CRYPTO_SEED_SIZE];
	if (!c.key_seed && !(c.speed && c.speed->identity)) {
		simdrive_key_seed(d, cfg->name, seed);
		c.key_seed = seed;
	}
	sa->agent = agent_new(&c);
	if (!sa->agent)
		goto fail;
	d->agents[d->n_agents++] = sa;
	return sa;
fail:
	sim_agent_free(sa);
	return NULL;
}

void simdrive_key_seed(const struct simdrive *d, const char *name, uint8_t seed[CRYPTO_SEED_SIZE])
{
	char stream[96];
	struct rng keys;

	snprintf(stream, sizeof(stream), "key:%s", name);
	net_rng(d->net, stream, &keys);
	rng_fill(&keys, seed, CRYPTO_SEED_SIZE);
}

struct agent *sim_agent_agent(struct sim_agent *sa)
{
	return sa->agent;
}

struct host *sim_agent_host(struct sim_agent *sa)
{
	return sa->host;
}

const char *sim_agent_name(const struct sim_agent *sa)
{
	return sa->name;
}

struct sim_agent *simdrive_find_agent(struct simdrive *d, const char *name)
{
	for (size_t i = 0; i < d->n_agents; i++)
		if (strcmp(d->agents[i]->name, name) == 0)
			return d->agents[i];
	return NULL;
}

size_t simdrive_agent_count(const struct simdrive *d)
{
	return d->n_agents;
}

struct sim_agent *simdrive_agent_at(struct simdrive *d, size_t i)
{
	return i < d->n_agents ? d->agents[i] : NULL;
}

/* ---- coordinators ---- */

static void coord_timer_fired(struct engine *e, void *arg);

static struct host_socket *coord_socket_for(struct sim_coord *sc, const struct p2p_endpoint *from)
{
	if (p2p_endpoint_is6(from))
		return sc->sock6;
	for (size_t i = 0; i < sc->n_socks; i++) {
		struct endpoint l = host_socket_local(sc->socks[i]);
		if (l.ip == from->ip && l.port == from->port)
			return sc->socks[i];
	}
	return sc->socks[0];
}

static void sim_coord_flush(struct sim_coord *sc)
{
	struct simdrive *d = sc->d;
	struct p2p_datagram dg;
	struct coord_event ev;
	struct p2p_tcp_action act;
	while (coord_pop_tcp(sc->coord, &act))
		if (sc->tcp)
			simtcp_do(sc->tcp, &act);
	while (coord_pop_datagram(sc->coord, &dg))
		send_either(coord_socket_for(sc, &dg.from), sc->sock6, &dg);
	while (coord_pop_event(sc->coord, &ev)) {
		emit_app(d, sc->host, "coordinator", coord_event_name(ev.type), ev.name, ev.text);
		if (d->coord_hook)
			d->coord_hook(sc, &ev, d->hook_ctx);
	}
	pump_arm(d, &sc->timer, coord_next_deadline(sc->coord), coord_timer_fired, sc);
}

static void coord_timer_fired(struct engine *e, void *arg)
{
	struct sim_coord *sc = arg;
	(void)e;
	sc->timer.id = 0;
	uint64_t now = now_of(sc->d);
	if (coord_next_deadline(sc->coord) <= now)
		coord_tick(sc->coord, now);
	sim_coord_flush(sc);
}

static void coord_received(struct host_socket *s, const struct endpoint *from,
			   const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	struct sim_coord *sc = ctx;
	struct p2p_endpoint src = to_p2p(from);
	struct endpoint l = host_socket_local(s);
	struct p2p_endpoint local = {.ip = l.ip ? l.ip : to->ip, .port = l.port};
	coord_input(sc->coord, now_of(sc->d), &local, &src, payload, len);
	sim_coord_flush(sc);
}

static void coord_received6(struct host_socket *s, const struct endpoint6 *from,
			    const struct endpoint6 *to, const uint8_t *payload, size_t len,
			    void *ctx)
{
	struct sim_coord *sc = ctx;
	struct p2p_endpoint src = to_p2p6(from), local = sc->primary6;
	(void)s;
	(void)to;
	coord_input(sc->coord, now_of(sc->d), &local, &src, payload, len);
	sim_coord_flush(sc);
}

/* On a host with an IPv6 address, the coordinator listens there too, on
 * its primary port: dual-stack peers register over each family. */
static int coord_bind6(struct sim_coord *sc, uint16_t port)
{
	struct ip6_addr a6;

	if (!host_address6(sc->host, &a6))
		return 0;
	sc->sock6 = host_udp_bind6(sc->host, &a6, port, coord_received6, sc);
	if (sc->sock6 == NULL)
		return -1;
	sc->primary6 = p2p_endpoint6(a6.b, port);
	return 0;
}

static void sim_coord_free(struct sim_coord *sc)
{
	if (!sc)
		return;
	if (sc->timer.id)
		engine_cancel(net_engine(sc->d->net), sc->timer.id);
	for (size_t i = 0; i < sc->n_socks; i++)
		host_udp_close(sc->socks[i]);
	host_udp_close(sc->sock6);
	simtcp_free(sc->tcp);
	coord_free(sc->coord);
	free(sc);
}

static int coord_bind(struct sim_coord *sc, uint32_t ip, uint16_t port)
{
	struct host_socket *s = host_udp_bind_addr(sc->host, ip, port, coord_received, sc);
	if (!s)
		return -1;
	sc->socks[sc->n_socks++] = s;
	return 0;
}

struct sim_coord *simdrive_add_coord(struct simdrive *d, struct host *h,
				     const struct coord_config *cfg)
{
	if (grow(&d->coords, &d->cap_coords, d->n_coords) < 0)
		return NULL;
	struct sim_coord *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->d = d;
	sc->host = h;
	net_rng(d->net, "coordinator", &sc->rng);
	const struct p2p_endpoint *p = &cfg->primary, *a = &cfg->alternate;
	if (coord_bind(sc, p->ip, p->port) < 0)
		goto fail;
	/* RFC 5780 section 4.2: the server listens on every combination of its
	 * two addresses and two ports. */
	if (cfg->has_alternate &&
	    (coord_bind(sc, p->ip, a->port) < 0 || coord_bind(sc, a->ip, p->port) < 0 ||
	     coord_bind(sc, a->ip, a->port) < 0))
		goto fail;
	sc->primary = *p;
	if (coord_bind6(sc, p->port) < 0)
		goto fail;
	struct coord_config c = *cfg;
	c.random = (struct p2p_random){.fill = rng_fill_cb, .ctx = &sc->rng};
	if (c.verify == NULL) {
		c.verify = verify_cb;
		c.verify_ctx = d->secrets;
	}
	sc->coord = coord_new(&c);
	if (!sc->coord)
		goto fail;
	d->coords[d->n_coords++] = sc;
	return sc;
fail:
	sim_coord_free(sc);
	return NULL;
}

struct coord *sim_coord_coord(struct sim_coord *sc)
{
	return sc->coord;
}

static uint32_t coord_accepted_cb(void *obj, uint64_t now, const struct p2p_endpoint *local,
				  const struct p2p_endpoint *remote)
{
	return coord_tcp_accepted(((struct sim_coord *)obj)->coord, now, local, remote);
}

static int coord_input_cb(void *obj, uint64_t now, uint32_t conn, const uint8_t *buf, size_t len)
{
	return coord_tcp_input(((struct sim_coord *)obj)->coord, now, conn, buf, len);
}

static void coord_closed_cb(void *obj, uint64_t now, uint32_t conn, enum p2p_tcp_close why)
{
	coord_tcp_closed(((struct sim_coord *)obj)->coord, now, conn, why);
}

static void coord_flush_cb(void *ctx)
{
	sim_coord_flush(ctx);
}

static const struct simtcp_ops coord_tcp_ops = {
    .accepted = coord_accepted_cb,
    .input = coord_input_cb,
    .closed = coord_closed_cb,
    .flush = coord_flush_cb,
};

int simdrive_coord_listen_tcp(struct sim_coord *sc)
{
	if (sc->tcp)
		return 0;
	sc->tcp = simtcp_new(sc->host, &coord_tcp_ops, sc, sc);
	if (!sc->tcp)
		return -1;
	for (size_t i = 0; i < sc->n_socks; i++) {
		struct endpoint l = host_socket_local(sc->socks[i]);
		if (simtcp_listen(sc->tcp, l.ip, l.port) < 0)
			return -1;
	}
	return 0;
}

/* ---- the driver ---- */

struct simdrive *simdrive_new(struct net *net)
{
	struct simdrive *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->net = net;
	d->secrets = secrets_new();
#if NATSIM_AGENT_SPEED
	d->spares = agent_spares_new();
#endif
	if (!d->secrets || (NATSIM_AGENT_SPEED && !d->spares)) {
		secrets_free(d->secrets);
		free(d);
		return NULL;
	}
	return d;
}

void simdrive_free(struct simdrive *d)
{
	if (!d)
		return;
	/* First: the worker reads the agents' identities (and nobody may hint
	 * or verify a signature after). */
	secrets_free(d->secrets);
	for (size_t i = 0; i < d->n_agents; i++)
		sim_agent_free(d->agents[i]);
	for (size_t i = 0; i < d->n_coords; i++)
		sim_coord_free(d->coords[i]);
	free(d->agents);
	free(d->coords);
#if NATSIM_AGENT_SPEED
	agent_spares_free(d->spares); /* after the agents, which give arrays back */
#endif
	free(d);
}

void simdrive_set_hooks(struct simdrive *d, simdrive_agent_hook agent_hook,
			simdrive_coord_hook coord_hook, void *ctx)
{
	d->agent_hook = agent_hook;
	d->coord_hook = coord_hook;
	d->hook_ctx = ctx;
}

int simdrive_expect_session(struct simdrive *d, struct sim_agent *a, struct sim_agent *b)
{
	/* The identities live as long as the agents, which outlive the cache
	 * (simdrive_free frees it first). */
	return secrets_expect(d->secrets, agent_identity(a->agent),
			      agent_identity(b->agent)->box_pk);
}

int simdrive_start_precompute(struct simdrive *d)
{
	return secrets_start(d->secrets);
}

void simdrive_secret_stats(const struct simdrive *d, struct secrets_stats *out)
{
	secrets_get_stats(d->secrets, out);
}

int simdrive_payload_summary(const uint8_t *payload, size_t len, char *out, size_t size)
{
	if (!stun_is_message(payload, len))
		return 0;
	int n = stun_summary(payload, len, out, size);
	return n > 0 ? n : 0;
}
