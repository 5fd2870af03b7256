/*
 * icmpapp.c - ping and traceroute on simulated hosts (icmpapp.h).
 *
 * Their words follow iputils ping (reply lines, "From X icmp_seq=N
 * Destination Port Unreachable", the statistics) and Linux traceroute -n
 * (" 2  203.0.113.1  20.512 ms  20.498 ms  *"), so that a student who has
 * seen the real programs recognises them.
 */
#include "app/world/icmpapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/trace.h"

#define TRACEROUTE_PAYLOAD 32 /* 60-byte probes, as traceroute sends */
#define LINE_MAX_TEXT 200

struct ping {
	struct icmp_apps *apps;
	struct host *h;
	uint32_t dst;
	char dst_name[64];
	struct ping_options opt;
	uint16_t id;
	int sent, received, errors;
	int64_t *sent_at; /* per sequence number, 1-based as ping counts */
	/* iputils' round-trip statistics, in microseconds as it keeps them. */
	long long tmin, tmax, tsum, tsum2;
	bool done;
	engine_event_id linger;
};

struct traceroute {
	struct icmp_apps *apps;
	struct host *h;
	uint32_t dst;
	int max_hops, hop;
	uint16_t next_port;
	struct traceroute_probe probes[TRACEROUTE_PROBES];
	engine_event_id timeout;
	bool done;
};

struct icmp_apps {
	struct net *net;
	struct ping **pings;
	size_t n_pings;
	struct traceroute **traces;
	size_t n_traces;
};

struct icmp_apps *icmp_apps_new(struct net *net)
{
	struct icmp_apps *apps = calloc(1, sizeof(*apps));

	if (apps != NULL)
		apps->net = net;
	return apps;
}

void icmp_apps_free(struct icmp_apps *apps)
{
	if (apps == NULL)
		return;
	for (size_t i = 0; i < apps->n_pings; i++) {
		free(apps->pings[i]->sent_at);
		free(apps->pings[i]);
	}
	for (size_t i = 0; i < apps->n_traces; i++)
		free(apps->traces[i]);
	free(apps->pings);
	free(apps->traces);
	free(apps);
}

static int64_t now_of(const struct icmp_apps *apps)
{
	return engine_now(net_engine(apps->net));
}

static void say(struct icmp_apps *apps, struct host *h, const char *app, const char *event,
		const char *text)
{
	struct trace *t = net_trace(apps->net);
	struct trace_record r = {.kind = TRACE_APP};

	if (!trace_active(t))
		return;
	r.u.app.node = host_node(h)->name;
	r.u.app.app = app;
	r.u.app.event = event;
	r.u.app.text = text;
	trace_emit(t, &r);
}

/* iputils' rounding of a round-trip time (ping_common.c). */
static void rtt_words(int64_t ns, char *out, size_t size)
{
	long us = (long)(ns / 1000);

	if (us >= 100000 - 50)
		snprintf(out, size, "%ld ms", (us + 500) / 1000);
	else if (us >= 10000 - 5)
		snprintf(out, size, "%ld.%01ld ms", (us + 50) / 1000, ((us + 50) % 1000) / 100);
	else if (us >= 1000)
		snprintf(out, size, "%ld.%02ld ms", (us + 5) / 1000, ((us + 5) % 1000) / 10);
	else
		snprintf(out, size, "%ld.%03ld ms", us / 1000, us % 1000);
}

/* Linux traceroute's round-trip time (print_probe: "  %.3f ms", in
 * microseconds, whatever its size; ping rounds to 3 figures instead). */
static void traceroute_rtt_words(int64_t ns, char *out, size_t size)
{
	long us = (long)((ns + 500) / 1000);

	snprintf(out, size, "%ld.%03ld ms", us / 1000, us % 1000);
}

/* How iputils ping names an error (ping4_print_icmp). */
static const char *ping_error_words(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
	    [0] = "Destination Net Unreachable",
	    [1] = "Destination Host Unreachable",
	    [2] = "Destination Protocol Unreachable",
	    [3] = "Destination Port Unreachable",
	    [9] = "Destination Net Prohibited",
	    [10] = "Destination Host Prohibited",
	    [13] = "Packet filtered",
	};

	if (type == ICMP_DEST_UNREACH && code < sizeof(unreach) / sizeof(unreach[0]) &&
	    unreach[code] != NULL)
		return unreach[code];
	if (type == ICMP_TIME_EXCEEDED)
		return "Time to live exceeded";
	return "an ICMP error";
}

