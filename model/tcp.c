/*
 * tcp.c - a TCP connection's state machine, read as RFC 9293 writes it
 * (see tcp.h). Sections follow the RFC: the closed port and the listener
 * (3.10.7.1, 3.10.7.2), output, the timers (RFC 6298), SYN-SENT (3.10.7.3),
 * the synchronized states check by check (3.10.7.4), the application's
 * calls (3.10.1-3.10.5) and ICMP errors. Where the RFC leaves a choice,
 * Linux 6.1's is taken and the function that makes it named.
 *
 * Simplifications: a fixed receive window (tcp_config.window) and no
 * congestion window; an ACK for every segment (no delayed ACK);
 * out-of-order segments are dropped, not queued, so a loss is repaired by
 * going back to SND.UNA, on the third duplicate ACK or at the timeout (no
 * SACK recovery); no zero-window probes (our window never closes); no
 * urgent data, no keepalive, no PAWS.
 */
#include "model/tcp.h"
#include "model/packet6.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[TCP_STATE_COUNT] = {
    [TCP_CLOSED] = "CLOSED",	       [TCP_LISTEN] = "LISTEN",
    [TCP_SYN_SENT] = "SYN-SENT",       [TCP_SYN_RECEIVED] = "SYN-RECEIVED",
    [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
    [TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
    [TCP_CLOSING] = "CLOSING",	       [TCP_LAST_ACK] = "LAST-ACK",
    [TCP_TIME_WAIT] = "TIME-WAIT",
};

static const char *const cause_names[TCP_CAUSE_COUNT] = {
    [TCP_CAUSE_APP] = "application", [TCP_CAUSE_SEGMENT] = "segment",	  [TCP_CAUSE_RST] = "reset",
    [TCP_CAUSE_RETRIES] = "retries", [TCP_CAUSE_TIME_WAIT] = "time-wait", [TCP_CAUSE_ICMP] = "icmp",
};

const char *tcp_state_name(enum tcp_state s)
{
	return (unsigned)s < TCP_STATE_COUNT ? state_names[s] : "?";
}

const char *tcp_cause_name(enum tcp_cause c)
{
	return (unsigned)c < TCP_CAUSE_COUNT ? cause_names[c] : "?";
}

void tcp_config_default(struct tcp_config *cfg)
{
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->retries2 = 15;
	cfg->rto_initial = SIM_S(1);
	cfg->rto_min = SIM_MS(200);
	cfg->rto_max = SIM_S(120);
	cfg->time_wait = SIM_S(60);
	cfg->fin_timeout = SIM_S(60);
	cfg->mss = 1460;
	cfg->window = 65535;
	cfg->send_buffer = 262144;
}

/* ---- Sequence numbers (RFC 9293 3.4: arithmetic modulo 2^32) ------------ */

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b : a;
}

/* The sequence after our last queued byte: where the FIN goes. */
static uint32_t data_end(const struct tcp_conn *c)
{
	return c->buf_seq + (uint32_t)c->buf_len;
}

/* ---- The closed port and the listener (RFC 9293 3.10.7.1, 3.10.7.2) ----- */

enum tcp_listen_action tcp_listen_verdict(const struct tcp_seg_in *seg)
{
	if (seg->flags & TCP_RST)
		return TCP_LISTEN_IGNORE;
	if (seg->flags & TCP_ACK)
		return TCP_LISTEN_RESET;
	/* SYN+FIN is discarded, as Linux's tcp_rcv_state_process does in
	 * LISTEN (the RFC is silent; the pair is a scanner's trick). */
	if ((seg->flags & (TCP_SYN | TCP_FIN)) == TCP_SYN)
		return TCP_LISTEN_ACCEPT;
	return TCP_LISTEN_IGNORE;
}

bool tcp_reset_for(const struct tcp_seg_in *seg, struct tcp_segment *out)
{
	uint32_t len = (uint32_t)seg->len + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);

	if (seg->flags & TCP_RST)
		return false;
	*out = (struct tcp_segment){0};
	if (seg->flags & TCP_ACK) {
		out->flags = TCP_RST;
		out->seq = seg->ack;
	} else {
		out->flags = TCP_RST | TCP_ACK;
		out->seq = 0;
		out->ack = seg->seq + len;
	}
	return true;
}

/* ---- Life of the block ---------------------------------------------------- */

/* tcp_select_initial_window rounds the offered window down to whole
 * segments of `mss`: a connecting Linux's 65535 becomes the 64240 (44 x
 * 1460) its SYN shows. */
static uint32_t initial_window(const struct tcp_config *cfg, uint32_t mss)
{
	return cfg->window > mss ? cfg->window - cfg->window % mss : cfg->window;
}

int tcp_conn_init(struct tcp_conn *c, const struct tcp_config *cfg, const struct tcp_conn_ops *ops,
		  void *ctx, uint32_t iss, uint32_t ts_offset)
{
	*c = (struct tcp_conn){0};
	c->state = TCP_CLOSED;
	c->cfg = *cfg;
	c->ops = ops;
	c->ctx = ctx;
	c->iss = c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->buf_seq = iss + 1;
	c->rcv_wnd = initial_window(cfg, cfg->mss);
	c->ts_offset = ts_offset;
	c->mss = cfg->mss;
	c->rto = cfg->rto_initial;
	c->rto_at = SIM_TIME_NEVER;
	c->time_wait_at = SIM_TIME_NEVER;
	c->buf_cap = cfg->send_buffer;
	c->buf = malloc(c->buf_cap > 0 ? c->buf_cap : 1);
	return c->buf != NULL ? 0 : -1;
}

