/*
 * bgtraffic.c - background traffic: N new UDP flows a second (bgtraffic.h).
 */
#include "app/world/bgtraffic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/endpoint.h"
#include "sim/engine.h"
#include "sim/trace.h"

#define BG_MAX_PAYLOAD 1472  /* one datagram in a 1500-byte packet */
#define BG_MAX_PAYLOAD6 1452 /* the same under a 40-byte IPv6 header */

struct bg_prog {
	struct bg_traffic *bg;
	struct host *h;
	struct endpoint dst;
	bool is6; /* to dst6 over IPv6 instead */
	struct endpoint6 dst6;
	char dst_name[64];
	struct bg_options opt;
	int64_t start;
	uint64_t flows, next; /* flows to open, the next one's number */
	uint64_t sent, no_port;
	uint16_t first_port, last_port;
};

struct bg_traffic {
	struct net *net;
	struct bg_prog **progs;
	size_t n_progs;
};

struct bg_traffic *bg_traffic_new(struct net *net)
{
	struct bg_traffic *bg = calloc(1, sizeof(*bg));

	if (bg != NULL)
		bg->net = net;
	return bg;
}

void bg_traffic_free(struct bg_traffic *bg)
{
	if (bg == NULL)
		return;
	for (size_t i = 0; i < bg->n_progs; i++)
		free(bg->progs[i]);
	free(bg->progs);
	free(bg);
}

static uint64_t flows_of(const struct bg_options *opt)
{
	if (opt->rate <= 0 || opt->duration_ns <= 0)
		return 0;
	return ((uint64_t)opt->duration_ns * (uint64_t)opt->rate + SIM_S(1) - 1) / SIM_S(1);
}

/* Flow k starts k/rate seconds after the start, exactly (no drift). */
static int64_t flow_time(const struct bg_prog *p, uint64_t k)
{
	return p->start + (int64_t)(k * (uint64_t)SIM_S(1) / (uint64_t)p->opt.rate);
}

int64_t bg_traffic_duration(const struct bg_options *opt)
{
	uint64_t n = flows_of(opt);

	return n ? (int64_t)((n - 1) * (uint64_t)SIM_S(1) / (uint64_t)opt->rate) : 0;
}

static void say_done(struct bg_prog *p)
{
	struct trace *t = net_trace(p->bg->net);
	struct trace_record r = {.kind = TRACE_APP};
	char text[300], failed[96] = "";

	if (!trace_active(t))
		return;
	if (p->no_port)
		snprintf(failed, sizeof(failed), "; %llu found no free port",
			 (unsigned long long)p->no_port);
	if (p->sent)
		snprintf(text, sizeof(text),
			 "ends after %llu new flow%s to %s, the first from port %u, the last "
			 "from port %u%s",
			 (unsigned long long)p->sent, p->sent == 1 ? "" : "s", p->dst_name,
			 p->first_port, p->last_port, failed);
	else
		snprintf(text, sizeof(text), "ends without a flow to %s%s", p->dst_name, failed);
	r.u.app.node = host_node(p->h)->name;
	r.u.app.app = "background";
	r.u.app.event = "done";
	r.u.app.text = text;
	trace_emit(t, &r);
}

/* One flow: a new socket, one datagram, close (the socket's port is free
 * again; the NAT's mapping stays until it times out). */
static void open_flow(struct bg_prog *p)
{
	static const uint8_t zeros[BG_MAX_PAYLOAD];
	struct host_socket *s =
	    p->is6 ? host_udp_bind6(p->h, NULL, 0, NULL, NULL) : host_udp_bind(p->h, 0, NULL, NULL);

	if (s == NULL) {
		p->no_port++;
		return;
	}
	uint16_t port = p->is6 ? host_socket_local6(s).port : host_socket_local(s).port;
	if (p->is6)
		host_udp_sendto6(s, &p->dst6, zeros, (size_t)p->opt.size);
	else
		host_udp_sendto(s, &p->dst, zeros, (size_t)p->opt.size);
	host_udp_close(s);
	if (p->sent++ == 0)
		p->first_port = port;
	p->last_port = port;
}

static void flow_due(struct engine *e, void *arg)
{
	struct bg_prog *p = arg;

	open_flow(p);
	if (++p->next < p->flows) {
		engine_schedule_at(e, flow_time(p, p->next), flow_due, p);
		return;
	}
	say_done(p);
}

static struct bg_prog *add_prog(struct bg_traffic *bg)
{
	struct bg_prog *p = calloc(1, sizeof(*p));
	struct bg_prog **grown = realloc(bg->progs, (bg->n_progs + 1) * sizeof(*grown));

	if (grown != NULL)
		bg->progs = grown;
	if (p == NULL || grown == NULL) {
		free(p);
		return NULL;
	}
	bg->progs[bg->n_progs++] = p;
	return p;
}

int bg_traffic_start6(struct bg_traffic *bg, struct host *h, const struct endpoint6 *dst,
		      const char *dst_name, struct host *sink, const struct bg_options *opt)
{
	struct engine *e = net_engine(bg->net);
	struct bg_prog *p = add_prog(bg);

	if (p == NULL)
		return -1;
	*p = (struct bg_prog){.bg = bg, .h = h, .is6 = true, .dst6 = *dst, .opt = *opt};
	p->start = engine_now(e);
	if (p->opt.size < 0 || p->opt.size > BG_MAX_PAYLOAD6)
		p->opt.size = 0;
	snprintf(p->dst_name, sizeof(p->dst_name), "%s", dst_name);
	p->flows = flows_of(opt);
	if (sink != NULL) /* as bg_traffic_start's sink, over IPv6 */
		host_udp_bind6(sink, NULL, dst->port, NULL, NULL);
	if (p->flows == 0) {
		say_done(p);
		return 0;
	}
	flow_due(e, p);
	return 0;
}

int bg_traffic_start(struct bg_traffic *bg, struct host *h, const struct endpoint *dst,
		     const char *dst_name, struct host *sink, const struct bg_options *opt)
{
	struct engine *e = net_engine(bg->net);
	struct bg_prog *p = calloc(1, sizeof(*p));
	struct bg_prog **grown = realloc(bg->progs, (bg->n_progs + 1) * sizeof(*grown));

	if (p == NULL || grown == NULL) {
		free(p);
		if (grown != NULL)
			bg->progs = grown;
		return -1;
	}
	bg->progs = grown;
	bg->progs[bg->n_progs++] = p;
	*p = (struct bg_prog){.bg = bg, .h = h, .dst = *dst, .opt = *opt, .start = engine_now(e)};
	if (p->opt.size < 0 || p->opt.size > BG_MAX_PAYLOAD)
		p->opt.size = 0;
	snprintf(p->dst_name, sizeof(p->dst_name), "%s", dst_name);
	p->flows = flows_of(opt);
	/* A server on every address of the far end, until the world ends (the
	 * last datagrams are still on their way when the last flow starts); a
	 * port already served (an agent, the coordinator, an earlier
	 * background's server) keeps its program. */
	if (sink != NULL)
		host_udp_bind(sink, dst->port, NULL, NULL);
	if (p->flows == 0) {
		say_done(p);
		return 0;
	}
	flow_due(e, p);
	return 0;
}