/* ---- ping ---- */

static void ping_send(struct engine *e, void *arg);

/* iputils' llsqrt: the integer square root, by Newton's method. */
static long long llsqrt(long long a)
{
	long long prev = ~(1LL << 62), x = a;

	if (x > 0) {
		while (x < prev) {
			prev = x;
			x = (x + a / x) / 2;
		}
	}
	return x;
}

/* iputils finish()'s last line: "rtt min/avg/max/mdev = 41.000/41.000/
 * 41.000/0.000 ms" (microseconds; its computation order, for the same
 * rounding). */
static void ping_rtt_summary(struct ping *p)
{
	char text[LINE_MAX_TEXT];
	long long n = p->received, avg = p->tsum / n, var, mdev;

	var = p->tsum < 0x7fffffff ? (p->tsum2 - (p->tsum * p->tsum) / n) / n
				   : p->tsum2 / n - avg * avg;
	mdev = llsqrt(var);
	snprintf(text, sizeof(text),
		 "rtt min/avg/max/mdev = %lld.%03lld/%lld.%03lld/%lld.%03lld/"
		 "%lld.%03lld ms",
		 p->tmin / 1000, p->tmin % 1000, avg / 1000, avg % 1000, p->tmax / 1000,
		 p->tmax % 1000, mdev / 1000, mdev % 1000);
	say(p->apps, p->h, "ping", "summary", text);
}

static void ping_summary(struct ping *p)
{
	char text[LINE_MAX_TEXT], errs[32] = "";
	int lost = p->sent - p->received;
	/* iputils: from the start to the last request sent (cur_time). */
	int64_t ms =
	    p->sent > 0 ? (p->sent_at[p->sent] - p->sent_at[1] + SIM_MS(1) / 2) / SIM_MS(1) : 0;

	if (p->done)
		return;
	p->done = true;
	if (p->errors > 0)
		/* iputils finish(): ", +%ld errors", plural even for one. */
		snprintf(errs, sizeof(errs), ", +%d errors", p->errors);
	snprintf(text, sizeof(text),
		 "--- %s ping statistics --- %d packets transmitted, %d received%s, %d%% packet "
		 "loss, time %lldms",
		 p->dst_name, p->sent, p->received, errs, p->sent ? lost * 100 / p->sent : 0,
		 (long long)ms);
	say(p->apps, p->h, "ping", "summary", text);
	if (p->received > 0)
		ping_rtt_summary(p);
}

static void ping_linger_over(struct engine *e, void *arg)
{
	(void)e;
	ping_summary(arg);
}

static void ping_send(struct engine *e, void *arg)
{
	struct ping *p = arg;
	int seq = p->sent + 1;

	if (p->done)
		return;
	p->sent_at[seq] = engine_now(e);
	p->sent = seq;
	host_send_echo(p->h, p->dst, p->id, (uint16_t)seq, (uint8_t)p->opt.ttl,
		       (size_t)p->opt.size);
	if (seq < p->opt.count)
		engine_schedule_after(e, p->opt.interval_ns, ping_send, p);
	else
		p->linger = engine_schedule_after(e, PING_LINGER, ping_linger_over, p);
}

/* ping exits once every request is answered by a reply or an error. */
static void ping_maybe_done(struct ping *p)
{
	if (p->sent == p->opt.count && p->received + p->errors >= p->opt.count) {
		engine_cancel(net_engine(p->apps->net), p->linger);
		ping_summary(p);
	}
}