void tcp_conn_release(struct tcp_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->buf_len = c->buf_cap = 0;
}

static void set_state(struct tcp_conn *c, enum tcp_state to, enum tcp_cause cause, uint64_t id,
		      int error)
{
	struct tcp_change ch = {c->state, to, cause, id, error};

	if (to == c->state)
		return;
	c->state = to;
	if (to == TCP_CLOSED || to == TCP_TIME_WAIT)
		c->rto_at = SIM_TIME_NEVER;
	if (to == TCP_TIME_WAIT)
		c->time_wait_at = c->now + c->cfg.time_wait;
	/* An orphan (closed by its application) waits in FIN-WAIT-2 for
	 * tcp_fin_timeout at most: Linux's tcp_rcv_state_process hands it to
	 * tcp_time_wait(sk, TCP_FIN_WAIT2, tcp_fin_time(sk)). */
	if (to == TCP_FIN_WAIT_2 && c->rcv_shutdown)
		c->time_wait_at = c->now + c->cfg.fin_timeout;
	c->ops->changed(c->ctx, &ch);
}

/* ---- Output ---------------------------------------------------------------- */

/* TSval from virtual time in milliseconds (Linux 6.1's tcp_time_stamp
 * ticks at 1 kHz) plus the connection's offset (secure_tcp_ts_off). */
static uint32_t ts_now(const struct tcp_conn *c)
{
	return (uint32_t)(c->now / SIM_MS(1)) + c->ts_offset;
}

/* A SYN's options as Linux's tcp_syn_options; on a SYN+ACK only those the
 * peer's SYN offered (tcp_synack_options), echoing its TSval. */
static void syn_options(const struct tcp_conn *c, struct tcp_options *opt)
{
	tcp_options_linux_syn(opt, ts_now(c));
	opt->mss = c->cfg.mss;
	if (!c->got_syn)
		return;
	opt->ts_ecr = c->ts_recent;
	if (!c->ts_ok)
		opt->seen &= (uint16_t)~TCP_OPT_SEEN(TCP_OPT_TIMESTAMP);
	if (!c->ws_ok)
		opt->seen &= (uint16_t)~TCP_OPT_SEEN(TCP_OPT_WSCALE);
	if (!c->sack_ok)
		opt->seen &= (uint16_t)~TCP_OPT_SEEN(TCP_OPT_SACK_PERM);
}

/* The window we offer: unscaled on a SYN (RFC 7323 2.2), else shifted. */
static uint16_t window_field(const struct tcp_conn *c, bool syn)
{
	uint32_t w = syn ? c->rcv_wnd : c->rcv_wnd >> c->rcv_wscale;

	return (uint16_t)(w > 0xffff ? 0xffff : w);
}

/* Send one segment of ours. Every segment but a SYN carries the timestamp
 * option once both SYNs had it, as Linux's tcp_established_options does. */
static uint64_t emit(struct tcp_conn *c, uint8_t flags, uint32_t seq, const uint8_t *data,
		     size_t len)
{
	struct tcp_options opt = {0};
	struct tcp_segment seg = {.flags = flags, .seq = seq, .payload = data, .payload_len = len};

	if (flags & TCP_ACK) {
		seg.ack = c->rcv_nxt;
		c->ack_owed = false;
	}
	seg.window = window_field(c, flags & TCP_SYN);
	if (flags & TCP_SYN) {
		syn_options(c, &opt);
	} else if (c->ts_ok) {
		opt.seen = TCP_OPT_SEEN(TCP_OPT_TIMESTAMP);
		opt.ts_val = ts_now(c);
		opt.ts_ecr = c->ts_recent;
	}
	seg.opt = opt.seen ? &opt : NULL;
	return c->ops->send(c->ctx, &seg);
}

/* An RST without options, as tcp_v4_send_reset sends for a segment that
 * does not belong (<SEQ=SEG.ACK><CTL=RST>). */
static void emit_reset(struct tcp_conn *c, uint32_t seq)
{
	struct tcp_segment seg = {.flags = TCP_RST, .seq = seq};

	c->ops->send(c->ctx, &seg);
}

/* RFC 6298 5.1: a segment with data (or SYN, FIN) went out; start the timer
 * if it is off, and time one segment at a time for the RTT (Karn: never a
 * retransmitted one, rtt_timing is cleared on a timeout). */
static void sent_sequence(struct tcp_conn *c, uint32_t end)
{
	if (c->rto_at == SIM_TIME_NEVER)
		c->rto_at = c->now + c->rto;
	if (!c->rtt_timing && !seq_lt(c->snd_nxt, c->snd_max)) {
		c->rtt_timing = true;
		c->rtt_seq = end;
		c->rtt_start = c->now;
	}
	c->snd_nxt = end;
	c->snd_max = seq_max(c->snd_max, end);
}

