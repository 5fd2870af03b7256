/*
 * daemon.h - the real-socket driver loop around the sans-I/O p2p objects: the
 * loop of STYLE.md on poll() and CLOCK_MONOTONIC instead of the engine
 * (app/world/simdrive.c is the same loop in the simulator).
 *
 *   receive -> ops->input -> ops->flush (send datagrams, report events)
 *   -> poll() until a socket is readable, a signal arrives or
 *      min(ops->next_deadline, until_ns) -> ops->tick when due
 *
 * SIGINT and SIGTERM are blocked and read from a signalfd while the loop runs,
 * so they end the loop cleanly (DAEMON_STOP_SIGNAL) instead of killing the
 * process between a receive and a send. Sockets are non-blocking UDP of
 * either family (an IPv6 one is IPV6_V6ONLY: app/net/sockaddr.h), and TCP
 * through daemon_tcp.h when struct daemon's `tcp` is set.
 *
 * Extra sockets (p2p/agent.h "Extra sockets"): with struct daemon's `extra`
 * set, a datagram whose `socket` is k > 0 leaves from the k-th extra UDP
 * socket, bound on first use (daemon_extra_socket) to the table's address and
 * an ephemeral port; the loop polls the open ones with the others and hands
 * what arrives on socket k to ops->input_socket; daemon_extra_prune closes
 * the ones the p2p object no longer wants.
 *
 * ICMP errors: every socket sets IP_RECVERR (IPV6_RECVERR for IPv6), so
 * Linux queues the ICMP and ICMPv6 errors about its datagrams
 * (ip_icmp_error, ipv6_icmp_error); the loop reads them from the error
 * queue (MSG_ERRQUEUE, struct sock_extended_err, SO_EE_ORIGIN_ICMP or
 * SO_EE_ORIGIN_ICMP6) and hands them to ops->icmp_error, the family in the
 * error's endpoints. Without it an unconnected UDP socket hears of none
 * (__udp4_lib_err, __udp6_lib_err). Extra sockets do not set it: agent.h lets a driver
 * drop the errors about their datagrams, and a birthday search's probes
 * would fill error queues nobody reads.
 */
#ifndef NATSIM_APP_DAEMON_H
#define NATSIM_APP_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p.h"

/* A coordinator with an alternate address (RFC 5780) listens on four
 * endpoints per family. */
#define DAEMON_MAX_SOCKETS 8
/* Receive buffer: the largest UDP payload there is, so nothing is ever cut. */
#define DAEMON_MAX_RECEIVE 65536
/* Extra sockets: k = 1..DAEMON_MAX_EXTRA (agent.h's AGENT_MAX_SOCKETS). */
#define DAEMON_MAX_EXTRA 1024

struct daemon;
struct daemon_tcp;

struct daemon_ops {
	/* A datagram arrived on our endpoint `local` (ip 0 if bound to any), of
	 * any size UDP carries (up to 65507 bytes over IPv4). Return 0 if it was
	 * used, negative if the p2p object refused it (counted in `refused`; the
	 * callback itself says why, if it wants to). */
	int (*input)(void *ctx, uint64_t now_ns, const struct p2p_endpoint *local,
		     const struct p2p_endpoint *from, const uint8_t *buf, size_t len);
	void (*tick)(void *ctx, uint64_t now_ns);
	uint64_t (*next_deadline)(void *ctx);
	/* Send queued datagrams (daemon_send) and report events. Return true to
	 * end the loop (DAEMON_STOP_DONE). */
	bool (*flush)(void *ctx, struct daemon *d, uint64_t now_ns);
	/* Optional (NULL: errors are counted and dropped). An ICMP error about
	 * a datagram sent from our endpoint `local` (ip 0 if bound to any);
	 * flush follows. */
	void (*icmp_error)(void *ctx, uint64_t now_ns, const struct p2p_endpoint *local,
			   const struct p2p_icmp_error *err);
	/* Optional (NULL: refused): a datagram arrived on extra socket k
	 * (struct daemon_extra); as input otherwise, flush follows. */
	int (*input_socket)(void *ctx, uint64_t now_ns, uint16_t k, const struct p2p_endpoint *from,
			    const uint8_t *buf, size_t len);
};

/* The extra sockets of one p2p object, by number k (index 0 unused). */
struct daemon_extra {
	uint32_t bind_ip;		      /* address they bind (host order; 0: any) */
	int fds[DAEMON_MAX_EXTRA + 1];	      /* -1: not open */
	uint16_t ports[DAEMON_MAX_EXTRA + 1]; /* the ephemeral port each got */
	uint16_t open[DAEMON_MAX_EXTRA];      /* the open ones' k, in no order */
	size_t n_open;
	uint64_t opened, closed, open_errors; /* open_errors: binds that failed (EMFILE...) */
};

enum daemon_stop {
	DAEMON_STOP_DONE = 0,	 /* flush said so */
	DAEMON_STOP_SIGNAL = 1,	 /* SIGINT or SIGTERM */
	DAEMON_STOP_TIMEOUT = 2, /* until_ns passed */
	DAEMON_STOP_ERROR = -1,	 /* poll or a socket failed (errno set) */
};

