/*
 * daemon.c - poll() loop driving a p2p object on real UDP sockets
 * (daemon.h has the contract).
 */
#include "app/net/daemon.h"
#include "app/net/daemon_tcp.h"
#include "app/net/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_BURST 64 /* datagrams per socket per wakeup: a flood cannot starve timers */

uint64_t daemon_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * P2P_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t daemon_wall_offset_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t wall = (uint64_t)ts.tv_sec * P2P_NS_PER_S + (uint64_t)ts.tv_nsec;
	return wall - daemon_now_ns();
}

void daemon_random_fill(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	randombytes_buf(out, len);
}

void daemon_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int daemon_parse_endpoint(const char *text, struct p2p_endpoint *out)
{
	char buf[32];
	if (!text)
		return -1;
	if (strchr(text, '.') || text[0] == '[')
		return p2p_endpoint_parse(text, out);
	/* ":port" or "port": any address. */
	snprintf(buf, sizeof(buf), "0.0.0.0:%s", text[0] == ':' ? text + 1 : text);
	return p2p_endpoint_parse(buf, out);
}

int daemon_local_addresses(uint32_t *out, size_t max, bool include_loopback)
{
	struct ifaddrs *ifs, *i;
	size_t n = 0;
	if (getifaddrs(&ifs) < 0)
		return -1;
	for (i = ifs; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
			continue;
		if ((i->ifa_flags & IFF_LOOPBACK) && !include_loopback)
			continue;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
		out[n++] = ntohl(sin->sin_addr.s_addr);
	}
	freeifaddrs(ifs);
	return (int)n;
}