static uint64_t send_syn(struct tcp_conn *c)
{
	uint8_t flags = c->got_syn ? TCP_SYN | TCP_ACK : TCP_SYN;
	uint64_t id = emit(c, flags, c->iss, NULL, 0);

	sent_sequence(c, c->iss + 1);
	return id;
}

/* States whose queue may still go out (the FIN too, once queued). */
static bool may_send(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* One segment from snd_nxt: MSS-sized data within the peer's window, the
 * FIN riding on the last one (tcp_send_fin joins it to the queue's tail).
 * Returns false when nothing could go. */
static bool send_next(struct tcp_conn *c)
{
	uint32_t end = data_end(c), wnd_end = c->snd_una + c->snd_wnd;
	size_t n = seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
	bool fin;

	if (n > c->mss)
		n = c->mss;
	if (n > 0 && !seq_lt(c->snd_nxt, wnd_end))
		return false; /* the window is full (no zero-window probes) */
	if (n > 0 && seq_lt(wnd_end, c->snd_nxt + (uint32_t)n))
		n = wnd_end - c->snd_nxt;
	fin = c->fin_queued && c->snd_nxt + (uint32_t)n == end;
	if (n == 0 && !fin)
		return false;
	uint8_t flags = TCP_ACK | (n > 0 && c->snd_nxt + (uint32_t)n == end ? TCP_PSH : 0) |
			(fin ? TCP_FIN : 0);
	uint64_t id =
	    emit(c, flags, c->snd_nxt, c->buf + c->buf_off + (c->snd_nxt - c->buf_seq), n);

	if (fin && !c->fin_sent) {
		c->fin_sent = true;
		c->fin_id = id;
	}
	sent_sequence(c, c->snd_nxt + (uint32_t)n + (fin ? 1 : 0));
	return true;
}

/* Send what the window allows (`one`: a single segment, after a timeout). */
static void output(struct tcp_conn *c, bool one)
{
	if (seq_lt(c->snd_nxt, c->iss + 1)) {
		if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ||
		    c->state == TCP_CLOSED)
			send_syn(c);
		return;
	}
	if (!may_send(c))
		return;
	while (send_next(c) && !one)
		;
}

/* ---- Timers: RFC 6298 with Linux's constants ------------------------------ */

/* A new RTT sample R (RFC 6298 2.2, 2.3). Linux's tcp_rtt_estimator and
 * __tcp_set_rto floor the variance term rather than the sum: RTO = SRTT +
 * max(4 * RTTVAR, TCP_RTO_MIN), so a LAN connection's RTO is 200 ms plus
 * its RTT, never the RFC's 1 s minimum. */
static void rtt_sample(struct tcp_conn *c, int64_t r)
{
	int64_t var;

	if (!c->have_rtt) {
		c->srtt = r;
		c->rttvar = r / 2;
		c->have_rtt = true;
	} else {
		int64_t err = c->srtt > r ? c->srtt - r : r - c->srtt;

		c->rttvar = (3 * c->rttvar + err) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	var = 4 * c->rttvar > c->cfg.rto_min ? 4 * c->rttvar : c->cfg.rto_min;
	c->rto = c->srtt + var;
	if (c->rto > c->cfg.rto_max)
		c->rto = c->cfg.rto_max;
}

/* Linux's tcp_model_timeout: how long `boundary` retransmissions with
 * doubling from rto_base last, the doubling stopping at TCP_RTO_MAX. For
 * a SYN (base 1 s, tcp_syn_retries 6): 1+2+4+8+16+32+64 = 127 s. */
static int64_t model_timeout(const struct tcp_conn *c, unsigned boundary, int64_t rto_base)
{
	unsigned thresh = 0;

	while (rto_base << (thresh + 1) <= c->cfg.rto_max)
		thresh++; /* ilog2(TCP_RTO_MAX / rto_base) */
	if (boundary <= thresh)
		return ((INT64_C(2) << boundary) - 1) * rto_base;
	return ((INT64_C(2) << thresh) - 1) * rto_base +
	       (int64_t)(boundary - thresh) * c->cfg.rto_max;
}

/* tcp_write_timeout's question: have the retransmissions run out? A
 * handshake counts tcp_syn_retries from TCP_TIMEOUT_INIT, a synchronized
 * connection tcp_retries2 from TCP_RTO_MIN (retransmits_timed_out); a
 * listener's half-open child counts tcp_synack_retries SYN+ACKs
 * (reqsk_timer_handler). */
static bool retries_exhausted(const struct tcp_conn *c)
{
	bool handshake = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED;

	if (c->passive && c->state == TCP_SYN_RECEIVED)
		return c->retransmits >= c->cfg.synack_retries;
	if (c->retransmits == 0)
		return false;
	if (handshake)
		return c->now - c->retrans_stamp >=
		       model_timeout(c, c->cfg.syn_retries, c->cfg.rto_initial);
	/* An orphan counts tcp_orphan_retries instead, whose 0 means 8 while
	 * the RTO is below TCP_RTO_MAX (tcp_orphan_retries()). */
	return c->now - c->retrans_stamp >=
	       model_timeout(c, c->rcv_shutdown && c->rto < c->cfg.rto_max ? 8 : c->cfg.retries2,
			     c->cfg.rto_min);
}

/* The retransmission timer fired (RFC 6298 5.4-5.6): resend the earliest
 * unacknowledged segment, back the timer off (doubling, up to TCP_RTO_MAX),
 * and go back to snd_una: what was sent after it is sent again as ACKs
 * return (the receiver drops out-of-order segments). */
static void retransmit(struct tcp_conn *c)
{
	if (c->retransmits == 0)
		c->retrans_stamp = c->rto_at - c->rto;
	if (retries_exhausted(c)) {
		/* tcp_write_err: a remembered ICMP error, else ETIMEDOUT. */
		int err = c->soft_error ? c->soft_error : ETIMEDOUT;

		set_state(c, TCP_CLOSED, TCP_CAUSE_RETRIES, 0,
			  c->passive && c->state == TCP_SYN_RECEIVED ? 0 : err);
		return;
	}
	c->retransmits++;
	c->rto = c->rto * 2 > c->cfg.rto_max ? c->cfg.rto_max : c->rto * 2;
	c->rto_at = c->now + c->rto;
	c->rtt_timing = false;
	c->snd_nxt = c->snd_una;
	c->dupacks = 0;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		send_syn(c);
	else
		output(c, true);
}

void tcp_time_wait_yield(struct tcp_conn *c, const struct tcp_seg_in *syn, int64_t now)
{
	c->now = now;
	if (c->state == TCP_TIME_WAIT)
		set_state(c, TCP_CLOSED, TCP_CAUSE_SEGMENT, syn->packet_id, 0);
}

int64_t tcp_deadline(const struct tcp_conn *c)
{
	if (c->state == TCP_TIME_WAIT || c->state == TCP_FIN_WAIT_2)
		return c->time_wait_at;
	if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
		return SIM_TIME_NEVER;
	return c->rto_at;
}

void tcp_timeout(struct tcp_conn *c, int64_t now)
{
	c->now = now;
	if (c->state == TCP_TIME_WAIT || c->state == TCP_FIN_WAIT_2) {
		/* 2MSL is over (Linux: TCP_TIMEWAIT_LEN, 60 s), or an orphan's
		 * tcp_fin_timeout: the block goes, on Linux's timewait timer. */
		if (now >= c->time_wait_at)
			set_state(c, TCP_CLOSED, TCP_CAUSE_TIME_WAIT, 0, 0);
		return;
	}
	if (c->rto_at != SIM_TIME_NEVER && now >= c->rto_at)
		retransmit(c);
}

/* ---- Input: what every state shares -------------------------------------- */

static void fail(struct tcp_conn *c, enum tcp_cause cause, uint64_t id, int error)
{
	set_state(c, TCP_CLOSED, cause, id, error);
}

/* The peer's SYN: its ISN, and the options both sides now agree on. */
static void learn_syn(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	const struct tcp_options *o = s->opt;
	uint16_t seen = o != NULL ? o->seen : 0;
	uint16_t peer_mss = seen & TCP_OPT_SEEN(TCP_OPT_MSS) ? o->mss : 536; /* RFC 9293 3.7.1 */

	c->got_syn = true;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->ts_ok = seen & TCP_OPT_SEEN(TCP_OPT_TIMESTAMP);
	c->ws_ok = seen & TCP_OPT_SEEN(TCP_OPT_WSCALE);
	c->sack_ok = seen & TCP_OPT_SEEN(TCP_OPT_SACK_PERM);
	if (c->ts_ok)
		c->ts_recent = o->ts_val;
	/* RFC 7323 2.2: scaling only when both SYNs carry the option; Linux
	 * caps the peer's shift at 14 (TCP_MAX_WSCALE). */
	c->snd_wscale = c->ws_ok ? (o->wscale > 14 ? 14 : o->wscale) : 0;
	c->rcv_wscale = c->ws_ok ? 7 : 0;
	c->mss = peer_mss < c->cfg.mss ? peer_mss : c->cfg.mss;
	if (c->ts_ok)
		c->mss -= 12;	/* tcp_current_mss: the option's 10 bytes, padded */
	c->snd_wnd = s->window; /* a SYN's window is never scaled */
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
}

/* RFC 9293 3.10.7.4 "If SND.UNA < SEG.ACK =< SND.NXT": drop what is
 * acknowledged, take an RTT sample, restart or stop the timer (RFC 6298
 * 5.2, 5.3). */
static void ack_advance(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	uint32_t ack = s->ack;

	if (seq_lt(c->buf_seq, ack)) {
		size_t n = seq_lt(data_end(c), ack) ? c->buf_len : ack - c->buf_seq;

		c->buf_off = n < c->buf_len ? c->buf_off + n : 0;
		c->buf_len -= n;
		c->buf_seq += (uint32_t)n;
	}
	if (c->rtt_timing && !seq_lt(ack, c->rtt_seq)) {
		c->rtt_timing = false;
		rtt_sample(c, c->now - c->rtt_start);
	} else if (c->retransmits > 0 && c->ts_ok && s->opt != NULL &&
		   (s->opt->seen & TCP_OPT_SEEN(TCP_OPT_TIMESTAMP)) && s->opt->ts_ecr != 0) {
		/* tcp_ack_update_rtt: a retransmitted segment's RTT comes from
		 * the echoed timestamp (RFC 7323 4.1), not from Karn's timer. */
		rtt_sample(c, (int64_t)(ts_now(c) - s->opt->ts_ecr) * SIM_MS(1));
	}
	c->snd_una = ack;
	if (seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->retransmits = 0;
	c->retrans_stamp = 0;
	c->dupacks = 0;
	c->rto_at = c->snd_una == c->snd_max ? SIM_TIME_NEVER : c->now + c->rto;
}

/* RFC 9293 3.10.7.4 fifth check: the window update, from the newest segment. */
static void window_update(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	if (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, s->ack))) {
		c->snd_wnd = (uint32_t)s->window << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
}

static void establish(struct tcp_conn *c, uint64_t id)
{
	set_state(c, TCP_ESTABLISHED, TCP_CAUSE_SEGMENT, id, 0);
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ----------------------------------------- */

static void syn_sent_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	bool ack = s->flags & TCP_ACK;

	if (ack && (seq_le(s->ack, c->iss) || seq_lt(c->snd_max, s->ack))) {
		if (!(s->flags & TCP_RST))
			emit_reset(c, s->ack);
		return;
	}
	if (s->flags & TCP_RST) {
		/* tcp_reset in SYN_SENT: ECONNREFUSED. Without an ACK the RST
		 * cannot be ours to believe: dropped. */
		if (ack)
			fail(c, TCP_CAUSE_RST, s->packet_id, ECONNREFUSED);
		return;
	}
	if (!(s->flags & TCP_SYN))
		return;
	learn_syn(c, s);
	if (ack) {
		ack_advance(c, s);
		c->ack_owed = true;
		establish(c, s->packet_id);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5 figure 8): SYN-RECEIVED, and our
	 * SYN again with an ACK (Linux's tcp_send_synack re-sends the SYN). */
	c->snd_nxt = c->iss;
	c->simultaneous = true;
	set_state(c, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, s->packet_id, 0);
}

/* ---- The synchronized states (RFC 9293 3.10.7.4) ---------------------------- */

static uint32_t seg_end(const struct tcp_seg_in *s)
{
	return s->seq + (uint32_t)s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

/* First check, as Linux's tcp_sequence words it: the segment must reach
 * RCV.NXT and start within the window. A duplicate that ends before
 * RCV.NXT, or one beyond the window, is answered with an ACK. */
static bool acceptable(const struct tcp_conn *c, const struct tcp_seg_in *s)
{
	return !seq_lt(seg_end(s), c->rcv_nxt) && seq_le(s->seq, c->rcv_nxt + c->rcv_wnd);
}

/* tcp_reset_check: once the peer's FIN is in, an RST carrying the FIN's
 * own sequence (RCV.NXT - 1) resets too, acceptable or not. */
static bool rst_after_fin(const struct tcp_conn *c, const struct tcp_seg_in *s)
{
	return s->seq == c->rcv_nxt - 1 &&
	       (c->state == TCP_CLOSE_WAIT || c->state == TCP_LAST_ACK || c->state == TCP_CLOSING);
}

/* Second check, the RST. RFC 5961 3.2 as Linux's tcp_validate_incoming
 * applies it: only an RST at exactly RCV.NXT resets; one elsewhere in the
 * window gets a challenge ACK (its rate limit is not modelled). tcp_reset
 * tells the application ECONNREFUSED in SYN-SENT, EPIPE in CLOSE-WAIT,
 * ECONNRESET elsewhere; TIME-WAIT is simply freed (RFC 1337's advice is
 * off in Linux: tcp_timewait_state_process). */
static void rst_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	int err = c->state == TCP_CLOSE_WAIT ? EPIPE : ECONNRESET;
	bool half_open = c->passive && c->state == TCP_SYN_RECEIVED;

	/* A request sock takes any RST in its window (tcp_check_req). */
	if (s->seq != c->rcv_nxt && !half_open && !rst_after_fin(c, s)) {
		c->ack_owed = true;
		return;
	}
	if (c->state == TCP_TIME_WAIT || half_open)
		err = 0; /* nobody to tell: a request sock is dropped silently */
	fail(c, TCP_CAUSE_RST, s->packet_id, err);
}

/* Fourth check, a SYN in a synchronized state. Linux answers with a
 * challenge ACK (RFC 5961 4.2) except for two SYNs it expects: the peer's
 * SYN again while we are half open (tcp_check_req re-sends the SYN+ACK),
 * and a SYN+ACK crossing ours in a simultaneous open (tcp_validate_incoming
 * lets it through to the ACK check). Returns true to go on. */
static bool syn_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	if (c->state == TCP_SYN_RECEIVED && s->seq == c->irs) {
		if ((s->flags & TCP_ACK) && !c->passive && s->ack == c->snd_max)
			return true;
		if (!(s->flags & TCP_ACK)) {
			c->snd_nxt = c->iss;
			send_syn(c);
			return false;
		}
	}
	c->ack_owed = true;
	return false;
}

/* Our FIN is acknowledged: FIN-WAIT-1, CLOSING and LAST-ACK move on. */
static void fin_acked(struct tcp_conn *c, uint64_t id)
{
	if (!c->fin_sent || seq_lt(c->snd_una, data_end(c) + 1))
		return;
	if (c->state == TCP_FIN_WAIT_1)
		set_state(c, TCP_FIN_WAIT_2, TCP_CAUSE_SEGMENT, id, 0);
	else if (c->state == TCP_CLOSING)
		set_state(c, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, id, 0);
	else if (c->state == TCP_LAST_ACK)
		set_state(c, TCP_CLOSED, TCP_CAUSE_SEGMENT, id, 0);
}

/* RFC 5681 2's duplicate ACK: nothing new acknowledged while data is
 * outstanding, no text, no SYN or FIN, the same window. */
static bool duplicate_ack(const struct tcp_conn *c, const struct tcp_seg_in *s)
{
	return s->ack == c->snd_una && c->snd_una != c->snd_max && s->len == 0 &&
	       !(s->flags & (TCP_SYN | TCP_FIN)) &&
	       ((uint32_t)s->window << c->snd_wscale) == c->snd_wnd;
}

/* The third duplicate ACK (RFC 5681 3.2): send the missing segment again
 * now rather than at the timeout, once per window (RFC 6582's `recover`).
 * Our receiver keeps nothing out of order, so what followed the lost
 * segment is sent again too (go back to SND.UNA); Linux's receiver queues
 * it and SACK tells its sender to resend only the hole. */
static void fast_retransmit(struct tcp_conn *c)
{
	if (!seq_lt(c->recover, c->snd_una) && c->recover_set)
		return;
	c->recover = c->snd_max;
	c->recover_set = true;
	c->rtt_timing = false;
	c->snd_nxt = c->snd_una;
	output(c, false);
}

/* Fifth check, the ACK field. Returns false when the segment stops here. */
static bool ack_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	if (!(s->flags & TCP_ACK))
		return false;
	if (c->state == TCP_SYN_RECEIVED) {
		if (seq_le(s->ack, c->snd_una) || seq_lt(c->snd_max, s->ack)) {
			emit_reset(c, s->ack);
			return false;
		}
		c->snd_wl1 = s->seq - 1; /* take this segment's window */
		establish(c, s->packet_id);
	}
	if (seq_lt(c->snd_max, s->ack)) {
		c->ack_owed = true; /* it acknowledges what we never sent */
		return false;
	}
	if (seq_lt(c->snd_una, s->ack))
		ack_advance(c, s);
	else if (duplicate_ack(c, s) && ++c->dupacks == 3)
		fast_retransmit(c);
	window_update(c, s);
	fin_acked(c, s->packet_id);
	return c->state != TCP_CLOSED;
}

/* Seventh check, the text: delivered in order; a segment beyond RCV.NXT
 * is dropped and answered with a duplicate ACK (natsim keeps no
 * out-of-order queue: the sender's timeout sends it again). After the
 * application closed, new data aborts the connection with an RST, as
 * RFC 1122 4.2.2.13 asks and Linux's tcp_rcv_state_process does
 * (TCPAbortOnData). Returns false if the segment's FIN must wait. */
static bool text_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	uint32_t skip;

	if (s->len == 0)
		return true;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
		return false;
	if (c->rcv_shutdown && seq_lt(c->rcv_nxt, s->seq + (uint32_t)s->len)) {
		emit_reset(c, s->ack);
		fail(c, TCP_CAUSE_SEGMENT, s->packet_id, ECONNRESET);
		return false;
	}
	c->ack_owed = true;
	if (seq_lt(c->rcv_nxt, s->seq))
		return false; /* out of order: dropped */
	skip = c->rcv_nxt - s->seq;
	if (skip >= s->len)
		return true; /* all of it seen before */
	c->rcv_nxt += (uint32_t)s->len - skip;
	c->ops->data(c->ctx, s->data + skip, s->len - skip);
	return true;
}

