/*
 * socket.h - a TCP socket's change of state in words (TRACE_SOCKET,
 * sim/trace.h): "alice's TCP 10.0.0.7:40000 → 203.0.113.5:80: SYN-SENT →
 * ESTABLISHED (SYN+ACK #12)".
 *
 * The states are RFC 9293's names (3.3.2), as model/tcp.h's enum tcp_state
 * numbers them; the errors are the errno an application is told, in
 * glibc's strerror words ("Connection refused"). explain/ sits below
 * model/, so the names are kept here, in the enum's order (test_explain_tcp
 * checks them against tcp_state_name).
 */
#ifndef NATSIM_EXPLAIN_SOCKET_H
#define NATSIM_EXPLAIN_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "sim/trace.h"

/* "SYN-SENT", "TIME-WAIT", ...; "?" out of range. */
const char *explain_tcp_state_name(uint8_t state);
/* What moved a socket, as a word ("application", "segment", "reset",
 * "retries", "time-wait", "icmp"); "?" out of range. */
const char *explain_tcp_cause_name(uint8_t cause);
/* "SYN+ACK", "FIN+ACK", "RST", "ACK" (tcpdump's order is FIN SYN RST PSH
 * ACK URG ECE CWR; the names joined by '+'), "none" for no flag. */
char *explain_tcp_flags(uint8_t flags, char *out, size_t size);
/* strerror(3)'s words for the errors a TCP connection ends with
 * ("Connection refused"), and the constant's name ("ECONNREFUSED"). */
const char *explain_errno_words(int err);
const char *explain_errno_name(int err);

/* One end of the socket as ss prints it: "10.0.0.7:40000",
 * "[2001:db8::1]:80" (RFC 5952 section 6); `remote` picks which. A
 * listener's local end bound to every address is "*:80" for IPv4 and
 * "[::]:80" for IPv6; its remote "*". Returns out. */
char *explain_socket_end(const struct trace_socket *s, int remote, char *out, size_t size);
/* Room for any end. */
#define EXPLAIN_SOCKET_END_SIZE ENDPOINT6_TEXT_SIZE

/* The sentence for a socket's change of state. `flags` are the TCP flags
 * of the segment that moved it (trace_socket.packet_id), or -1 if the
 * caller does not know them. `with_node` starts with the node ("alice's
 * TCP ..."); without it, "TCP ..." (a timeline's node column says whose).
 * Returns the length written (cut to size). */
size_t explain_socket(const struct trace_socket *s, int flags, int with_node, char *out,
		      size_t size);

#endif
