/*
 * tcp.h - a TCP of teaching size that behaves as Linux 6.1's does wherever a
 * student can see it (RFC 9293; Linux's choices where the RFC leaves one).
 *
 * The states are RFC 9293's (3.3.2, figure 5). What the stack promises:
 * the three-way handshake; SYN retransmission with Linux's backoff (1 s, 2 s,
 * 4 s, ... up to tcp_syn_retries, then ETIMEDOUT); RST for a segment to a
 * port nobody listens on (RFC 9293 3.10.7.1) and ECONNREFUSED for an RST
 * answering a SYN; the FIN handshake and TIME_WAIT (Linux's TCP_TIMEWAIT_LEN,
 * 60 s); simultaneous open (SYN_SENT receives a SYN: SYN_RECEIVED, RFC 9293
 * 3.5 figure 8); data with a fixed window and retransmission on timeout
 * (RTO from RFC 6298, Linux's 200 ms floor), enough for a bulk transfer and
 * for loss. Not modelled: congestion control beyond a fixed window, SACK
 * recovery, urgent data, keepalive, Nagle, delayed ACK timers (an ACK goes
 * out for every segment).
 *
 * The host's socket API is in model/host.h (host_tcp_*); this header holds
 * the vocabulary shared with the trace (struct trace_socket) and the
 * renderers.
 */
#ifndef NATSIM_MODEL_TCP_H
#define NATSIM_MODEL_TCP_H

#include <stdint.h>

#include "sim/engine.h"

/* RFC 9293's states, in its order; ss(8) and /proc/net/tcp number them
 * differently: tcp_state_name gives the RFC's words. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_STATE_COUNT
};

/* What moved a socket from one state to the next (struct trace_socket). */
enum tcp_cause {
	TCP_CAUSE_APP = 0,   /* the application: listen, connect, close, abort */
	TCP_CAUSE_SEGMENT,   /* a segment arrived (trace_socket.packet_id) */
	TCP_CAUSE_RST,	     /* an RST arrived */
	TCP_CAUSE_RETRIES,   /* retransmissions ran out (ETIMEDOUT) */
	TCP_CAUSE_TIME_WAIT, /* 2MSL ran out: the socket is freed */
	TCP_CAUSE_ICMP,	     /* a hard ICMP error about the handshake */
	TCP_CAUSE_COUNT
};

/* "SYN-SENT", "ESTABLISHED", ... as RFC 9293 writes them. */
const char *tcp_state_name(enum tcp_state s);
/* "application", "segment", "reset", "retries", "time-wait", "icmp". */
const char *tcp_cause_name(enum tcp_cause c);

/* The stack's sysctls and constants, Linux 6.1's defaults. */
struct tcp_config {
	unsigned syn_retries;	 /* net.ipv4.tcp_syn_retries: 6 */
	unsigned synack_retries; /* net.ipv4.tcp_synack_retries: 5 */
	unsigned retries2;	 /* net.ipv4.tcp_retries2: 15 */
	int64_t rto_initial;	 /* TCP_TIMEOUT_INIT: SIM_S(1) */
	int64_t rto_min;	 /* TCP_RTO_MIN: SIM_MS(200) */
	int64_t rto_max;	 /* TCP_RTO_MAX: SIM_S(120) */
	int64_t time_wait;	 /* TCP_TIMEWAIT_LEN: SIM_S(60) */
	uint16_t mss;		 /* 1460 on a 1500-byte link */
	uint32_t window;	 /* the fixed receive window offered, bytes: 65535 */
	size_t send_buffer;	 /* bytes host_tcp_send may queue: 262144 */
};

void tcp_config_default(struct tcp_config *cfg);

#endif