int daemon_init(struct daemon *d, char *err, size_t errlen)
{
	sigset_t mask;
	memset(d, 0, sizeof(*d));
	d->sig_fd = -1;
	d->until_ns = P2P_NO_DEADLINE;
	for (size_t i = 0; i < DAEMON_MAX_SOCKETS; i++)
		d->fds[i] = -1;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not start");
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, &d->old_mask) < 0 ||
	    (d->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot set up signal handling: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void daemon_fini(struct daemon *d)
{
	for (size_t i = 0; i < d->n_socks; i++)
		close(d->fds[i]);
	d->n_socks = 0;
	if (d->sig_fd >= 0) {
		close(d->sig_fd);
		d->sig_fd = -1;
		sigprocmask(SIG_SETMASK, &d->old_mask, NULL);
	}
}

/* Hear of the ICMP errors our datagrams draw (ip(7) IP_RECVERR, ipv6(7)
 * IPV6_RECVERR): an unconnected socket otherwise hears of none
 * (__udp4_lib_err and __udp6_lib_err drop them unless recverr is set), and
 * the agent learns from port unreachable (agent.h). */
static int set_recverr(int fd, const struct p2p_endpoint *ep)
{
	int on = 1;
	if (p2p_endpoint_is6(ep))
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
}

int daemon_bind(struct daemon *d, const struct p2p_endpoint *ep, struct p2p_endpoint *bound,
		char *err, size_t errlen)
{
	char where[P2P_ENDPOINT_STRLEN];
	p2p_endpoint_format(ep, where, sizeof(where));
	if (d->n_socks == DAEMON_MAX_SOCKETS) {
		snprintf(err, errlen, "cannot bind %s: too many sockets", where);
		return -1;
	}
	int fd = net_socket_for(ep, SOCK_DGRAM);
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr_of(ep, &ss);
	struct p2p_endpoint local;
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    net_local_endpoint(fd, &local) < 0) {
		snprintf(err, errlen, "cannot bind UDP %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Bursts (many peers at once, or a flood) should queue, not drop:
	 * best effort, the kernel caps it at net.core.rmem_max. */
	int rcvbuf = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (set_recverr(fd, ep) < 0) {
		snprintf(err, errlen, "cannot bind UDP %s: IP_RECVERR: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	d->fds[d->n_socks] = fd;
	d->locals[d->n_socks] = local;
	if (bound)
		*bound = d->locals[d->n_socks];
	d->n_socks++;
	return 0;
}

/* ---- extra sockets ---- */

void daemon_extra_init(struct daemon_extra *x, uint32_t bind_ip)
{
	memset(x, 0, sizeof(*x));
	x->bind_ip = bind_ip;
	for (size_t k = 0; k <= DAEMON_MAX_EXTRA; k++)
		x->fds[k] = -1;
}

void daemon_extra_fini(struct daemon_extra *x)
{
	while (x->n_open > 0) {
		uint16_t k = x->open[--x->n_open];
		close(x->fds[k]);
		x->fds[k] = -1;
		x->closed++;
	}
}

/* A socket for extra socket k: no IP_RECVERR (daemon.h), the same receive
 * buffer as the main sockets. -1 with errno. */
static int bind_extra(uint32_t ip, uint16_t *port)
{
	struct p2p_endpoint ep = p2p_endpoint4(ip, 0);
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr_of(&ep, &ss);
	int fd = net_socket_for(&ep, SOCK_DGRAM);
	if (fd < 0)
		return -1;
	struct p2p_endpoint local;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || net_local_endpoint(fd, &local) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	int rcvbuf = 1 << 16; /* a few answers each, not a flood's worth */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*port = local.port;
	return fd;
}

int daemon_extra_socket(struct daemon_extra *x, uint16_t k)
{
	if (k == 0 || k > DAEMON_MAX_EXTRA) {
		errno = EINVAL;
		return -1;
	}
	if (x->fds[k] >= 0)
		return x->fds[k];
	int fd = bind_extra(x->bind_ip, &x->ports[k]);
	if (fd < 0) {
		x->open_errors++;
		return -1;
	}
	x->fds[k] = fd;
	x->open[x->n_open++] = k;
	x->opened++;
	return fd;
}

bool daemon_extra_local(const struct daemon_extra *x, uint16_t k, struct p2p_endpoint *out)
{
	if (k == 0 || k > DAEMON_MAX_EXTRA || x->fds[k] < 0)
		return false;
	*out = (struct p2p_endpoint){.ip = x->bind_ip, .port = x->ports[k]};
	return true;
}

size_t daemon_extra_prune(struct daemon_extra *x, bool (*wanted)(void *ctx, uint16_t k), void *ctx)
{
	size_t closed = 0;
	for (size_t i = 0; i < x->n_open;) {
		uint16_t k = x->open[i];
		if (wanted(ctx, k)) {
			i++;
			continue;
		}
		close(x->fds[k]);
		x->fds[k] = -1;
		x->open[i] = x->open[--x->n_open]; /* order does not matter */
		x->closed++;
		closed++;
	}
	return closed;
}

size_t daemon_raise_fd_limit(size_t need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : (size_t)rl.rlim_cur;
}

/* The socket dg leaves from: extra socket k, or among the main sockets of
 * dg->to's family (a socket sends to its own family only) the one bound to
 * dg->from, else the first (an agent's one socket of that family, bound to
 * any address, which knows itself by another). -1 if there is none. */
static int sending_fd(struct daemon *d, const struct p2p_datagram *dg)
{
	int first = -1;
	if (dg->socket > 0)
		return d->extra ? daemon_extra_socket(d->extra, dg->socket) : -1;
	for (size_t i = 0; i < d->n_socks; i++) {
		if (d->locals[i].family != dg->to.family)
			continue;
		if (p2p_endpoint_equal(&d->locals[i], &dg->from))
			return d->fds[i];
		if (first < 0)
			first = d->fds[i];
	}
	return first;
}

int daemon_send(struct daemon *d, const struct p2p_datagram *dg)
{
	int fd = sending_fd(d, dg);
	struct sockaddr_storage to;
	socklen_t tl = net_sockaddr_of(&dg->to, &to);
	ssize_t n = fd < 0 ? -1 : sendto(fd, dg->buf, dg->len, 0, (struct sockaddr *)&to, tl);
	/* With IP_RECVERR an ICMP error also sets the socket's pending error
	 * (__udp4_lib_err), and the next send reports it instead of sending
	 * (sock_alloc_send_pskb: sock_error) - whatever its destination. The
	 * error itself waits in the error queue; send once more. Chromium does
	 * the same (services/network/p2p/socket_udp.cc, P2PSocketUdp::DoSend). */
	if (n < 0 && fd >= 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		n = sendto(fd, dg->buf, dg->len, 0, (struct sockaddr *)&to, tl);
	if (n < 0) {
		d->send_errors++;
		return -1;
	}
	d->sent++;
	return 0;
}

/* The ICMP error one control message of the error queue carries, if it is
 * one: IP_RECVERR with SO_EE_ORIGIN_ICMP for IPv4 (ip_recv_error), and
 * IPV6_RECVERR with SO_EE_ORIGIN_ICMP6 for IPv6 (ipv6_recv_error, queued by
 * ipv6_icmp_error); the error's source follows sock_extended_err
 * (SO_EE_OFFENDER). 0 if it is, 1 if another kind (a local error), -1 if
 * the message is no error at all. */
static int icmp_of_cmsg(const struct cmsghdr *c, struct p2p_icmp_error *out)
{
	bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
	bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
	if (!v4 && !v6)
		return -1;
	const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
	if (ee->ee_origin != (v6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP))
		return 1;
	out->reporter = net_endpoint_of(SO_EE_OFFENDER(ee));
	out->reporter.port = 0;
	out->type = ee->ee_type;
	out->code = ee->ee_code;
	return 0;
}

/* One message of the error queue: an ICMP or ICMPv6 error about a datagram
 * we sent. Linux puts the datagram's destination in msg_name and the rest
 * in a control message (icmp_of_cmsg). 0 if one was read and is an ICMP
 * error, 1 if it was another kind (a local error), -1 if none. */
static int read_one_error(int fd, struct p2p_icmp_error *out)
{
	uint8_t quoted[P2P_MAX_DATAGRAM];
	union {
		struct cmsghdr align;
		uint8_t
		    buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
	} control;
	struct sockaddr_storage dst;
	struct iovec iov = {quoted, sizeof(quoted)};
	struct msghdr msg = {.msg_name = &dst,
			     .msg_namelen = sizeof(dst),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};

	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		int rc = icmp_of_cmsg(c, out);
		if (rc < 0)
			continue;
		if (rc == 0)
			out->remote = net_endpoint_of((struct sockaddr *)&dst);
		return rc;
	}
	return 1;
}

size_t daemon_read_errors(struct daemon *d, size_t i, const struct daemon_ops *ops, void *ctx,
			  bool *done)
{
	struct p2p_icmp_error err;
	size_t n = 0;
	int rc;

	*done = false;
	while (!*done && (rc = read_one_error(d->fds[i], &err)) >= 0) {
		n++;
		if (rc > 0)
			continue;
		d->icmp_errors++;
		if (ops->icmp_error == NULL)
			continue;
		uint64_t now = daemon_now_ns();
		err.local = d->locals[i];
		ops->icmp_error(ctx, now, &d->locals[i], &err);
		*done = ops->flush(ctx, d, now);
	}
	return n;
}

/* An errno an ICMP error leaves pending on a UDP socket (icmp_err_convert,
 * __udp4_lib_err): not the socket's failure. */
static bool icmp_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENONET:
	case ENOPROTOOPT:
	case EPROTO:
	case EMSGSIZE:
	case EOPNOTSUPP:
	case EACCES: /* ICMPv6 administratively prohibited (icmpv6_err_convert) */
		return true;
	default:
		return false;
	}
}

/* Drains up to RECV_BURST datagrams from socket i into ops->input, flushing
 * after each so output queues stay short. 1 if flush said done. Every size is
 * passed on: RFC 5780 PADDING makes Binding requests and answers larger than
 * an MTU on purpose (turnutils_natdiscovery -P sends 1524 bytes, coturn
 * answers with 1604), and whatever the p2p object refuses it counts. */
static int receive_burst(struct daemon *d, size_t i, const struct daemon_ops *ops, void *ctx)
{
	static uint8_t buf[DAEMON_MAX_RECEIVE];
	for (int k = 0; k < RECV_BURST; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(d->fds[i], buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The pending error of an ICMP error (IP_RECVERR): the
			 * error itself is in the error queue. */
			bool done;
			int e = errno;
			if (daemon_read_errors(d, i, ops, ctx, &done) == 0 && !icmp_errno(e))
				return -1;
			if (done)
				return 1;
			continue;
		}
		d->received++;
		struct p2p_endpoint from = net_endpoint_of((struct sockaddr *)&ss);
		uint64_t now = daemon_now_ns();
		if (ops->input(ctx, now, &d->locals[i], &from, buf, (size_t)n) < 0)
			d->refused++;
		if (ops->flush(ctx, d, now))
			return 1;
	}
	return 0;
}

static int poll_timeout_ms(uint64_t deadline, uint64_t now)
{
	if (deadline == P2P_NO_DEADLINE)
		return -1;
	if (deadline <= now)
		return 0;
	uint64_t ms = (deadline - now + P2P_NS_PER_MS - 1) / P2P_NS_PER_MS; /* never wake early */
	return ms > 60000 ? 60000 : (int)ms;
}

static bool signalled(struct daemon *d)
{
	struct signalfd_siginfo si;
	if (read(d->sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	d->last_signal = (int)si.ssi_signo;
	return true;
}

/* poll() said something about TCP sockets pfd[0..n): each goes to its
 * object, then flush. True if flush said done. */
static bool tcp_ready(struct daemon *d, const struct pollfd *pfd, size_t n,
		      const struct daemon_ops *ops, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		uint64_t now = daemon_now_ns();
		daemon_tcp_ready(d->tcp, pfd[i].fd, pfd[i].revents, now);
		if (ops->flush(ctx, d, now))
			return true;
	}
	return false;
}

/* Extra sockets for poll(): their pollfds at pfd, their numbers in ks. */
static size_t extra_pollfds(const struct daemon_extra *x, struct pollfd *pfd, uint16_t *ks)
{
	if (x == NULL)
		return 0;
	for (size_t i = 0; i < x->n_open; i++) {
		ks[i] = x->open[i];
		pfd[i] = (struct pollfd){.fd = x->fds[ks[i]], .events = POLLIN};
	}
	return x->n_open;
}

/* Whatever an extra socket's error is (ICMP errors are not asked for, but a
 * local one may still come), it is cleared and dropped (daemon.h). */
static void clear_extra_error(int fd)
{
	int e;
	socklen_t el = sizeof(e);
	uint8_t junk[64];
	struct iovec iov = {junk, sizeof(junk)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
	while (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		;
}

/* Drains up to RECV_BURST datagrams from extra socket k (fd when polled)
 * into ops->input_socket, flushing after each; stops if flush closed it. 1 if
 * flush said done. A receive error is the socket's to forget, not the loop's. */
static int receive_extra_burst(struct daemon *d, uint16_t k, int fd, const struct daemon_ops *ops,
			       void *ctx)
{
	static uint8_t buf[DAEMON_MAX_RECEIVE];
	for (int i = 0; i < RECV_BURST && d->extra->fds[k] == fd; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				clear_extra_error(fd);
			return 0;
		}
		d->received++;
		struct p2p_endpoint from = net_endpoint_of((struct sockaddr *)&ss);
		uint64_t now = daemon_now_ns();
		if (ops->input_socket == NULL ||
		    ops->input_socket(ctx, now, k, &from, buf, (size_t)n) < 0)
			d->refused++;
		if (ops->flush(ctx, d, now))
			return 1;
	}
	return 0;
}

/* poll() said something about extra sockets pfd[0..n) (numbers ks). True if
 * flush said done. One closed meanwhile (flush pruned it) is skipped. */
static bool extra_ready(struct daemon *d, const struct pollfd *pfd, const uint16_t *ks, size_t n,
			const struct daemon_ops *ops, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (pfd[i].revents == 0 || d->extra->fds[ks[i]] != pfd[i].fd)
			continue;
		if (pfd[i].revents & POLLERR)
			clear_extra_error(pfd[i].fd);
		if ((pfd[i].revents & POLLIN) &&
		    receive_extra_burst(d, ks[i], pfd[i].fd, ops, ctx) > 0)
			return true;
	}
	return false;
}

/* poll() said something about main socket i: its errors, then its
 * datagrams. DAEMON_STOP_DONE/ERROR to end the loop, else 1. */
static int main_ready(struct daemon *d, size_t i, short revents, const struct daemon_ops *ops,
		      void *ctx)
{
	bool done = false;
	if ((revents & POLLERR) && daemon_read_errors(d, i, ops, ctx, &done) && done)
		return DAEMON_STOP_DONE;
	if (!(revents & POLLIN))
		return 1;
	int rc = receive_burst(d, i, ops, ctx);
	if (rc != 0)
		return rc > 0 ? DAEMON_STOP_DONE : DAEMON_STOP_ERROR;
	return 1;
}

enum daemon_stop daemon_run(struct daemon *d, const struct daemon_ops *ops, void *ctx)
{
	struct pollfd pfd[DAEMON_MAX_SOCKETS + 1 + DAEMON_TCP_MAX + DAEMON_MAX_EXTRA];
	uint16_t ks[DAEMON_MAX_EXTRA];
	for (;;) {
		uint64_t now = daemon_now_ns();
		if (ops->next_deadline(ctx) <= now)
			ops->tick(ctx, now);
		if (ops->flush(ctx, d, now))
			return DAEMON_STOP_DONE;
		now = daemon_now_ns();
		if (d->until_ns <= now)
			return DAEMON_STOP_TIMEOUT;
		uint64_t deadline = ops->next_deadline(ctx);
		if (d->until_ns < deadline)
			deadline = d->until_ns;
		for (size_t i = 0; i < d->n_socks; i++)
			pfd[i] = (struct pollfd){.fd = d->fds[i], .events = POLLIN};
		pfd[d->n_socks] = (struct pollfd){.fd = d->sig_fd, .events = POLLIN};
		struct pollfd *tcp_pfd = pfd + d->n_socks + 1;
		size_t n_tcp = d->tcp ? daemon_tcp_pollfds(d->tcp, tcp_pfd, DAEMON_TCP_MAX) : 0;
		struct pollfd *extra_pfd = tcp_pfd + n_tcp;
		size_t n_extra = extra_pollfds(d->extra, extra_pfd, ks);
		int n = poll(pfd, d->n_socks + 1 + n_tcp + n_extra, poll_timeout_ms(deadline, now));
		if (n < 0 && errno != EINTR)
			return DAEMON_STOP_ERROR;
		if (n <= 0)
			continue;
		if ((pfd[d->n_socks].revents & POLLIN) && signalled(d))
			return DAEMON_STOP_SIGNAL;
		for (size_t i = 0; i < d->n_socks; i++) {
			int rc = main_ready(d, i, pfd[i].revents, ops, ctx);
			if (rc <= 0)
				return (enum daemon_stop)rc;
		}
		if (n_tcp && tcp_ready(d, tcp_pfd, n_tcp, ops, ctx))
			return DAEMON_STOP_DONE;
		if (n_extra && extra_ready(d, extra_pfd, ks, n_extra, ops, ctx))
			return DAEMON_STOP_DONE;
	}
}
