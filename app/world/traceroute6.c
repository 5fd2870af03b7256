/*
 * traceroute6.c - traceroute -6 in a simulated world: see traceroute6.h.
 *
 * Its words are Linux traceroute 2.1's with -6 -n, as checked against the
 * real tool in a network namespace:
 *   traceroute to 2001:db8:2::2 (2001:db8:2::2), 30 hops max, 80 byte packets
 *    1  2001:db8:1::1  0.080 ms  0.006 ms  0.005 ms
 * (80 bytes: the 40-byte IPv6 header, 8 of UDP, 32 of payload).
 */
#include "app/world/traceroute6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/world/icmpapp.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/trace.h"

#define PAYLOAD 32 /* traceroute's default: 80-byte packets over IPv6 */
#define LINE_MAX_TEXT 240

struct traceroute6 {
	struct traceroute6_apps *apps;
	struct host *h;
	struct ip6_addr dst;
	int max_hops, hop;
	uint16_t next_port;
	struct traceroute_probe probes[TRACEROUTE_PROBES];
	engine_event_id timeout;
	bool done;
};

struct traceroute6_apps {
	struct net *net;
	struct traceroute6 **traces;
	size_t n, cap;
};

struct traceroute6_apps *traceroute6_apps_new(struct net *net)
{
	struct traceroute6_apps *a = calloc(1, sizeof(*a));

	if (a)
		a->net = net;
	return a;
}

void traceroute6_apps_free(struct traceroute6_apps *apps)
{
	if (!apps)
		return;
	for (size_t i = 0; i < apps->n; i++)
		free(apps->traces[i]);
	free(apps->traces);
	free(apps);
}

static struct engine *engine_of(const struct traceroute6 *t)
{
	return net_engine(t->apps->net);
}

static void say(struct traceroute6 *t, const char *event, const char *text)
{
	struct trace *tr = net_trace(t->apps->net);
	struct trace_record r = {.kind = TRACE_APP};

	if (!trace_active(tr))
		return;
	r.u.app.node = host_node(t->h)->name;
	r.u.app.app = "traceroute";
	r.u.app.event = event;
	r.u.app.text = text;
	trace_emit(tr, &r);
}

static void hop_timed_out(struct engine *e, void *arg);
static void on_probe_error(struct host_socket *s, const struct host_icmp6_error *err, void *ctx);

static void on_probe_data(struct host_socket *s, const struct endpoint6 *from,
			  const struct endpoint6 *to, const uint8_t *payload, size_t len, void *ctx)
{
	(void)s, (void)from, (void)to, (void)payload, (void)len, (void)ctx;
}

/* The hop's probes, each from a new socket on an ephemeral port; a host
 * with no port left sends fewer (they show as '*'). */
static void send_hop(struct traceroute6 *t)
{
	static const uint8_t payload[PAYLOAD];

	for (int k = 0; k < TRACEROUTE_PROBES; k++) {
		struct traceroute_probe *pr = &t->probes[k];
		struct endpoint6 to = {t->dst, t->next_port++};

		*pr =
		    (struct traceroute_probe){.port = to.port, .sent_at = engine_now(engine_of(t))};
		pr->sock = host_udp_bind6(t->h, NULL, 0, on_probe_data, t);
		if (pr->sock == NULL)
			continue;
		host_udp_set_error6_fn(pr->sock, on_probe_error);
		host_udp_sendto6_hop_limit(pr->sock, &to, payload, sizeof(payload),
					   (uint8_t)t->hop);
	}
	t->timeout = engine_schedule_after(engine_of(t), TRACEROUTE_WAIT, hop_timed_out, t);
}

/* " 1  2001:db8:1::1  0.080 ms  0.006 ms  *": the address again only when
 * another router answers; traceroute -n prints it as getnameinfo
 * NI_NUMERICHOST does, glibc's inet_ntop. True if the trace ends here. */
static bool hop_line(struct traceroute6 *t, char *text, size_t size)
{
	size_t used = (size_t)snprintf(text, size, "%2d ", t->hop);
	const struct ip6_addr *shown = NULL;
	bool end = false;
	char a[48], mark[24];

	for (int k = 0; k < TRACEROUTE_PROBES && used < size; k++) {
		const struct traceroute_probe *pr = &t->probes[k];

		if (!pr->answered) {
			used += (size_t)snprintf(text + used, size - used, " *");
			continue;
		}
		if (!shown || !ip6_equal(shown, &pr->from6))
			used += (size_t)snprintf(text + used, size - used, " %s",
						 ip6_format_as_inet_ntop(&pr->from6, a, sizeof(a)));
		shown = &pr->from6;
		end |= traceroute_icmp_res(6, pr->type, pr->code, pr->info, mark, sizeof(mark));
		long us = (long)((pr->rtt + 500) / 1000); /* print_probe: "  %.3f ms" */
		used += (size_t)snprintf(text + used, size - used, "  %ld.%03ld ms%s", us / 1000,
					 us % 1000, mark);
	}
	return end;
}

static void finish_hop(struct traceroute6 *t)
{
	char text[LINE_MAX_TEXT];
	bool end = hop_line(t, text, sizeof(text));

	say(t, "hop", text);
	traceroute_probes_close(t->probes);
	if (end || t->hop >= t->max_hops) {
		t->done = true;
		return;
	}
	t->hop++;
	send_hop(t);
}

static void hop_timed_out(struct engine *e, void *arg)
{
	(void)e;
	finish_hop(arg);
}

static void on_probe_error(struct host_socket *s, const struct host_icmp6_error *err, void *ctx)
{
	struct traceroute6 *t = ctx;
	struct traceroute_probe *pr;
	bool all;

	if (t->done || !ip6_equal(&err->remote.ip, &t->dst))
		return;
	pr = traceroute_probe_answer(t->probes, s, err->remote.port, engine_now(engine_of(t)),
				     err->type, err->code, &all);
	if (pr != NULL) {
		pr->from6 = err->reporter;
		pr->info = err->param;
	}
	if (all) {
		engine_cancel(engine_of(t), t->timeout);
		finish_hop(t);
	}
}

static struct traceroute6 *add_trace(struct traceroute6_apps *apps)
{
	struct traceroute6 *t = calloc(1, sizeof(*t));

	if (t && apps->n == apps->cap) {
		size_t cap = apps->cap ? apps->cap * 2 : 4;
		struct traceroute6 **g = realloc(apps->traces, cap * sizeof(*g));
		if (!g) {
			free(t);
			return NULL;
		}
		apps->traces = g;
		apps->cap = cap;
	}
	if (t)
		apps->traces[apps->n++] = t;
	return t;
}

int traceroute6_start(struct traceroute6_apps *apps, struct host *h, const struct ip6_addr *dst,
		      const char *dst_name, int max_hops)
{
	struct traceroute6 *t = add_trace(apps);
	char text[LINE_MAX_TEXT], a[48];

	if (!t)
		return -1;
	t->apps = apps;
	t->h = h;
	t->dst = *dst;
	t->max_hops = max_hops;
	t->hop = 1;
	t->next_port = TRACEROUTE_FIRST_PORT;
	snprintf(text, sizeof(text), "traceroute to %s (%s), %d hops max, %d byte packets",
		 dst_name, ip6_format_as_inet_ntop(dst, a, sizeof(a)), max_hops,
		 IPV6_HEADER_SIZE + UDP_HEADER_SIZE + PAYLOAD);
	say(t, "start", text);
	send_hop(t);
	return 0;
}