struct daemon {
	int fds[DAEMON_MAX_SOCKETS];
	struct p2p_endpoint locals[DAEMON_MAX_SOCKETS];
	size_t n_socks;
	int sig_fd;
	sigset_t old_mask;
	int last_signal;   /* after DAEMON_STOP_SIGNAL: SIGINT or SIGTERM */
	uint64_t until_ns; /* monotonic; P2P_NO_DEADLINE: run until done or a signal */
	uint64_t received, sent, send_errors;
	uint64_t refused;     /* datagrams ops->input refused */
	uint64_t icmp_errors; /* ICMP errors read from the error queues */
	/* Optional (the caller's; NULL: UDP only): TCP sockets daemon_run polls
	 * too, reporting to their object (daemon_tcp.h) and then calling
	 * ops->flush. */
	struct daemon_tcp *tcp;
	/* Optional (the caller's; NULL: socket k > 0 cannot send): extra
	 * sockets daemon_send opens and daemon_run polls. */
	struct daemon_extra *extra;
};

/* Blocks SIGINT/SIGTERM and opens the signalfd. -1 with a message in err. */
int daemon_init(struct daemon *d, char *err, size_t errlen);
/* Closes the sockets and the signalfd, restores the signal mask. */
void daemon_fini(struct daemon *d);

/* Binds a UDP socket to `ep` (port 0: an ephemeral port); fills the bound
 * endpoint into *bound if non-NULL. -1 with a message naming ep in err. */
int daemon_bind(struct daemon *d, const struct p2p_endpoint *ep, struct p2p_endpoint *bound,
		char *err, size_t errlen);

/* Sends dg from the socket bound to dg->from (the first socket if none
 * matches: an agent's one socket), or with dg->socket k > 0 from extra
 * socket k, opened now if need be (no extra table or a failed open: -1). -1 on a send error
 * (counted; UDP: the caller carries on). A send that fails only because an ICMP error was pending
 * on the socket is tried once more (see daemon.c). */
int daemon_send(struct daemon *d, const struct p2p_datagram *dg);

/* Extra sockets. init: none open yet, they will bind bind_ip. fini: closes
 * them all. */
void daemon_extra_init(struct daemon_extra *x, uint32_t bind_ip);
void daemon_extra_fini(struct daemon_extra *x);
/* The fd of extra socket k (1..DAEMON_MAX_EXTRA), bound now if it is not
 * open yet. -1 with errno if k is out of range (EINVAL) or the socket could
 * not be made (counted in open_errors). */
int daemon_extra_socket(struct daemon_extra *x, uint16_t k);
/* Extra socket k's own endpoint; false if it is not open. */
bool daemon_extra_local(const struct daemon_extra *x, uint16_t k, struct p2p_endpoint *out);
/* Closes every open extra socket for which wanted(ctx, k) is false;
 * returns how many it closed. */
size_t daemon_extra_prune(struct daemon_extra *x, bool (*wanted)(void *ctx, uint16_t k), void *ctx);
/* Raises the soft limit on open files to at least `need` if the hard limit
 * allows (1024 extra sockets do not fit the usual soft limit of 1024).
 * Returns the soft limit now in force. */
size_t daemon_raise_fd_limit(size_t need);

/* Reads socket i's error queue: each ICMP error goes to ops->icmp_error
 * (if set), then ops->flush, which may say done (*done). Returns how many
 * errors it read. daemon_run calls it on POLLERR. */
size_t daemon_read_errors(struct daemon *d, size_t i, const struct daemon_ops *ops, void *ctx,
			  bool *done);

/* Runs the loop until flush returns true, a signal, or d->until_ns. */
enum daemon_stop daemon_run(struct daemon *d, const struct daemon_ops *ops, void *ctx);

/* CLOCK_MONOTONIC in ns: what the p2p objects get as `now`. */
uint64_t daemon_now_ns(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC: the agent's clock_offset_ns, so its
 * registration timestamps are wall-clock and survive a restart. */
uint64_t daemon_wall_offset_ns(void);
/* struct p2p_random.fill backed by libsodium's randombytes_buf. */
void daemon_random_fill(void *ctx, uint8_t *out, size_t len);
/* ISO-8601 UTC wall clock with milliseconds: "2025-01-31T12:00:00.123Z". */
void daemon_timestamp(char *buf, size_t size);

/* "a.b.c.d:port", "[IPv6]:port" (p2p_endpoint_parse), or ":port" / "port"
 * meaning 0.0.0.0:port. -1 if malformed. */
int daemon_parse_endpoint(const char *text, struct p2p_endpoint *out);
/* The IPv4 addresses of interfaces that are up (host order), loopback only if
 * include_loopback. Returns how many were written (at most max), -1 on error. */
int daemon_local_addresses(uint32_t *out, size_t max, bool include_loopback);

#endif
