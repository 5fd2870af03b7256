/*
 * daemon_tcp.c - a p2p object's TCP connections on kernel sockets (see
 * daemon_tcp.h).
 */
#define _GNU_SOURCE /* accept4 */
#include "app/net/daemon_tcp.h"
#include "app/net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_MAX 65536

enum p2p_tcp_close daemon_tcp_close_reason(int err)
{
	switch (err) {
	case 0:
		return P2P_TCP_CLOSED_BY_PEER;
	case ECONNREFUSED:
		return P2P_TCP_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return P2P_TCP_RESET;
	case ETIMEDOUT:
		return P2P_TCP_TIMED_OUT;
	default: /* EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ... */
		return P2P_TCP_UNREACHABLE;
	}
}

void daemon_tcp_init(struct daemon_tcp *t, const struct daemon_tcp_ops *ops, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->ctx = ctx;
}

static void unsent_clear(struct daemon_tcp_sock *s)
{
	free(s->unsent);
	s->unsent = NULL;
	s->unsent_len = s->unsent_cap = 0;
}

void daemon_tcp_fini(struct daemon_tcp *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i].fd >= 0)
			close(t->s[i].fd);
		unsent_clear(&t->s[i]);
	}
	t->n = 0;
}

static void sock_remove(struct daemon_tcp *t, struct daemon_tcp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd); /* an orderly close: FIN after what was written */
	unsent_clear(s);
	*s = t->s[--t->n];
}

static struct daemon_tcp_sock *sock_add(struct daemon_tcp *t)
{
	if (t->n == DAEMON_TCP_MAX)
		return NULL;
	struct daemon_tcp_sock *s = &t->s[t->n++];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	return s;
}

/* A non-blocking TCP socket bound to ep with SO_REUSEADDR and SO_REUSEPORT:
 * the listener and every connect share the port (socket(7)). -1 on error. */
static int reuse_socket(const struct p2p_endpoint *ep)
{
	int fd = net_socket_for(ep, SOCK_STREAM);
	int on = 1;
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr_of(ep, &ss);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static struct p2p_endpoint local_of(int fd)
{
	struct p2p_endpoint ep = p2p_endpoint4(0, 0);
	net_local_endpoint(fd, &ep);
	return ep;
}

int daemon_tcp_listen(struct daemon_tcp *t, const struct p2p_endpoint *ep,
		      struct p2p_endpoint *bound, char *err, size_t errlen)
{
	char where[P2P_ENDPOINT_STRLEN];
	p2p_endpoint_format(ep, where, sizeof(where));
	struct daemon_tcp_sock *s = sock_add(t);
	if (!s) {
		snprintf(err, errlen, "cannot listen on TCP %s: too many sockets", where);
		return -1;
	}
	s->fd = reuse_socket(ep);
	if (s->fd < 0 || listen(s->fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on TCP %s: %s", where, strerror(errno));
		sock_remove(t, s);
		return -1;
	}
	s->listener = true;
	s->local = local_of(s->fd);
	if (bound)
		*bound = s->local;
	return 0;
}

static struct daemon_tcp_sock *by_conn(struct daemon_tcp *t, uint32_t conn)
{
	for (size_t i = 0; i < t->n; i++)
		if (!t->s[i].listener && !t->s[i].closing && t->s[i].conn == conn)
			return &t->s[i];
	return NULL;
}

static int do_listen(struct daemon_tcp *t, const struct p2p_tcp_action *a)
{
	char err[160];
	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].listener && t->s[i].local.port == a->local.port)
			return 0; /* the one daemon_tcp_listen opened for it */
	return daemon_tcp_listen(t, &a->local, NULL, err, sizeof(err));
}

