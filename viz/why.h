/*
 * why.h - the fate of one packet, hop by hop, each decision in words:
 *
 *   Packet #12: UDP 192.168.1.5:5000 → 198.51.100.9:5000 len=120 ttl=64 [STUN Binding Request]
 *
 *     1.062s  alice     sent by alice from 192.168.1.5:5000 to 198.51.100.9:5000
 *     1.062s  alice     left alice through eth0 onto link home-lan
 *     1.062s  home      arrived at home on lan
 *     1.062s  home      home translated source 192.168.1.5:5000 → 203.0.113.7:5000 using
 *                       its mapping 192.168.1.5:5000 ↔ 203.0.113.7:5000
 *     ...
 *     1.083s  office    dropped at office: its mapping for 10.0.0.7:5000 only accepts ...
 *
 *   Fate: dropped at office (nat-filter), 21 ms after it was sent.
 *
 * Between two hops at the same node, the connection-tracking and mapping
 * changes that node made (a new mapping, a flow now replied) are told too:
 * they are what the packet did to the tables. Packet ids are the "#42" of the
 * ladder and the verbose timeline.
 *
 * Renderers read the trace and nothing else (DESIGN.md).
 */
#ifndef NATSIM_VIZ_WHY_H
#define NATSIM_VIZ_WHY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/packet.h" /* payload_summary_fn */
#include "sim/trace_log.h"

#define WHY_NO_SUCH_PACKET (-2)

/* Tell packet `id`'s story. Returns 0; WHY_NO_SUCH_PACKET (printing nothing)
 * if no hop of the log carries that id; -1 on a write error. `payload` may
 * be NULL; `ascii` replaces arrows and other symbols with ASCII. */
int why_render(FILE *out, const struct trace_log *log, uint64_t id, payload_summary_fn payload,
	       bool ascii);

/* The smallest and largest packet id in the log; false if it has no packet. */
bool why_packet_range(const struct trace_log *log, uint64_t *lo, uint64_t *hi);

#endif