static void ping_reply(struct ping *p, const struct packet_info *info)
{
	char text[LINE_MAX_TEXT], a[16], rtt[32];
	int seq = info->icmp_seq;

	if (seq < 1 || seq > p->sent)
		return;
	long long us = (now_of(p->apps) - p->sent_at[seq]) / 1000;

	p->tmin = p->received == 0 || us < p->tmin ? us : p->tmin;
	p->tmax = us > p->tmax ? us : p->tmax;
	p->tsum += us;
	p->tsum2 += us * us;
	p->received++;
	rtt_words(now_of(p->apps) - p->sent_at[seq], rtt, sizeof(rtt));
	snprintf(text, sizeof(text), "%zu bytes from %s: icmp_seq=%d ttl=%u time=%s",
		 info->payload_len + ICMP_HEADER_SIZE, ip_format(info->src, a, sizeof(a)), seq,
		 info->ttl, rtt);
	say(p->apps, p->h, "ping", "reply", text);
	ping_maybe_done(p);
}

static void ping_error(struct ping *p, const struct packet_info *info)
{
	const uint8_t *inner = info->payload; /* the quoted request */
	size_t ihl = info->inner.ihl_bytes;
	char text[LINE_MAX_TEXT], a[16];
	int seq = (int)((inner[ihl + 6] << 8) | inner[ihl + 7]);

	p->errors++;
	snprintf(text, sizeof(text), "From %s icmp_seq=%d %s", ip_format(info->src, a, sizeof(a)),
		 seq, ping_error_words(info->icmp_type, info->icmp_code));
	say(p->apps, p->h, "ping", "error", text);
	ping_maybe_done(p);
}

static void ping_heard(struct ping *p, const struct packet_info *info)
{
	if (p->done)
		return;
	if (info->icmp_type == ICMP_ECHO_REPLY && info->icmp_id == p->id && info->src == p->dst)
		ping_reply(p, info);
	else if (info->icmp_error && info->inner.proto == IPPROTO_NUM_ICMP &&
		 info->inner.icmp_type == ICMP_ECHO_REQUEST && info->inner.icmp_id == p->id &&
		 info->inner.dst == p->dst)
		ping_error(p, info);
}

/* The raw ICMP socket of a host: every message goes to that host's pings. */
static void on_icmp(struct host *h, const struct packet_info *info, void *ctx)
{
	struct icmp_apps *apps = ctx;

	for (size_t i = 0; i < apps->n_pings; i++)
		if (apps->pings[i]->h == h)
			ping_heard(apps->pings[i], info);
}

static void *grow(void *arrp, size_t n)
{
	void ***arr = arrp;
	void **na = realloc(*arr, (n + 1) * sizeof(**arr));

	if (na != NULL)
		*arr = na;
	return na;
}

int icmp_ping_start(struct icmp_apps *apps, struct host *h, uint32_t dst, const char *dst_name,
		    const struct ping_options *opt)
{
	struct ping *p = calloc(1, sizeof(*p));
	char stream[96], text[LINE_MAX_TEXT], a[16];
	struct rng r;

	if (p == NULL || grow(&apps->pings, apps->n_pings) == NULL ||
	    (p->sent_at = calloc((size_t)opt->count + 1, sizeof(*p->sent_at))) == NULL) {
		free(p);
		return -1;
	}
	apps->pings[apps->n_pings++] = p;
	p->apps = apps;
	p->h = h;
	p->dst = dst;
	p->opt = *opt;
	snprintf(p->dst_name, sizeof(p->dst_name), "%s", dst_name);
	/* ping's identifier is its process id; natsim draws one per ping from
	 * the host's own stream, so runs repeat. */
	snprintf(stream, sizeof(stream), "ping:%s:%zu", host_node(h)->name, apps->n_pings);
	net_rng(apps->net, stream, &r);
	p->id = (uint16_t)(1 + rng_below(&r, 65535));
	host_set_icmp_listener(h, on_icmp, apps);
	snprintf(text, sizeof(text), "PING %s (%s) %d(%d) bytes of data.", dst_name,
		 ip_format(dst, a, sizeof(a)), opt->size,
		 opt->size + IPV4_HEADER_MIN + ICMP_HEADER_SIZE);
	say(apps, h, "ping", "start", text);
	ping_send(net_engine(apps->net), p);
	return 0;
}

int64_t icmp_ping_duration(const struct ping_options *opt)
{
	return (int64_t)(opt->count - 1) * opt->interval_ns + PING_LINGER;
}

/* ---- traceroute ---- */