static int do_connect(struct daemon_tcp *t, const struct p2p_tcp_action *a)
{
	struct daemon_tcp_sock *s = sock_add(t);
	if (!s)
		return -1;
	s->conn = a->conn;
	s->remote = a->remote;
	s->local = a->local;
	s->fd = reuse_socket(&a->local);
	struct sockaddr_storage to;
	socklen_t tl = net_sockaddr_of(&a->remote, &to);
	if (s->fd >= 0 &&
	    (connect(s->fd, (struct sockaddr *)&to, tl) == 0 || errno == EINPROGRESS)) {
		s->connecting = true; /* POLLOUT says how it went, even at once */
		return 0;
	}
	s->error = errno; /* EADDRINUSE, EADDRNOTAVAIL (that 4-tuple is in use), ... */
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

/* Room for `len` more unsent bytes, made before anything is sent, so that
 * a frame is queued whole or refused whole, never cut. -1 if the queue
 * would pass DAEMON_TCP_UNSENT_MAX or memory is short. */
static int unsent_reserve(struct daemon_tcp_sock *s, size_t len)
{
	size_t need = s->unsent_len + len, cap = s->unsent_cap ? s->unsent_cap : 4096;
	if (need > DAEMON_TCP_UNSENT_MAX)
		return -1;
	if (need <= s->unsent_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > DAEMON_TCP_UNSENT_MAX)
		cap = DAEMON_TCP_UNSENT_MAX;
	uint8_t *p = realloc(s->unsent, cap);
	if (!p)
		return -1;
	s->unsent = p;
	s->unsent_cap = cap;
	return 0;
}

/* send(2) that never waits: the bytes the kernel took (0 when its send
 * buffer is full), or -1 on an error that ends the connection. */
static ssize_t send_some(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return n;
}

/* SEND: to the kernel when nothing waits before it; what it does not take
 * (a short count, or all of it) waits in `unsent` for POLLOUT. */
static int do_send(struct daemon_tcp_sock *s, const struct p2p_tcp_action *a)
{
	size_t sent = 0;
	if (!s || s->fd < 0 || s->connecting || unsent_reserve(s, a->len) < 0)
		return -1;
	if (s->unsent_len == 0) {
		ssize_t n = send_some(s->fd, a->buf, a->len);
		if (n < 0)
			return -1; /* EPIPE, ECONNRESET: the read side reports the end */
		sent = (size_t)n;
	}
	memcpy(s->unsent + s->unsent_len, a->buf + sent, a->len - sent);
	s->unsent_len += a->len - sent;
	return 0;
}

/* POLLOUT: as many unsent bytes as the kernel takes now. -1 if the
 * connection failed. */
static int write_unsent(struct daemon_tcp_sock *s)
{
	ssize_t n = send_some(s->fd, s->unsent, s->unsent_len);
	if (n < 0)
		return -1;
	s->unsent_len -= (size_t)n;
	memmove(s->unsent, s->unsent + n, s->unsent_len);
	return 0;
}

/* CLOSE: the FIN now, or once the unsent bytes are out (daemon_tcp_ready);
 * the object has forgotten the connection either way. */
static void do_close(struct daemon_tcp *t, struct daemon_tcp_sock *s)
{
	if (s->fd < 0 || s->unsent_len == 0) {
		sock_remove(t, s);
		return;
	}
	s->closing = true;
	s->conn = 0;
}

int daemon_tcp_do(struct daemon_tcp *t, const struct p2p_tcp_action *a)
{
	struct daemon_tcp_sock *s;
	int rc = -1;

	switch (a->type) {
	case P2P_TCP_LISTEN:
		rc = do_listen(t, a);
		break;
	case P2P_TCP_CONNECT:
		rc = do_connect(t, a);
		break;
	case P2P_TCP_SEND:
		rc = do_send(by_conn(t, a->conn), a);
		break;
	case P2P_TCP_CLOSE:
		s = by_conn(t, a->conn);
		if (s) {
			do_close(t, s);
			rc = 0;
		}
		break;
	}
	if (rc < 0)
		t->errors++;
	return rc;
}

size_t daemon_tcp_report_failed(struct daemon_tcp *t, uint64_t now_ns)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n;) {
		struct daemon_tcp_sock *s = &t->s[i];
		if (s->listener || s->fd >= 0) {
			i++;
			continue;
		}
		uint32_t conn = s->conn;
		enum p2p_tcp_close why = daemon_tcp_close_reason(s->error);
		sock_remove(t, s);
		t->ops->closed(t->ctx, now_ns, conn, why);
		n++;
	}
	return n;
}

