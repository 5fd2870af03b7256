/*
 * host_layout.h - struct host, private to model/. model/host.c owns it and
 * is the only file that changes it (model/host_tcp.c keeps its `tcp` field); model/prefetch.c reads
 * its layout to ask the CPU for a host's tables before a packet arrives, and pins what it relies on
 * with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_HOST_LAYOUT_H
#define NATSIM_MODEL_HOST_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/host.h"
#include "model/net.h"
#include "model/packet6.h"

struct host {
	struct node node; /* first: host_from_node() casts */
	uint32_t gateway;
	bool fw_on;
	struct firewall *fw;
	struct conntrack *ct;
	/* Unordered; a host has a handful, so "is this port taken?" is a scan.
	 * (A 65536-bit map answered without one, but at 8 KiB a host it was
	 * most of a 100 000-peer world's memory: bench_scale.) */
	struct host_socket **socks;
	uint32_t n_socks, cap_socks; /* 32 bits: room for `tcp` in the line */
	uint16_t next_port;	     /* where the next ephemeral search starts */
	uint16_t ip_id;
	/* ICMP: the rate limiter and sysctls (model/icmp.h) and the raw ICMP
	 * listener, made on first use (most hosts of a large world never answer
	 * anything, and a host's own fields fit one cache line: prefetch.c). */
	struct host_icmp *icmp;
	/* TCP's socket table and sysctls (model/host_tcp.c), made on first use. */
	struct host_tcp_table *tcp;
};

/* A UDP socket of either family (host.h). IPv4 ones are in the host's
 * `socks`, IPv6 ones in its struct host6 (model/host6.c): two port
 * spaces, as IPV6_V6ONLY makes them. */
struct host_socket {
	struct host *host;
	uint32_t addr; /* 0: every address of the host */
	uint16_t port;
	host_recv_fn fn;
	host_error_fn err_fn; /* IP_RECVERR: NULL ignores ICMP errors */
	void *ctx;
	/* IPv6 only (is6). */
	bool is6;
	bool any6; /* bound to every address */
	struct ip6_addr addr6;
	host_recv6_fn fn6;
	host_error6_fn err6_fn;
};

/* Between host.c and host_tcp.c. */
/* Send a packet the stack built through the host's output path (firewall
 * OUTPUT, conntrack, route, link). Returns its id, or 0 if dropped here. */
uint64_t host_send_built(struct host *h, struct packet *p);
/* A TCP segment that passed INPUT: to its connection, a listener, or an RST. */
void host_tcp_receive(struct host *h, struct iface *in, struct packet *p,
		      const struct packet_info *info);
/* An ICMP error (packet `packet_id`) that quotes a TCP segment. */
void host_tcp_icmp_error(struct host *h, const struct packet_info *info, uint64_t packet_id);
/* The same two for IPv6 (host6.c: after the host's ip6 filter INPUT). */
void host_tcp_receive6(struct host *h, struct iface *in, struct packet *p,
		       const struct packet6_info *info);
void host_tcp_icmp_error6(struct host *h, const struct packet6_info *info, uint64_t packet_id);
void host_tcp_free_all(struct host *h);

#endif
