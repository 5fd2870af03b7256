/*
 * tcpwatch.c - the TCP facts expectations read, and their checks
 * (tcpwatch.h).
 */
#include "app/world/tcpwatch.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/socket.h"
#include "model/conntrack.h"
#include "model/tcp.h"
#include "viz/text.h"

_Static_assert(TCP_STATE_COUNT == 11, "the language's socket states (tcp_state_words) follow "
				      "enum tcp_state");
_Static_assert(CONNTRACK_TCP_STATES == 10, "the language's conntrack states (ct_state_words) "
					   "follow enum conntrack_tcp_state");

static void *push(void *arrp, size_t *n, size_t *cap, size_t size)
{
	char **arr = arrp;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char *na = realloc(*arr, nc * size);

		if (na == NULL)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	return memset(*arr + (*n)++ * size, 0, size);
}

static bool same_ep(const struct endpoint *a, const struct endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static bool same_ep6(const struct endpoint6 *a, const struct endpoint6 *b)
{
	return a->port == b->port && ip6_equal(&a->ip, &b->ip);
}

static bool same_sock(const struct tcp_sock_seen *k, const struct trace_socket *s)
{
	if (!same_ep(&k->local, &s->local) || !same_ep(&k->remote, &s->remote) ||
	    k->is6 != (s->v6 != NULL))
		return false;
	return !k->is6 ||
	       (same_ep6(&k->local6, &s->v6->local) && same_ep6(&k->remote6, &s->v6->remote));
}

/* The live socket with this identity (the last one: a 4-tuple may be used
 * again once its socket is freed), or NULL. */
static struct tcp_sock_seen *find_sock(struct tcp_watch *w, const struct trace_socket *s)
{
	for (size_t i = w->n_socks; i-- > 0;) {
		struct tcp_sock_seen *k = &w->socks[i];

		if (k->state != TCP_CLOSED && strcmp(k->node, s->node) == 0 && same_sock(k, s))
			return k;
	}
	return NULL;
}

static int on_socket(struct tcp_watch *w, int64_t t, const struct trace_socket *s)
{
	struct tcp_sock_seen *k = find_sock(w, s);

	if (k == NULL) {
		k = push(&w->socks, &w->n_socks, &w->cap_socks, sizeof(*k));
		if (k == NULL)
			return -1;
		*k = (struct tcp_sock_seen){
		    .node = s->node, .local = s->local, .remote = s->remote, .is6 = s->v6 != NULL};
		if (s->v6 != NULL) {
			k->local6 = s->v6->local;
			k->remote6 = s->v6->remote;
		}
	}
	k->state = s->new_state;
	k->since = t;
	k->connected |= s->new_state == TCP_ESTABLISHED;
	if (s->error != 0 && k->error == 0) {
		k->error = s->error;
		k->ended_at = t;
	}
	return 0;
}

static int on_conntrack(struct tcp_watch *w, const struct trace_conntrack *c)
{
	struct tcp_ct_seen *e = NULL;

	if (c->proto != 6 || c->event == TRACE_CT_RELATED)
		return 0;
	for (size_t i = w->n_cts; i-- > 0 && e == NULL;)
		if (w->cts[i].alive && w->cts[i].id == c->id &&
		    strcmp(w->cts[i].node, c->node) == 0)
			e = &w->cts[i];
	if (e == NULL) {
		if (c->event == TRACE_CT_DESTROY)
			return 0;
		e = push(&w->cts, &w->n_cts, &w->cap_cts, sizeof(*e));
		if (e == NULL)
			return -1;
		*e = (struct tcp_ct_seen){
		    .node = c->node, .id = c->id, .orig = c->orig, .alive = true};
	}
	e->state = c->tcp_state;
	e->alive = c->event != TRACE_CT_DESTROY;
	return 0;
}

int tcp_watch_record(struct tcp_watch *w, const struct trace_record *rec)
{
	if (rec->kind == TRACE_SOCKET && rec->u.sock.proto == 6)
		return on_socket(w, rec->time, &rec->u.sock);
	if (rec->kind == TRACE_CONNTRACK)
		return on_conntrack(w, &rec->u.ct);
	return 0;
}

void tcp_watch_free(struct tcp_watch *w)
{
	free(w->socks);
	free(w->cts);
	memset(w, 0, sizeof(*w));
}

/* ---- the checks ---- */

static void seconds(int64_t t, char *out, size_t n)
{
	char secs[TEXT_SECONDS_SIZE];

	snprintf(out, n, "%s s", text_seconds(t, secs, sizeof(secs)));
}

/* "TIME_WAIT": a conntrack state as conntrack -L prints it. */
static void ct_state_upper(int state, char *out, size_t n)
{
	const char *w = scenario_ct_state_name(state);
	size_t i = 0;

	for (; w && w[i] && i + 1 < n; i++)
		out[i] = w[i] == '-' ? '_' : (char)toupper((unsigned char)w[i]);
	out[i] = '\0';
}

static bool outcome_of(const struct tcp_sock_seen *k, int outcome)
{
	switch (outcome) {
	case SCENARIO_TCP_CONNECTED:
		return k->connected;
	case SCENARIO_TCP_REFUSED:
		return !k->connected && k->error == ECONNREFUSED;
	case SCENARIO_TCP_TIMEOUT:
		return !k->connected && k->error == ETIMEDOUT;
	case SCENARIO_TCP_RESET:
		return k->error == ECONNRESET;
	case SCENARIO_TCP_UNREACHABLE: /* tcp_v4_err in SYN-SENT: any other error */
		return !k->connected && k->error != 0 && k->error != ECONNREFUSED &&
		       k->error != ETIMEDOUT && k->error != ECONNRESET;
	}
	return false;
}

/* A socket's end as ss prints it: "10.0.0.5:40000", "[2001:db8::5]:40000". */
static char *end_text(const struct tcp_sock_seen *k, bool remote, char *out, size_t n)
{
	if (k->is6)
		return endpoint6_format(remote ? &k->remote6 : &k->local6, out, n);
	return endpoint_format(remote ? &k->remote : &k->local, out, n);
}

/* How one attempt went, in words: "connected", "failed at 1.2 s: ...". */
static void attempt_words(const struct tcp_sock_seen *k, char *out, size_t n)
{
	char t[32], local[ENDPOINT6_TEXT_SIZE];

	end_text(k, false, local, sizeof(local));
	seconds(k->error ? k->ended_at : k->since, t, sizeof(t));
	if (k->error != 0)
		snprintf(out, n, "from %s %s at %s: %s", local,
			 k->connected ? "was connected, then ended" : "failed", t,
			 explain_errno_words(k->error));
	else if (k->connected)
		snprintf(out, n, "from %s connected (%s since %s)", local,
			 tcp_state_name((enum tcp_state)k->state), t);
	else
		snprintf(out, n, "from %s is %s since %s", local,
			 tcp_state_name((enum tcp_state)k->state), t);
}

/* Does the connection go to the target, in its family? */
static bool goes_to(const struct tcp_sock_seen *k, const struct tcp_watch_target *to)
{
	if (k->is6)
		return to->has6 && ip6_equal(&k->remote6.ip, &to->ip6);
	return to->ip != 0 && k->remote.ip == to->ip;
}

static bool check_outcome(const struct tcp_watch *w, const struct scenario_expect *x,
			  const struct tcp_watch_target *to, char *why, size_t n)
{
	const struct tcp_sock_seen *first = NULL, *match = NULL;
	size_t tries = 0;
	char what[200] = "";

	for (size_t i = 0; i < w->n_socks; i++) {
		const struct tcp_sock_seen *k = &w->socks[i];

		if (strcmp(k->node, x->host.name) != 0 || !goes_to(k, to) ||
		    (x->to.port != SCENARIO_UNSET && k->remote.port != x->to.port))
			continue;
		tries++;
		first = first ? first : k;
		if (match == NULL && outcome_of(k, x->tcp_outcome))
			match = k;
	}
	if (tries == 0) {
		snprintf(why, n, "%s made no TCP connection there", x->host.name);
		return false;
	}
	attempt_words(match ? match : first, what, sizeof(what));
	snprintf(why, n, "%s made %zu attempt%s; %s %s", x->host.name, tries, tries == 1 ? "" : "s",
		 match ? "the one as asked" : "the first", what);
	return match != NULL;
}

/* "10.0.0.80:80 \u2192 203.0.113.50:57381"; a listener has no peer, and ss
 * -tan shows its local address with "0.0.0.0:*" as the peer: "0.0.0.0:80",
 * not "0.0.0.0:80 \u2192 0.0.0.0:0", a peer no socket has. */
static const char *sock_ends(const struct tcp_sock_seen *s, char *out, size_t size)
{
	char local[ENDPOINT6_TEXT_SIZE], remote[ENDPOINT6_TEXT_SIZE];

	end_text(s, false, local, sizeof(local));
	if (s->state == TCP_LISTEN)
		snprintf(out, size, "%s", local);
	else
		snprintf(out, size, "%s \u2192 %s", local,
			 end_text(s, true, remote, sizeof(remote)));
	return out;
}

static bool check_socket(const struct tcp_watch *w, const struct scenario_expect *x, char *why,
			 size_t n)
{
	const struct tcp_sock_seen *first = NULL, *other = NULL;
	size_t k = 0, open = 0;

	for (size_t i = 0; i < w->n_socks; i++) {
		const struct tcp_sock_seen *s = &w->socks[i];

		if (s->state == TCP_CLOSED || strcmp(s->node, x->host.name) != 0)
			continue;
		open++;
		if ((x->tcp_state < 0 || s->state == x->tcp_state) &&
		    (x->port == SCENARIO_UNSET || s->local.port == x->port)) {
			k++;
			first = first ? first : s;
		} else if (other == NULL) {
			other = s;
		}
	}
	const struct tcp_sock_seen *shown = first ? first : other;
	char sock[2 * ENDPOINT6_TEXT_SIZE + 8] = "";
	if (shown == NULL)
		snprintf(why, n, "%s has no TCP socket", x->host.name);
	else
		snprintf(why, n, "%s has %zu TCP socket%s, %zu as asked; %s: %s %s", x->host.name,
			 open, open == 1 ? "" : "s", k, first ? "the first" : "one",
			 tcp_state_name((enum tcp_state)shown->state),
			 sock_ends(shown, sock, sizeof(sock)));
	return (k > 0) == (x->kind == SCENARIO_EXPECT_SOCKET);
}

static bool check_conntrack(const struct tcp_watch *w, const struct scenario_expect *x, char *why,
			    size_t n)
{
	const struct tcp_ct_seen *first = NULL, *other = NULL;
	size_t k = 0, alive = 0;

	for (size_t i = 0; i < w->n_cts; i++) {
		const struct tcp_ct_seen *e = &w->cts[i];

		if (!e->alive || strcmp(e->node, x->node.name) != 0)
			continue;
		alive++;
		if (x->ct_state < 0 || e->state == x->ct_state) {
			k++;
			first = first ? first : e;
		} else if (other == NULL) {
			other = e;
		}
	}
	const struct tcp_ct_seen *shown = first ? first : other;
	if (shown == NULL) {
		snprintf(why, n, "%s tracks no TCP connection", x->node.name);
	} else {
		char src[24], dst[24], st[16];
		struct endpoint s = {shown->orig.src, shown->orig.sport};
		struct endpoint d = {shown->orig.dst, shown->orig.dport};

		ct_state_upper(shown->state, st, sizeof(st));
		snprintf(
		    why, n, "%s tracks %zu TCP connection%s, %zu as asked; %s: %s %s \u2192 %s",
		    x->node.name, alive, alive == 1 ? "" : "s", k, first ? "the first" : "one", st,
		    endpoint_format(&s, src, sizeof(src)), endpoint_format(&d, dst, sizeof(dst)));
	}
	return (k > 0) == (x->kind == SCENARIO_EXPECT_CONNTRACK);
}

bool tcp_watch_check(const struct tcp_watch *w, const struct scenario_expect *x,
		     const struct tcp_watch_target *to, char *why, size_t n)
{
	switch (x->kind) {
	case SCENARIO_EXPECT_TCP:
		return check_outcome(w, x, to, why, n);
	case SCENARIO_EXPECT_SOCKET:
	case SCENARIO_EXPECT_NO_SOCKET:
		return check_socket(w, x, why, n);
	case SCENARIO_EXPECT_CONNTRACK:
	case SCENARIO_EXPECT_NO_CONNTRACK:
		return check_conntrack(w, x, why, n);
	default:
		snprintf(why, n, "not a TCP expectation");
		return false;
	}
}

void tcp_watch_describe(const struct scenario_expect *x, const char *by, char *out, size_t n)
{
	static const char *const verbs[] = {"connects to", "is refused by",
					    "times out connecting to", "is reset by",
					    "cannot reach"};
	_Static_assert(sizeof(verbs) / sizeof(verbs[0]) == SCENARIO_TCP_OUTCOME_COUNT,
		       "a verb for every outcome");
	char to[64] = "", port[16] = "", st[16] = "";

	if (x->kind == SCENARIO_EXPECT_TCP) {
		char ip[IP6_TEXT_SIZE];
		bool brackets = !x->to.node.name && x->to.is6 && x->to.port != SCENARIO_UNSET;
		snprintf(to, sizeof(to), "%s%s%s", brackets ? "[" : "",
			 x->to.node.name ? x->to.node.name
			 : x->to.is6	 ? ip6_format(&x->to.ip6, ip, sizeof(ip))
					 : ip_format(x->to.ip, ip, sizeof(ip)),
			 brackets ? "]" : ""); /* RFC 5952 section 6 */
		if (x->to.port != SCENARIO_UNSET)
			snprintf(port, sizeof(port), ":%d", x->to.port);
		snprintf(out, n, "%s %s %s%s over TCP%s", x->host.name, verbs[x->tcp_outcome], to,
			 port, by);
		return;
	}
	if (x->kind == SCENARIO_EXPECT_SOCKET || x->kind == SCENARIO_EXPECT_NO_SOCKET) {
		if (x->port != SCENARIO_UNSET)
			snprintf(port, sizeof(port), " on port %d", x->port);
		snprintf(out, n, "%s TCP socket of %s%s%s%s%s",
			 x->kind == SCENARIO_EXPECT_SOCKET ? "a" : "no", x->host.name, port,
			 x->tcp_state < 0 ? "" : " in ",
			 x->tcp_state < 0 ? "" : tcp_state_name((enum tcp_state)x->tcp_state), by);
		return;
	}
	if (x->ct_state >= 0)
		ct_state_upper(x->ct_state, st, sizeof(st));
	snprintf(out, n, "%s TCP conntrack entry at %s%s%s%s",
		 x->kind == SCENARIO_EXPECT_CONNTRACK ? "a" : "no", x->node.name,
		 x->ct_state < 0 ? "" : " in ", st, by);
}
