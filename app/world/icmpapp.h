/*
 * icmpapp.h - ping and traceroute as programs on simulated hosts, the way
 * iputils ping and Linux traceroute behave where a student can see it.
 *
 * ping sends echo requests through the host's ICMP socket API
 * (host_send_echo, host_set_icmp_listener) and reports each reply or error
 * in ping's words; traceroute sends UDP probes to port 33434 and up with a
 * TTL that grows by one per hop, three per hop, each from a socket of its
 * own, and reads the errors that come back on each probe socket's error
 * queue (host_udp_set_error_fn), as `traceroute` does by default (UDP,
 * -q 3, -w 5, -m 30), except that natsim goes hop by hop where Linux keeps
 * 16 probes in flight (-N 16; what it prints is the same).
 *
 * What the programs print goes to the trace as TRACE_APP records of app
 * "ping" or "traceroute" on the host: the timeline shows them; expectations
 * read the packets themselves.
 */
#ifndef NATSIM_APP_ICMPAPP_H
#define NATSIM_APP_ICMPAPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "model/host.h"
#include "model/net.h"

#define TRACEROUTE_FIRST_PORT 33434 /* traceroute's default base port */
#define TRACEROUTE_PROBES 3	    /* -q 3 */
#define TRACEROUTE_WAIT SIM_S(5)    /* -w 5 */
#define PING_LINGER SIM_S(10)	    /* ping -c waits this long for the last replies */

struct icmp_apps;

/* The programs of one world; they live until icmp_apps_free. NULL on OOM. */
struct icmp_apps *icmp_apps_new(struct net *net);
void icmp_apps_free(struct icmp_apps *apps);

struct ping_options {
	int count;	     /* echo requests */
	int64_t interval_ns; /* between them */
	int size;	     /* payload bytes */
	int ttl;
};

/* Start `ping -c count -i interval -s size -t ttl dst` on h now. `dst_name`
 * names the target in what ping prints (borrowed for the call). Returns 0,
 * or -1 if out of memory. */
int icmp_ping_start(struct icmp_apps *apps, struct host *h, uint32_t dst, const char *dst_name,
		    const struct ping_options *opt);
/* Start `traceroute -m max_hops dst` on h now; each probe from a socket of
 * its own (a host with no free port left shows that probe as '*'). Returns
 * 0, or -1 if out of memory. */
int icmp_traceroute_start(struct icmp_apps *apps, struct host *h, uint32_t dst,
			  const char *dst_name, int max_hops);

/* How long the program may run at most, for the runner's default end. */
int64_t icmp_ping_duration(const struct ping_options *opt);
int64_t icmp_traceroute_duration(int max_hops);

/* One traceroute probe, either family. It has a socket of its own, so a
 * port of its own, as Linux traceroute's UDP method opens one per probe
 * (mod-udp.c udp_send_probe) and reads that socket's error queue: through
 * a NAT each probe makes its own mapping. */
struct traceroute_probe {
	struct host_socket *sock; /* open until the probe's hop ends */
	uint16_t port;		  /* its destination port, 33434 and up */
	int64_t sent_at, rtt;
	bool answered;
	uint8_t type, code;    /* the error it drew */
	uint32_t info;	       /* that error's MTU (packet too big), else 0 */
	uint32_t from;	       /* who answered: IPv4 */
	struct ip6_addr from6; /* or IPv6 */
};

/* The error socket s drew about destination port `port`, at `now`: the
 * hop's probe it answers (NULL if none waits for it), its time and kind
 * recorded; the caller records who answered. *all: every probe of the hop
 * is answered now. */
struct traceroute_probe *traceroute_probe_answer(struct traceroute_probe *probes,
						 const struct host_socket *s, uint16_t port,
						 int64_t now, uint8_t type, uint8_t code,
						 bool *all);
/* Close the hop's probe sockets (its end). */
void traceroute_probes_close(struct traceroute_probe *probes);

/* What Linux traceroute 2.1.2 makes of the ICMP (family 4) or ICMPv6
 * (family 6) error a probe drew (traceroute.c parse_icmp_res): the mark
 * printed after the probe's time (" !N", " !X", " !<5>", "" for none) in
 * mark[size], and true if the probe is final, the trace ending at its hop:
 * every error is but time exceeded in transit. `info` is the MTU a packet
 * too big (fragmentation needed) carries, printed as " !F-<info>". */
bool traceroute_icmp_res(int family, uint8_t type, uint8_t code, uint32_t info, char *mark,
			 size_t size);

#endif