/* Eighth check, the FIN, taken only in order (right after the text). */
static void fin_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	if (!(s->flags & TCP_FIN))
		return;
	if (c->peer_fin || s->seq + (uint32_t)s->len != c->rcv_nxt) {
		c->ack_owed = true; /* a FIN again, or one out of order */
		if (c->state == TCP_TIME_WAIT)
			c->time_wait_at = c->now + c->cfg.time_wait; /* RFC 9293: restart 2MSL */
		return;
	}
	c->peer_fin = true;
	c->rcv_nxt++;
	c->ack_owed = true;
	c->ops->fin(c->ctx);
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		set_state(c, TCP_CLOSE_WAIT, TCP_CAUSE_SEGMENT, s->packet_id, 0);
		break;
	case TCP_FIN_WAIT_1: /* our FIN not yet acknowledged: both at once */
		set_state(c, TCP_CLOSING, TCP_CAUSE_SEGMENT, s->packet_id, 0);
		break;
	case TCP_FIN_WAIT_2:
		set_state(c, TCP_TIME_WAIT, TCP_CAUSE_SEGMENT, s->packet_id, 0);
		break;
	default:
		break;
	}
}

static void synchronized_input(struct tcp_conn *c, const struct tcp_seg_in *s)
{
	if (!acceptable(c, s)) {
		if ((s->flags & TCP_RST) && rst_after_fin(c, s))
			rst_input(c, s);
		else if (!(s->flags & TCP_RST))
			c->ack_owed = true;
		if (c->state == TCP_TIME_WAIT && (s->flags & TCP_FIN))
			c->time_wait_at = c->now + c->cfg.time_wait;
		return;
	}
	if (s->flags & TCP_RST) {
		rst_input(c, s);
		return;
	}
	if ((s->flags & TCP_SYN) && !syn_input(c, s))
		return;
	if (s->opt != NULL && (s->opt->seen & TCP_OPT_SEEN(TCP_OPT_TIMESTAMP)) && c->ts_ok &&
	    seq_le(s->seq, c->rcv_nxt))
		c->ts_recent = s->opt->ts_val; /* RFC 7323 4.3 */
	if (!ack_input(c, s))
		return;
	if (text_input(c, s) && c->state != TCP_CLOSED)
		fin_input(c, s);
}

