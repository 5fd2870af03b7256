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
 * Choices model/tcp.c makes, each as Linux 6.1 where it is visible:
 *   - options: a SYN carries tcp_options_linux_syn's four (MSS, SACK
 *     permitted, timestamps, window scale 7); a SYN+ACK those the SYN
 *     offered; once both SYNs had timestamps every segment carries one
 *     (TSval = virtual milliseconds + a per-connection offset, as
 *     tcp_time_stamp plus secure_tcp_ts_off), so a full segment holds 1448
 *     bytes. SACK is agreed but never used;
 *   - out-of-order segments are dropped and answered with a duplicate ACK
 *     (Linux queues them); the sender goes back to SND.UNA on the third
 *     duplicate ACK (RFC 5681 3.2 fast retransmit, once a window: RFC
 *     6582's `recover`) or at the timeout;
 *   - an RST counts only at exactly RCV.NXT, elsewhere in the window it
 *     gets a challenge ACK (RFC 5961 3.2, Linux's tcp_validate_incoming;
 *     the challenge ACK rate limit is not modelled), a SYN on a synchronized
 *     connection a challenge ACK (RFC 5961 4.2);
 *   - the retransmission limits are Linux's time-based ones
 *     (tcp_model_timeout): 127 s for a SYN, 924.6 s for tcp_retries2,
 *     102.2 s for an orphan (tcp_orphan_retries' 8), five SYN+ACKs for a
 *     listener's half-open child; an orphan's FIN-WAIT-2 lasts
 *     tcp_fin_timeout;
 *   - ICMP errors as tcp_v4_err: any destination unreachable or time
 *     exceeded ends a connect in SYN-SENT (EHOSTUNREACH, ECONNREFUSED, ...),
 *     later ones are only remembered and reported if the connection times
 *     out; fragmentation needed (path MTU) is ignored. ICMPv6 errors as
 *     tcp_v6_err (tcp_icmp6_error); packet too big is ignored likewise;
 *   - over IPv6 the MSS is 20 bytes less (a 40-byte IPv6 header: 1440 on a
 *     1500-byte link, as Linux's tcp_v6_connect sizes it); the host sets
 *     tcp_config.mss so, the machine knows no family.
 *
 * The host's socket API is in model/host.h (host_tcp_*); this header holds
 * the vocabulary shared with the trace (struct trace_socket) and the
 * renderers.
 */
#ifndef NATSIM_MODEL_TCP_H
#define NATSIM_MODEL_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/packet.h"
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
	int64_t fin_timeout;	 /* net.ipv4.tcp_fin_timeout: SIM_S(60), an orphan's FIN-WAIT-2 */
	uint16_t mss;		 /* 1460 on a 1500-byte link */
	uint32_t window;	 /* the fixed receive window offered, bytes: 65535,
				  * rounded down to whole segments as Linux does
				  * (64240 on a SYN, 65160 on a SYN+ACK) */
	size_t send_buffer;	 /* bytes host_tcp_send may queue: 262144 */
};

void tcp_config_default(struct tcp_config *cfg);

/* ---- The connection state machine (model/tcp.c) ---------------------------
 *
 * Pure, as the p2p code is: segments and calls in, segments, changes of
 * state and in-order bytes out through `struct tcp_conn_ops`, the time
 * given by the caller, the next deadline read back (tcp_deadline) for the
 * caller to arm a timer. model/host_tcp.c does the I/O: it builds packets,
 * runs the engine timer and defers the events to the application. Keeping
 * the machine free of the engine lets tests/test_tcp.c drive two of them by
 * hand, segment by segment, as RFC 9293's figures do. */

/* A segment as the machine reads it: RFC 9293 3.10.7's SEG.SEQ, SEG.ACK,
 * SEG.WND (as sent, before scaling), the control bits, the text. */
struct tcp_seg_in {
	uint8_t flags; /* enum tcp_flag */
	uint32_t seq, ack;
	uint16_t window;
	const struct tcp_options *opt; /* NULL: none */
	const uint8_t *data;
	size_t len;
	uint64_t packet_id; /* for the trace: the segment that moved the state */
};

/* A change of state, for TRACE_SOCKET and the application's events. */
struct tcp_change {
	enum tcp_state from, to;
	enum tcp_cause cause;
	uint64_t packet_id; /* the segment received or sent that moved it, or 0 */
	int error;	    /* errno told to the application, or 0 */
};

struct tcp_conn_ops {
	/* Transmit a segment; returns its packet id (0: it could not leave). */
	uint64_t (*send)(void *ctx, const struct tcp_segment *seg);
	void (*changed)(void *ctx, const struct tcp_change *ch);
	/* Bytes in order, borrowed for the call. */
	void (*data)(void *ctx, const uint8_t *data, size_t len);
	/* The peer's FIN arrived in order: no more bytes will come. */
	void (*fin)(void *ctx);
};

/* One connection's Transmission Control Block (RFC 9293 3.3.1). The fields
 * are visible so that host_tcp.c can embed it and tests can read it; only
 * tcp.c changes them. */
struct tcp_conn {
	enum tcp_state state;
	struct tcp_config cfg;
	const struct tcp_conn_ops *ops;
	void *ctx;
	int64_t now;  /* the time of the call being served */
	bool passive; /* made by a listener from a SYN (a request sock in Linux) */
	bool simultaneous; /* SYN-SENT met the other's SYN: a simultaneous open */
	/* Send sequence space (RFC 9293 3.3.1 figure 3). snd_max is the highest
	 * sequence sent: after a timeout snd_nxt goes back to snd_una (go back
	 * N) and climbs again. */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	/* Receive sequence space (figure 4). */
	uint32_t irs, rcv_nxt, rcv_wnd;
	/* What the SYNs agreed (RFC 7323, RFC 2018). */
	bool got_syn, ts_ok, ws_ok, sack_ok;
	uint8_t snd_wscale, rcv_wscale;
	uint16_t mss; /* the payload a segment carries: peer's MSS, less options */
	uint32_t ts_offset, ts_recent;
	/* The bytes from buf_seq on: sent and unacknowledged, then unsent (the
	 * retransmission queue and the send buffer in one). */
	uint8_t *buf;
	size_t buf_off, buf_len, buf_cap; /* the queue is buf[buf_off, buf_off + buf_len) */
	uint32_t buf_seq;
	bool fin_queued;   /* the application closed: a FIN after the bytes */
	bool fin_sent;	   /* snd_max covers the FIN */
	bool rcv_shutdown; /* closed for reading: new data aborts (RFC 1122) */
	bool peer_fin;	   /* the peer's FIN was taken */
	bool ack_owed;
	uint64_t fin_id; /* the packet that carried our FIN first */
	/* Retransmission (RFC 6298, Linux's constants). */
	int64_t rto, srtt, rttvar;
	bool have_rtt, rtt_timing;
	uint32_t rtt_seq;
	int64_t rtt_start;
	int64_t rto_at;	       /* SIM_TIME_NEVER: timer off */
	int64_t retrans_stamp; /* when the head first went out (0: not retransmitting) */
	unsigned retransmits;  /* timeouts of the present head */
	unsigned dupacks;      /* duplicate ACKs in a row (RFC 5681) */
	uint32_t recover;      /* RFC 6582: snd_max at the last fast retransmit */
	bool recover_set;
	int64_t time_wait_at; /* TIME-WAIT's end, or an orphan's FIN-WAIT-2's */
	int soft_error;	      /* an ICMP error remembered (sk_err_soft) */
};

/* A listener's answer to a segment (RFC 9293 3.10.7.2). */
enum tcp_listen_action {
	TCP_LISTEN_IGNORE, /* an RST, or neither SYN nor ACK: dropped */
	TCP_LISTEN_RESET,  /* an ACK: <SEQ=SEG.ACK><CTL=RST> */
	TCP_LISTEN_ACCEPT, /* a SYN: a new connection in SYN-RECEIVED */
};
enum tcp_listen_action tcp_listen_verdict(const struct tcp_seg_in *seg);
/* The RST a closed port answers with (RFC 9293 3.10.7.1): false for an
 * RST, which is never answered. */
bool tcp_reset_for(const struct tcp_seg_in *seg, struct tcp_segment *out);

/* A CLOSED connection with its initial send sequence number and timestamp
 * offset (both drawn by the caller from its seeded stream). Returns 0, or
 * -1 if out of memory. */
int tcp_conn_init(struct tcp_conn *c, const struct tcp_config *cfg, const struct tcp_conn_ops *ops,
		  void *ctx, uint32_t iss, uint32_t ts_offset);
void tcp_conn_release(struct tcp_conn *c); /* frees its buffer */

/* Active open: the SYN, SYN-SENT. */
void tcp_open(struct tcp_conn *c, int64_t now);
/* Passive open from a listener's SYN: SYN-RECEIVED, the SYN+ACK. */
void tcp_open_passive(struct tcp_conn *c, const struct tcp_seg_in *syn, int64_t now);
/* A segment for this connection (RFC 9293 3.10.7.3 and 3.10.7.4). */
void tcp_input(struct tcp_conn *c, const struct tcp_seg_in *seg, int64_t now);
/* SEND: queue bytes; returns how many fit the send buffer. */
size_t tcp_send(struct tcp_conn *c, const void *data, size_t len, int64_t now);
/* CLOSE: a FIN after the queued bytes (RFC 9293 3.10.4); closed for
 * reading too, as close(2) is: data that still arrives aborts. */
void tcp_close(struct tcp_conn *c, int64_t now);
/* shutdown(SHUT_WR): the FIN after the queued bytes, still reading until
 * the peer's FIN (Linux tcp_shutdown; what `nc -N` does at end of input). */
void tcp_shutdown(struct tcp_conn *c, int64_t now);
/* ABORT: an RST where the peer knows us, then CLOSED (RFC 9293 3.10.5). */
void tcp_abort(struct tcp_conn *c, int64_t now);
/* A new SYN takes this TIME-WAIT connection's four-tuple (the caller has
 * decided it may): CLOSED at once, the SYN named as the cause. */
void tcp_time_wait_yield(struct tcp_conn *c, const struct tcp_seg_in *syn, int64_t now);
/* The time of the next timeout (retransmission, TIME-WAIT), or
 * SIM_TIME_NEVER; tcp_timeout at or after it does what is due. */
int64_t tcp_deadline(const struct tcp_conn *c);
void tcp_timeout(struct tcp_conn *c, int64_t now);
/* An ICMP error quoting one of our segments (sequence `seq`), as Linux's
 * tcp_v4_err takes it. */
void tcp_icmp_error(struct tcp_conn *c, uint8_t type, uint8_t code, uint32_t seq,
		    uint64_t packet_id, int64_t now);
/* The same for an ICMPv6 error (RFC 4443 types and codes), as tcp_v6_err
 * takes it: any destination unreachable or time exceeded ends a connect
 * in SYN-SENT; packet too big is ignored (tcp.c says why). */
void tcp_icmp6_error(struct tcp_conn *c, uint8_t type, uint8_t code, uint32_t seq,
		     uint64_t packet_id, int64_t now);

#endif