static void hop_timed_out(struct engine *e, void *arg);
static void on_probe_error(struct host_socket *s, const struct host_icmp_error *err, void *ctx);
static void on_probe_data(struct host_socket *s, const struct endpoint *from,
			  const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx);

struct traceroute_probe *traceroute_probe_answer(struct traceroute_probe *probes,
						 const struct host_socket *s, uint16_t port,
						 int64_t now, uint8_t type, uint8_t code, bool *all)
{
	struct traceroute_probe *hit = NULL;
	int answered = 0;

	for (int k = 0; k < TRACEROUTE_PROBES; k++) {
		struct traceroute_probe *pr = &probes[k];

		if (pr->sock == s && pr->port == port && !pr->answered) {
			pr->answered = true;
			pr->rtt = now - pr->sent_at;
			pr->type = type;
			pr->code = code;
			hit = pr;
		}
		answered += pr->answered;
	}
	*all = answered == TRACEROUTE_PROBES;
	return hit;
}

void traceroute_probes_close(struct traceroute_probe *probes)
{
	for (int k = 0; k < TRACEROUTE_PROBES; k++) {
		host_udp_close(probes[k].sock);
		probes[k].sock = NULL;
	}
}

/* The hop's probes, each from a new socket on an ephemeral port. A host
 * with no port left sends fewer (they show as '*'). */
static void send_hop(struct traceroute *t)
{
	static const uint8_t payload[TRACEROUTE_PAYLOAD];
	struct engine *e = net_engine(t->apps->net);

	for (int k = 0; k < TRACEROUTE_PROBES; k++) {
		struct traceroute_probe *pr = &t->probes[k];
		struct endpoint to = {t->dst, t->next_port++};

		*pr = (struct traceroute_probe){.port = to.port, .sent_at = engine_now(e)};
		pr->sock = host_udp_bind(t->h, 0, on_probe_data, t);
		if (pr->sock == NULL)
			continue;
		host_udp_set_error_fn(pr->sock, on_probe_error);
		host_udp_sendto_ttl(pr->sock, &to, payload, sizeof(payload), (uint8_t)t->hop);
	}
	t->timeout = engine_schedule_after(e, TRACEROUTE_WAIT, hop_timed_out, t);
}

/* parse_icmp_res's marks for ICMP destination unreachable (RFC 792, RFC
 * 1812 5.2.7.1 codes): "" for port unreachable, the destination reached;
 * NULL for fragmentation needed (4) and codes it has no letter for. */
static const char *unreach_mark4(uint8_t code)
{
	switch (code) {
	case 0:	 /* net */
	case 6:	 /* net unknown */
	case 8:	 /* source host isolated */
	case 11: /* net for TOS */
		return "!N";
	case 1:	 /* host */
	case 7:	 /* host unknown */
	case 12: /* host for TOS */
		return "!H";
	case 9:	 /* net prohibited */
	case 10: /* host prohibited */
	case 13: /* communication prohibited (a filter) */
		return "!X";
	case 3:
		return "";
	case 2:
		return "!P";
	case 5:
		return "!S"; /* source route failed */
	case 14:
		return "!V"; /* host precedence violation */
	case 15:
		return "!C"; /* precedence cutoff */
	}
	return NULL;
}

/* The same for ICMPv6 (RFC 4443 3.1): beyond scope shows as !H, as address
 * unreachable does; policy failure (5) and reject route (6) as !<5>, !<6>
 * (the lab saw both, tests/lab/lab_router6.sh). */
static const char *unreach_mark6(uint8_t code)
{
	switch (code) {
	case ICMP6_NO_ROUTE:
		return "!N";
	case ICMP6_BEYOND_SCOPE:
	case ICMP6_ADDR_UNREACH:
		return "!H";
	case ICMP6_ADMIN_PROHIBITED:
		return "!X";
	case ICMP6_PORT_UNREACH:
		return "";
	}
	return NULL;
}

