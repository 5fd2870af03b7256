/*
 * host_layout.h - struct host, private to model/. model/host.c owns it and
 * is the only file that changes it; model/prefetch.c reads its layout to ask
 * the CPU for a host's tables before a packet arrives, and pins what it
 * relies on with _Static_asserts. Nothing outside model/ includes this.
 */
#ifndef NATSIM_MODEL_HOST_LAYOUT_H
#define NATSIM_MODEL_HOST_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/host.h"
#include "model/net.h"

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
	size_t n_socks, cap_socks;
	uint16_t next_port; /* where the next ephemeral search starts */
	uint16_t ip_id;
	/* ICMP: the rate limiter and sysctls (model/icmp.h) and the raw ICMP
	 * listener, made on first use (most hosts of a large world never answer
	 * anything, and a host's own fields fit one cache line: prefetch.c). */
	struct host_icmp *icmp;
};

#endif
