/*
 * bgtraffic.h - background traffic on a simulated host: other programs
 * behind the same NAT that open new UDP flows at a steady rate, so that the
 * NAT hands out ports in between the ones the peer's agent gets (what port
 * prediction has to live with, issue 17).
 *
 * Each flow is what a DNS lookup or a game's server query is: a fresh UDP
 * socket on an ephemeral port (the host's own choice: Linux binds an
 * unbound socket at its first send, inet_send_prepare -> inet_autobind in
 * net/ipv4/af_inet.c), one datagram, then close. The NAT's
 * mapping for it lives on until its timeout; the next flow comes from a new
 * port, so it takes a new mapping in every NAT on the way. Flows are evenly
 * spaced, flow k at start + k/rate s, and nothing is random.
 *
 * The far end takes the datagrams in: from the start, a socket listens on
 * the destination port of `sink` (the destination host) for the rest of
 * the run, unless something already does, so no reply and no ICMP error
 * comes back.
 *
 * What the program says goes to the trace as a TRACE_APP record of app
 * "background" on the host when the traffic ends (how many flows, from which
 * ports); the runner says when it starts. The packets are in the trace as
 * any others.
 */
#ifndef NATSIM_APP_BGTRAFFIC_H
#define NATSIM_APP_BGTRAFFIC_H

#include <stdint.h>

#include "model/host.h"
#include "model/net.h"

struct bg_traffic;

/* The background programs of one world; they live until bg_traffic_free.
 * NULL on OOM. */
struct bg_traffic *bg_traffic_new(struct net *net);
void bg_traffic_free(struct bg_traffic *bg);

struct bg_options {
	int rate;	     /* new flows a second, >= 1 */
	int64_t duration_ns; /* flows start while less than this has passed */
	int size;	     /* bytes of each flow's datagram */
};

/* Start background traffic from h to dst now. `sink` is the host holding
 * dst's address (or NULL: nobody listens for it). `dst_name` names the
 * destination in what the program says (borrowed for the call). Returns 0,
 * or -1 if out of memory. */
int bg_traffic_start(struct bg_traffic *bg, struct host *h, const struct endpoint *dst,
		     const char *dst_name, struct host *sink, const struct bg_options *opt);

/* The same to an IPv6 destination: each flow a socket of host_udp_bind6's
 * (Linux's net.ipv6 ephemeral range is IPv4's, ip_local_port_range). */
int bg_traffic_start6(struct bg_traffic *bg, struct host *h, const struct endpoint6 *dst,
		      const char *dst_name, struct host *sink, const struct bg_options *opt);

/* When the last flow of `opt` starts, after the start: for the runner's
 * default end. */
int64_t bg_traffic_duration(const struct bg_options *opt);

#endif