void tcp_input(struct tcp_conn *c, const struct tcp_seg_in *seg, int64_t now)
{
	c->now = now;
	switch (c->state) {
	case TCP_CLOSED:
	case TCP_LISTEN:
		return;
	case TCP_SYN_SENT:
		syn_sent_input(c, seg);
		break;
	default:
		synchronized_input(c, seg);
		break;
	}
	if (c->state == TCP_CLOSED)
		return;
	output(c, false);
	if (c->ack_owed)
		emit(c, TCP_ACK, c->snd_nxt, NULL, 0);
}

/* ---- The application's calls (RFC 9293 3.10.1-3.10.5) ---------------------- */

void tcp_open(struct tcp_conn *c, int64_t now)
{
	uint64_t id;

	c->now = now;
	id = send_syn(c);
	set_state(c, TCP_SYN_SENT, TCP_CAUSE_APP, id, 0);
}

void tcp_open_passive(struct tcp_conn *c, const struct tcp_seg_in *syn, int64_t now)
{
	c->now = now;
	c->passive = true;
	c->state = TCP_LISTEN; /* the child starts where its listener is */
	learn_syn(c, syn);
	/* A listener's segments carry timestamps if the SYN did, and
	 * tcp_openreq_init_rwin rounds to that smaller payload: 65160 (45 x
	 * 1448) on Linux's SYN+ACK. */
	c->rcv_wnd = initial_window(&c->cfg, c->ts_ok ? c->cfg.mss - 12u : c->cfg.mss);
	set_state(c, TCP_SYN_RECEIVED, TCP_CAUSE_SEGMENT, syn->packet_id, 0);
	send_syn(c);
}

