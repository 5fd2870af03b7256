/*
 * ping6.c - ping -6 in a simulated world: see ping6.h.
 */
#include "app/world/ping6.h"

#include <stdio.h>
#include <stdlib.h>

#include "sim/engine.h"
#include "sim/rng.h"

struct ping6 {
	struct host *h;
	struct ip6_addr dst;
	struct ping_options opt;
	uint16_t id;
	int sent;
};

struct ping6_apps {
	struct net *net;
	struct ping6 **pings;
	size_t n, cap;
};

struct ping6_apps *ping6_apps_new(struct net *net)
{
	struct ping6_apps *a = calloc(1, sizeof(*a));

	if (a)
		a->net = net;
	return a;
}

void ping6_apps_free(struct ping6_apps *apps)
{
	if (!apps)
		return;
	for (size_t i = 0; i < apps->n; i++)
		free(apps->pings[i]);
	free(apps->pings);
	free(apps);
}

static void ping6_send(struct engine *e, void *arg)
{
	struct ping6 *p = arg;
	int seq = ++p->sent;

	host_send_echo6(p->h, &p->dst, p->id, (uint16_t)seq, (uint8_t)p->opt.ttl,
			(size_t)p->opt.size);
	if (seq < p->opt.count)
		engine_schedule_after(e, p->opt.interval_ns, ping6_send, p);
}

int ping6_start(struct ping6_apps *apps, struct host *h, const struct ip6_addr *dst,
		const struct ping_options *o)
{
	struct ping6 *p = calloc(1, sizeof(*p));
	char stream[96];
	struct rng r;

	if (!p)
		return -1;
	if (apps->n == apps->cap) {
		size_t cap = apps->cap ? apps->cap * 2 : 4;
		struct ping6 **g = realloc(apps->pings, cap * sizeof(*g));
		if (!g) {
			free(p);
			return -1;
		}
		apps->pings = g;
		apps->cap = cap;
	}
	apps->pings[apps->n++] = p;
	p->h = h;
	p->dst = *dst;
	p->opt = *o;
	/* ping's identifier is its process id: drawn per ping from the host's
	 * own stream, as icmpapp.c draws the IPv4 one, so runs repeat. */
	snprintf(stream, sizeof(stream), "ping6:%s:%zu", host_node(h)->name, apps->n);
	net_rng(apps->net, stream, &r);
	p->id = (uint16_t)(1 + rng_below(&r, 65535));
	ping6_send(net_engine(apps->net), p);
	return 0;
}