size_t daemon_tcp_pollfds(const struct daemon_tcp *t, struct pollfd *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n && k < max; i++) {
		const struct daemon_tcp_sock *s = &t->s[i];
		short events = s->connecting || s->closing ? POLLOUT
			       : s->unsent_len > 0	   ? POLLIN | POLLOUT
							   : POLLIN;
		if (s->fd >= 0)
			out[k++] = (struct pollfd){.fd = s->fd, .events = events};
	}
	return k;
}

static void accept_all(struct daemon_tcp *t, struct daemon_tcp_sock *l, uint64_t now_ns)
{
	int lfd = l->fd; /* l moves if the table changes */
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct p2p_endpoint local = local_of(fd),
				    remote = net_endpoint_of((struct sockaddr *)&ss);
		struct daemon_tcp_sock *s = t->n < DAEMON_TCP_MAX ? sock_add(t) : NULL;
		uint32_t id = s ? t->ops->accepted(t->ctx, now_ns, &local, &remote) : 0;
		if (id == 0) {
			if (s)
				t->n--;
			close(fd);
			continue;
		}
		*s = (struct daemon_tcp_sock){
		    .fd = fd, .conn = id, .local = local, .remote = remote};
	}
}

static void connect_done(struct daemon_tcp *t, struct daemon_tcp_sock *s, uint64_t now_ns)
{
	int e = 0;
	socklen_t el = sizeof(e);
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e != 0) {
		uint32_t conn = s->conn;
		sock_remove(t, s);
		t->ops->closed(t->ctx, now_ns, conn, daemon_tcp_close_reason(e));
		return;
	}
	if (getpeername(s->fd, (struct sockaddr *)&peer, &pl) < 0)
		return; /* not yet: a stale wakeup */
	s->connecting = false;
	s->local = local_of(s->fd);
	s->remote = net_endpoint_of((struct sockaddr *)&peer);
	struct p2p_endpoint local = s->local, remote = s->remote;
	if (t->ops->connected)
		t->ops->connected(t->ctx, now_ns, s->conn, &local, &remote, false);
}

static void read_some(struct daemon_tcp *t, struct daemon_tcp_sock *s, uint64_t now_ns)
{
	static uint8_t buf[READ_MAX];
	uint32_t conn = s->conn;
	ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n > 0) {
		t->ops->input(t->ctx, now_ns, conn, buf, (size_t)n);
		return;
	}
	int e = n == 0 ? 0 : errno;
	sock_remove(t, s);
	t->ops->closed(t->ctx, now_ns, conn, daemon_tcp_close_reason(e));
}

void daemon_tcp_ready(struct daemon_tcp *t, int fd, short revents, uint64_t now_ns)
{
	struct daemon_tcp_sock *s = NULL;
	for (size_t i = 0; i < t->n && !s; i++)
		if (t->s[i].fd == fd)
			s = &t->s[i];
	if (!s || revents == 0)
		return;
	if (s->listener) {
		accept_all(t, s, now_ns);
	} else if (s->connecting) {
		connect_done(t, s, now_ns);
	} else if (s->closing) {
		/* the FIN once the last byte is out, or the end if it failed */
		if (!(revents & POLLOUT) || write_unsent(s) < 0 || s->unsent_len == 0)
			sock_remove(t, s);
	} else {
		/* A failed write drops the queue: the error (POLLERR, POLLHUP)
		 * reaches the object through the read side. */
		if ((revents & POLLOUT) && s->unsent_len > 0 && write_unsent(s) < 0)
			s->unsent_len = 0;
		if (revents & ~POLLOUT)
			read_some(t, s, now_ns);
	}
}