size_t tcp_send(struct tcp_conn *c, const void *data, size_t len, int64_t now)
{
	size_t room = c->buf_cap - c->buf_len;

	c->now = now;
	if (c->fin_queued || (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT &&
			      c->state != TCP_SYN_SENT && c->state != TCP_SYN_RECEIVED))
		return 0;
	if (len > room)
		len = room;
	if (len == 0)
		return 0;
	/* The queue slides along the buffer as it is acknowledged; it moves
	 * back to the start only when a write would not fit behind it. */
	if (c->buf_off + c->buf_len + len > c->buf_cap) {
		memmove(c->buf, c->buf + c->buf_off, c->buf_len);
		c->buf_off = 0;
	}
	memcpy(c->buf + c->buf_off + c->buf_len, data, len);
	c->buf_len += len;
	output(c, false);
	return len;
}

/* CLOSE: Linux's tcp_close_state table. A FIN goes after the queue; the
 * state changes with the call, the FIN's packet in the record when it
 * left at once. In SYN-SENT the connection is simply forgotten. */
void tcp_close(struct tcp_conn *c, int64_t now)
{
	c->rcv_shutdown = true;
	tcp_shutdown(c, now);
}

void tcp_shutdown(struct tcp_conn *c, int64_t now)
{
	enum tcp_state to;

	c->now = now;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		to = TCP_FIN_WAIT_1;
		break;
	case TCP_CLOSE_WAIT:
		to = TCP_LAST_ACK;
		break;
	case TCP_SYN_SENT:
	case TCP_LISTEN:
		set_state(c, TCP_CLOSED, TCP_CAUSE_APP, 0, 0);
		return;
	default:
		return;
	}
	c->fin_queued = true;
	output(c, false);
	set_state(c, to, TCP_CAUSE_APP, c->fin_sent ? c->fin_id : 0, 0);
	output(c, false);
}

