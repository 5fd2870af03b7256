/*
 * pcap.h - a run as packet captures for Wireshark and tshark: one capture
 * file per node interface, as if tcpdump had been listening on each.
 *
 * A capture holds the real bytes of every TX hop at the sending interface
 * and every RX hop at the receiving one, time-stamped with the virtual time
 * (nanosecond precision). The packets are raw IP: natsim models no link
 * layer. A run whose packets are all IPv4 gives LINKTYPE_IPV4 captures (or
 * LINKTYPE_RAW where libpcap lacks it); a run with any IPv6 packet gives
 * LINKTYPE_RAW ones, which carry both families by the version nibble.
 * Written with libpcap (pcap_open_dead, pcap_dump_open, pcap_dump).
 *
 * The prefix is capture_, not pcap_: libpcap owns that one.
 */
#ifndef NATSIM_VIZ_PCAP_H
#define NATSIM_VIZ_PCAP_H

#include <stddef.h>

#include "sim/trace_log.h"

struct capture_stats {
	size_t files;	/* captures written, one per interface that saw a packet */
	size_t packets; /* packet records written, over all files */
};

/* Write NODE-IFACE.pcap into `dir` for every interface with a TX or RX hop
 * in `log` (characters other than letters, digits, '-', '_' and '.' in a
 * name become '_'). `dir` is created, with its parents, if missing. Returns
 * 0, or -1 with a sentence in err[err_size] naming the file or folder that
 * failed and why. `st` may be NULL. */
int capture_write_dir(const struct trace_log *log, const char *dir, struct capture_stats *st,
		      char *err, size_t err_size);

#endif