bool traceroute_icmp_res(int family, uint8_t type, uint8_t code, uint32_t info, char *mark,
			 size_t size)
{
	bool v6 = family == 6;
	uint8_t unreach = v6 ? ICMP6_DEST_UNREACH : ICMP_DEST_UNREACH;
	const char *m = type == unreach ? (v6 ? unreach_mark6(code) : unreach_mark4(code)) : NULL;

	*mark = '\0';
	if (type == (v6 ? ICMP6_TIME_EXCEEDED : ICMP_TIME_EXCEEDED) && code == 0)
		return false; /* in transit: a router on the way, not the end */
	if (m != NULL)
		snprintf(mark, size, "%s%s", *m ? " " : "", m);
	else if ((v6 && type == ICMP6_PACKET_TOO_BIG) || (!v6 && type == unreach && code == 4))
		snprintf(mark, size, " !F-%u", info);
	else if (type == unreach)
		snprintf(mark, size, " !<%u>", code);
	else
		snprintf(mark, size, " !<%u-%u>", type, code);
	return true;
}

/* " 2  203.0.113.1  20.512 ms  20.498 ms  *": the address is printed again
 * only when another router answers. True if the trace ends here. */
static bool hop_line(struct traceroute *t, char *text, size_t size)
{
	size_t used = (size_t)snprintf(text, size, "%2d ", t->hop);
	uint32_t shown = 0;
	bool end = false;
	char a[16], rtt[32], mark[24];

	for (int k = 0; k < TRACEROUTE_PROBES && used < size; k++) {
		const struct traceroute_probe *pr = &t->probes[k];

		if (!pr->answered) {
			used += (size_t)snprintf(text + used, size - used, " *");
			continue;
		}
		if (pr->from != shown)
			used += (size_t)snprintf(text + used, size - used, " %s",
						 ip_format(pr->from, a, sizeof(a)));
		shown = pr->from;
		traceroute_rtt_words(pr->rtt, rtt, sizeof(rtt));
		/* natsim's ICMP errors carry no next-hop MTU: a !F would say 0 */
		end |= traceroute_icmp_res(4, pr->type, pr->code, 0, mark, sizeof(mark));
		used += (size_t)snprintf(text + used, size - used, "  %s%s", rtt, mark);
	}
	return end;
}

static void finish_hop(struct traceroute *t)
{
	char text[LINE_MAX_TEXT];
	bool end = hop_line(t, text, sizeof(text));

	say(t->apps, t->h, "traceroute", "hop", text);
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

static void on_probe_error(struct host_socket *s, const struct host_icmp_error *err, void *ctx)
{
	struct traceroute *t = ctx;
	struct traceroute_probe *pr;
	bool all;

	if (t->done || err->remote.ip != t->dst)
		return;
	pr = traceroute_probe_answer(t->probes, s, err->remote.port, now_of(t->apps), err->type,
				     err->code, &all);
	if (pr != NULL)
		pr->from = err->reporter;
	if (all) {
		engine_cancel(net_engine(t->apps->net), t->timeout);
		finish_hop(t);
	}
}

static void on_probe_data(struct host_socket *s, const struct endpoint *from,
			  const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	(void)s, (void)from, (void)to, (void)payload, (void)len, (void)ctx;
}

int icmp_traceroute_start(struct icmp_apps *apps, struct host *h, uint32_t dst,
			  const char *dst_name, int max_hops)
{
	struct traceroute *t = calloc(1, sizeof(*t));
	char text[LINE_MAX_TEXT], a[16];

	if (t == NULL || grow(&apps->traces, apps->n_traces) == NULL) {
		free(t);
		return -1;
	}
	apps->traces[apps->n_traces++] = t;
	t->apps = apps;
	t->h = h;
	t->dst = dst;
	t->max_hops = max_hops;
	t->hop = 1;
	t->next_port = TRACEROUTE_FIRST_PORT;
	snprintf(text, sizeof(text), "traceroute to %s (%s), %d hops max, %d byte packets",
		 dst_name, ip_format(dst, a, sizeof(a)), max_hops,
		 IPV4_HEADER_MIN + UDP_HEADER_SIZE + TRACEROUTE_PAYLOAD);
	say(apps, h, "traceroute", "start", text);
	send_hop(t);
	return 0;
}

int64_t icmp_traceroute_duration(int max_hops)
{
	return (int64_t)max_hops * TRACEROUTE_WAIT;
}