/* ABORT (SO_LINGER 0): tcp_disconnect sends an RST where tcp_need_reset
 * says the peer knows us, then the block is gone. */
void tcp_abort(struct tcp_conn *c, int64_t now)
{
	uint64_t id = 0;

	c->now = now;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		id = emit(c, TCP_RST | TCP_ACK, c->snd_max, NULL, 0);
		break;
	default:
		break;
	}
	set_state(c, TCP_CLOSED, TCP_CAUSE_APP, id, 0);
}

/* ---- ICMP errors (Linux's tcp_v4_err) --------------------------------------- */

/* icmp_err_convert: each destination-unreachable code's errno, and whether
 * it is "fatal" (a hard error, RFC 1122 4.2.3.9). */
static const struct {
	int error;
	bool fatal;
} unreach_errors[16] = {
    {ENETUNREACH, false},  {EHOSTUNREACH, false}, {ENOPROTOOPT, true},	{ECONNREFUSED, true},
    {EMSGSIZE, false},	   {EOPNOTSUPP, false},	  {ENETUNREACH, true},	{EHOSTDOWN, true},
    {ENONET, true},	   {ENETUNREACH, true},	  {EHOSTUNREACH, true}, {ENETUNREACH, false},
    {EHOSTUNREACH, false}, {EHOSTUNREACH, true},  {EHOSTUNREACH, true}, {EHOSTUNREACH, true},
};

