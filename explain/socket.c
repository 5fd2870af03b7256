/*
 * socket.c - a TCP socket's change of state in words (socket.h).
 */
#include "explain/socket.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/endpoint.h"

#define ARROW "\u2192"

/* RFC 9293 3.3.2, in the order of model/tcp.h's enum tcp_state. */
static const char *const state_names[] = {
    "CLOSED",	  "LISTEN",	"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",	    "TIME-WAIT",
};
enum { ST_CLOSED = 0, ST_LISTEN = 1, ST_SYN_SENT = 2, ST_FIN_WAIT_1 = 5, ST_LAST_ACK = 9 };
/* model/tcp.h's enum tcp_cause. */
enum { CAUSE_APP, CAUSE_SEGMENT, CAUSE_RST, CAUSE_RETRIES, CAUSE_TIME_WAIT, CAUSE_ICMP };

const char *explain_tcp_state_name(uint8_t state)
{
	return state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

const char *explain_tcp_cause_name(uint8_t cause)
{
	/* In the order of the enum (CAUSE_APP...), as the trace's JSON names them. */
	static const char *const names[] = {"application", "segment",	"reset",
					    "retries",	   "time-wait", "icmp"};

	return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "?";
}

char *explain_tcp_flags(uint8_t flags, char *out, size_t size)
{
	/* The header's bits from FIN (0x01) up (RFC 9293 3.1, RFC 3168 for ECE, CWR). */
	static const char *const names[8] = {"FIN", "SYN", "RST", "PSH",
					     "ACK", "URG", "ECE", "CWR"};
	size_t used = 0;

	if (size == 0)
		return out;
	out[0] = '\0';
	/* SYN before FIN reads as people say it ("SYN+ACK", "FIN+ACK"): SYN,
	 * then RST, then FIN, then the rest in header order. */
	static const int order[8] = {1, 2, 0, 3, 4, 5, 6, 7};
	for (int k = 0; k < 8 && used < size; k++)
		if (flags & (1u << order[k]))
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "+" : "",
						 names[order[k]]);
	if (flags == 0)
		snprintf(out, size, "none");
	return out;
}

const char *explain_errno_words(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "Connection refused";
	case ETIMEDOUT:
		return "Connection timed out";
	case ECONNRESET:
		return "Connection reset by peer";
	case EHOSTUNREACH:
		return "No route to host";
	case ENETUNREACH:
		return "Network is unreachable";
	case EADDRINUSE:
		return "Address already in use";
	case EPROTO:
		return "Protocol error";
	case EACCES: /* ICMPv6 administratively prohibited (icmpv6_err_convert) */
		return "Permission denied";
	case EPIPE:
		return "Broken pipe";
	default:
		return "Unknown error";
	}
}

const char *explain_errno_name(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ECONNRESET:
		return "ECONNRESET";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EPROTO:
		return "EPROTO";
	case EACCES:
		return "EACCES";
	case EPIPE:
		return "EPIPE";
	default:
		return "an error";
	}
}

static void put(char *out, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(out + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
	if (*used >= size)
		*used = size - 1;
}

/* What the application did: the call an `ss` user would name. */
static const char *app_call(const struct trace_socket *s)
{
	if (s->old_state == ST_CLOSED && s->new_state == ST_LISTEN)
		return "listen()";
	if (s->old_state == ST_CLOSED && s->new_state == ST_SYN_SENT)
		return "connect(): SYN sent";
	if (s->new_state == ST_FIN_WAIT_1 || s->new_state == ST_LAST_ACK)
		return "close(): FIN sent";
	/* A listener, or a connect still in SYN-SENT, closes without a word
	 * (tcp_close: tcp_set_state(TCP_CLOSE) for both, no RST) */
	if (s->new_state == ST_CLOSED && (s->old_state == ST_LISTEN || s->old_state == ST_SYN_SENT))
		return "close()";
	if (s->new_state == ST_CLOSED)
		return "abort: RST sent, the connection forgotten";
	return "the application";
}

/* "(SYN+ACK #12)", "(RST #9)", "(retransmissions ran out)", ... */
static void say_cause(const struct trace_socket *s, int flags, char *out, size_t size, size_t *used)
{
	char f[40];

	switch (s->cause) {
	case CAUSE_APP:
		put(out, size, used, " (%s)", app_call(s));
		return;
	case CAUSE_SEGMENT:
	case CAUSE_RST:
		if (flags >= 0)
			put(out, size, used, " (%s",
			    explain_tcp_flags((uint8_t)flags, f, sizeof(f)));
		else
			put(out, size, used, " (%s", s->cause == CAUSE_RST ? "RST" : "a segment");
		if (s->packet_id != 0)
			put(out, size, used, " #%llu", (unsigned long long)s->packet_id);
		put(out, size, used, ")");
		return;
	case CAUSE_RETRIES:
		put(out, size, used, " (its retransmissions ran out)");
		return;
	case CAUSE_TIME_WAIT:
		put(out, size, used, " (TIME-WAIT's 2MSL ran out: the socket is freed)");
		return;
	case CAUSE_ICMP:
		put(out, size, used, " (an %s error", s->v6 != NULL ? "ICMPv6" : "ICMP");
		if (s->packet_id != 0)
			put(out, size, used, " #%llu", (unsigned long long)s->packet_id);
		put(out, size, used, ")");
		return;
	}
}

static bool is_listener(const struct trace_socket *s)
{
	return s->remote.ip == 0 && s->remote.port == 0;
}

char *explain_socket_end(const struct trace_socket *s, int remote, char *out, size_t size)
{
	const struct endpoint *ep = remote ? &s->remote : &s->local;

	if (remote && is_listener(s))
		snprintf(out, size, "*");
	else if (s->v6 != NULL)
		endpoint6_format(remote ? &s->v6->remote : &s->v6->local, out, size);
	else if (ep->ip == 0)
		snprintf(out, size, "*:%u", ep->port);
	else
		endpoint_format(ep, out, size);
	return out;
}

size_t explain_socket(const struct trace_socket *s, int flags, int with_node, char *out,
		      size_t size)
{
	char a[EXPLAIN_SOCKET_END_SIZE], b[EXPLAIN_SOCKET_END_SIZE];
	size_t used = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (with_node)
		put(out, size, &used, "%s's ", s->node != NULL ? s->node : "?");
	put(out, size, &used, "TCP ");
	if (is_listener(s))
		put(out, size, &used, "listener %s", explain_socket_end(s, 0, a, sizeof(a)));
	else
		put(out, size, &used, "%s " ARROW " %s", explain_socket_end(s, 0, a, sizeof(a)),
		    explain_socket_end(s, 1, b, sizeof(b)));
	put(out, size, &used, ": %s " ARROW " %s", explain_tcp_state_name(s->old_state),
	    explain_tcp_state_name(s->new_state));
	say_cause(s, flags, out, size, &used);
	if (s->error != 0)
		put(out, size, &used, "; the application is told %s (%s)",
		    explain_errno_name(s->error), explain_errno_words(s->error));
	return used;
}