/* The errno tcp_v4_err takes from an error, 0 for one it ignores
 * (fragmentation needed is path MTU discovery, not modelled). */
static int icmp_errno(uint8_t type, uint8_t code)
{
	if (type == ICMP_TIME_EXCEEDED)
		return EHOSTUNREACH;
	if (type == ICMP_PARAMETER_PROBLEM)
		return EPROTO;
	if (type != ICMP_DEST_UNREACH || code > 15 || code == 4 /* fragmentation needed */)
		return 0;
	return unreach_errors[code].error;
}

/* A listener's half-open child is dropped, silently, by the errors
 * tcp_v4_err tells tcp_req_err to abort on: net or host unreachable, time
 * exceeded, parameter problem. */
static bool aborts_request(uint8_t type, uint8_t code)
{
	return type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM ||
	       (type == ICMP_DEST_UNREACH &&
		(code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH));
}

/* tcp_v4_err and tcp_v6_err alike: an error quoting a sequence outside
 * [SND.UNA, SND.NXT] is ignored (OutOfWindowIcmps). During the handshake
 * every error it reads, soft or hard, ends the connect (sk_err, tcp_done):
 * connect() fails at once with EHOSTUNREACH, ECONNREFUSED, ... Once
 * synchronized, the error is only remembered (sk_err_soft, without
 * IP_RECVERR) and reported if the retransmissions later run out. A
 * listener's half-open child (tcp_req_err) is dropped, silently, when
 * `aborts_req` and the error quotes its SYN+ACK. */
static void icmp_hits(struct tcp_conn *c, int err, bool aborts_req, uint32_t seq,
		      uint64_t packet_id, int64_t now)
{
	c->now = now;
	if (err == 0 || c->state == TCP_CLOSED || c->state == TCP_LISTEN ||
	    c->state == TCP_TIME_WAIT)
		return;
	if (seq_lt(seq, c->snd_una) || seq_lt(c->snd_max, seq))
		return;
	if (c->passive && c->state == TCP_SYN_RECEIVED) {
		if (seq == c->iss && aborts_req)
			fail(c, TCP_CAUSE_ICMP, packet_id, 0);
		return;
	}
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		fail(c, TCP_CAUSE_ICMP, packet_id, err);
	else
		c->soft_error = err;
}

void tcp_icmp_error(struct tcp_conn *c, uint8_t type, uint8_t code, uint32_t seq,
		    uint64_t packet_id, int64_t now)
{
	icmp_hits(c, icmp_errno(type, code), aborts_request(type, code), seq, packet_id, now);
}

/* icmpv6_err_convert: destination unreachable codes 0-6 (no route,
 * administratively prohibited, beyond scope, address unreachable, port
 * unreachable, policy failed, reject route), each errno and whether it is
 * fatal. */
static const struct {
	int error;
	bool fatal;
} unreach6_errors[7] = {
    {ENETUNREACH, false}, {EACCES, true}, {EHOSTUNREACH, false}, {EHOSTUNREACH, false},
    {ECONNREFUSED, true}, {EACCES, true}, {EACCES, true},
};

/* The errno tcp_v6_err takes from an error (icmpv6_err_convert: EPROTO,
 * not fatal, for a type it does not know; a code past the table EPROTO,
 * fatal), 0 for packet too big: Linux lowers the path MTU and the MSS
 * with it (tcp_v6_mtu_reduced) and retransmits; natsim's links have one
 * MTU and its TCP never sends more than the first MSS, so it ignores the
 * message, as it ignores IPv4's fragmentation needed. */
static int icmp6_errno(uint8_t type, uint8_t code, bool *fatal)
{
	*fatal = false;
	switch (type) {
	case ICMP6_DEST_UNREACH:
		*fatal = code < 7 ? unreach6_errors[code].fatal : true;
		return code < 7 ? unreach6_errors[code].error : EPROTO;
	case ICMP6_PACKET_TOO_BIG:
		return 0;
	case ICMP6_PARAM_PROBLEM:
		*fatal = true;
		return EPROTO;
	case ICMP6_TIME_EXCEEDED:
		return EHOSTUNREACH;
	default:
		return EPROTO;
	}
}

void tcp_icmp6_error(struct tcp_conn *c, uint8_t type, uint8_t code, uint32_t seq,
		     uint64_t packet_id, int64_t now)
{
	bool fatal;
	int err = icmp6_errno(type, code, &fatal);

	/* tcp_v6_err hands a request socket to tcp_req_err with `fatal`
	 * (tcp_v4_err with its own list: aborts_request). */
	icmp_hits(c, err, fatal, seq, packet_id, now);
}
