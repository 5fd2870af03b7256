/*
 * conntrack_tcp.h - the TCP state machine both conntrack tables run,
 * private to model/: nf_conntrack_proto_tcp.c is family-neutral, and so is
 * this. The IPv4 table (model/conntrack.c) and the IPv6 one
 * (model/conntrack6.c) keep entries of their own shapes; each hands the
 * machine its entry's struct conntrack_tcp, the two facts of the flow the
 * machine reads ([SEEN_REPLY], [ASSURED]) and a view of the segment, and
 * does what the outcome says (count, re-arm, emit, destroy) itself. The
 * semantics are model/conntrack.h's (its top: TCP).
 *
 * The machine is defined here, static, rather than in a .c file of its
 * own: each table compiles it into its own code, where the compiler sees
 * through the segment view and the outcome as it did when the machine was
 * conntrack.c's alone. Called across files, the IPv4 table's TCP path cost
 * 2% more instructions in bench_tcp (cachegrind); compiled in, 0.6%.
 */
#ifndef NATSIM_MODEL_CONNTRACK_TCP_H
#define NATSIM_MODEL_CONNTRACK_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/conntrack.h"
#include "model/packet.h" /* struct tcp_options */
#include <string.h>

/* What the machine reads of a segment: the TCP fields packet_info and
 * packet6_info both parse, under their names. `tcp_opt` is borrowed. */
struct conntrack_tcp_segment {
	uint8_t tcp_flags;
	uint8_t tcp_header_len;
	uint16_t tcp_window;
	uint32_t tcp_seq, tcp_ack;
	size_t payload_len;
	const struct tcp_options *tcp_opt;
};

/* What the machine reads of the flow beyond its TCP state. */
struct conntrack_tcp_flow {
	bool seen_reply, assured;
};

/* What a segment did (conntrack_tcp_advance). Only TRACKED has the rest:
 * the entry is now [ASSURED] (`assured`), its state or [ASSURED] moved
 * (`changed`: an UPDATE record rather than a REFRESH), and its deadline
 * becomes now + `timeout` unless `refresh` is false (a retransmitted SYN).
 * REOPEN and KILLED: the caller destroys the entry ("reopened by a new
 * SYN", "reset before any reply"). */
struct conntrack_tcp_outcome {
	enum conntrack_tcp_verdict verdict;
	bool changed, assured, refresh;
	int64_t timeout;
};

/* ---- the machine's insides (static: each table compiles its own) ------- */

/* get_conntrack_index's classes of a segment's flags. */
enum ct_tcp_index { CT_SYN, CT_SYNACK, CT_FIN, CT_ACK, CT_RST, CT_NONE, CT_INDEXES };

#define sNO CONNTRACK_TCP_NONE
#define sSS CONNTRACK_TCP_SYN_SENT
#define sSR CONNTRACK_TCP_SYN_RECV
#define sES CONNTRACK_TCP_ESTABLISHED
#define sFW CONNTRACK_TCP_FIN_WAIT
#define sCW CONNTRACK_TCP_CLOSE_WAIT
#define sLA CONNTRACK_TCP_LAST_ACK
#define sTW CONNTRACK_TCP_TIME_WAIT
#define sCL CONNTRACK_TCP_CLOSE
#define sS2 CONNTRACK_TCP_SYN_SENT2
#define sIV CONNTRACK_TCP_STATES       /* invalid: TCP_CONNTRACK_MAX */
#define sIG (CONNTRACK_TCP_STATES + 1) /* ignored: TCP_CONNTRACK_IGNORE */

/* nf_conntrack_proto_tcp.c (6.1) tcp_conntracks[direction][index][state]:
 * the state a segment of each flag class moves a flow to. The kernel's
 * comments beside each row give the reasons. */
static const uint8_t ct_tcp_table[2][CT_INDEXES][CONNTRACK_TCP_STATES] = {
    {
	/* ORIGINAL   sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
	/* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
	/* REPLY      sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
	/* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

/* struct conntrack_tcp flags: IP_CT_TCP_FLAG_CLOSE_INIT per direction, and
 * IP_CT_TCP_SIMULTANEOUS_OPEN. */
#define CT_TCP_CLOSE_INIT(dir) (1u << (dir))
#define CT_TCP_SIMULTANEOUS_OPEN 0x04
/* last_flags: IP_CT_EXP_CHALLENGE_ACK (an ignored SYN in LAST_ACK). */
#define CT_TCP_EXP_CHALLENGE_ACK 0x40

/* TCP_MAX_WSCALE (RFC 7323 2.3), MAXACKWINCONST, nf_conntrack_tcp_max_retrans. */
#define CT_TCP_MAX_WSCALE 14
#define CT_TCP_MAXACKWINCONST 66000u
#define CT_TCP_MAX_RETRANS 3

/* Sequence space comparisons (include/net/tcp.h before/after). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

static enum ct_tcp_index ct_tcp_index(uint8_t flags)
{
	if (flags & TCP_RST)
		return CT_RST;
	if (flags & TCP_SYN)
		return (flags & TCP_ACK) ? CT_SYNACK : CT_SYN;
	if (flags & TCP_FIN)
		return CT_FIN;
	return (flags & TCP_ACK) ? CT_ACK : CT_NONE;
}

static inline bool ct_tcp_flags_valid(uint8_t flags)
{
	/* tcp_valid_flags[], indexed by the flags less PSH, ECE and CWR. */
	switch (flags & (uint8_t) ~(TCP_PSH | TCP_ECE | TCP_CWR)) {
	case TCP_SYN:
	case TCP_SYN | TCP_URG:
	case TCP_SYN | TCP_ACK:
	case TCP_RST:
	case TCP_RST | TCP_ACK:
	case TCP_FIN | TCP_ACK:
	case TCP_FIN | TCP_ACK | TCP_URG:
	case TCP_ACK:
	case TCP_ACK | TCP_URG:
		return true;
	default:
		return false;
	}
}

/* segment_seq_plus_len: where the segment ends in sequence space. */
static uint32_t ct_tcp_end(const struct conntrack_tcp_segment *seg)
{
	return seg->tcp_seq + (uint32_t)seg->payload_len + ((seg->tcp_flags & TCP_SYN) ? 1 : 0) +
	       ((seg->tcp_flags & TCP_FIN) ? 1 : 0);
}

/* tcp_options: window scale and SACK permitted, for a segment that carries
 * options at all. */
static void ct_tcp_options(const struct conntrack_tcp_segment *seg, struct conntrack_tcp_dir *d)
{
	const struct tcp_options *o = seg->tcp_opt;

	if (seg->tcp_header_len <= TCP_HEADER_MIN)
		return;
	d->td_scale = 0;
	d->flags &= CONNTRACK_TCP_BE_LIBERAL;
	if (o->seen & TCP_OPT_SEEN(TCP_OPT_SACK_PERM))
		d->flags |= CONNTRACK_TCP_SACK_PERM;
	if (o->seen & TCP_OPT_SEEN(TCP_OPT_WSCALE)) {
		d->td_scale = o->wscale > CT_TCP_MAX_WSCALE ? CT_TCP_MAX_WSCALE : o->wscale;
		d->flags |= CONNTRACK_TCP_WINDOW_SCALE;
	}
}

/* tcp_new: the first segment of a new entry sets up the original
 * direction: a SYN with its options; anything else (an ACK picked up
 * mid-stream, nf_conntrack_tcp_loose = 1) from the segment alone, with
 * both directions liberal, since its window scale is unknown. */
static void ct_tcp_new(struct conntrack_tcp *t, const struct conntrack_tcp_segment *seg)
{
	struct conntrack_tcp_dir *d = &t->seen[0];

	memset(t, 0, sizeof(*t));
	d->td_end = ct_tcp_end(seg);
	d->td_maxwin = seg->tcp_window != 0 ? seg->tcp_window : 1;
	if (ct_tcp_index(seg->tcp_flags) == CT_SYN) {
		d->td_maxend = d->td_end;
		ct_tcp_options(seg, d);
	} else {
		d->td_maxend = d->td_end + d->td_maxwin;
		t->seen[0].flags = t->seen[1].flags =
		    CONNTRACK_TCP_SACK_PERM | CONNTRACK_TCP_BE_LIBERAL;
	}
	t->last_index = CT_NONE;
}

/* tcp_init_sender: a SYN/ACK answering the SYN (or the reply's SYN of a
 * simultaneous open) sets up its direction; window scaling holds only if
 * both sides offered it (RFC 7323). */
static void ct_tcp_init_sender(struct conntrack_tcp *t, enum conntrack_dir dir, uint32_t end,
			       uint32_t win, const struct conntrack_tcp_segment *seg)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];

	sender->td_end = sender->td_maxend = end;
	sender->td_maxwin = win == 0 ? 1 : win;
	ct_tcp_options(seg, sender);
	if (dir == CONNTRACK_DIR_REPLY && !((sender->flags & CONNTRACK_TCP_WINDOW_SCALE) &&
					    (receiver->flags & CONNTRACK_TCP_WINDOW_SCALE))) {
		sender->td_scale = 0;
		receiver->td_scale = 0;
	}
}

static uint32_t ct_tcp_maxackwindow(const struct conntrack_tcp_dir *sender)
{
	return sender->td_maxwin > CT_TCP_MAXACKWINCONST ? sender->td_maxwin
							 : CT_TCP_MAXACKWINCONST;
}

/* What tcp_in_window found. */
enum ct_tcp_window { CT_WIN_ACCEPT, CT_WIN_IGNORE, CT_WIN_INVALID };

/* nf_tcp_log_invalid: a liberal direction (a flow picked up mid-stream)
 * passes what the checks refuse. */
static enum ct_tcp_window ct_tcp_refuse(const struct conntrack_tcp_dir *sender,
					enum ct_tcp_window res)
{
	return (sender->flags & CONNTRACK_TCP_BE_LIBERAL) ? CT_WIN_ACCEPT : res;
}

/* tcp_in_window's first part: a direction seen for the first time is set
 * up from this segment. Returns true when the segment is accepted at once
 * (a SYN without ACK: simultaneous open). */
static bool ct_tcp_window_init(struct conntrack_tcp *t, enum conntrack_dir dir,
			       const struct conntrack_tcp_segment *seg, uint32_t end, uint32_t sack)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];
	bool syn = seg->tcp_flags & TCP_SYN, ack = seg->tcp_flags & TCP_ACK;
	uint32_t win = seg->tcp_window;

	if (sender->td_maxwin == 0) {
		if (syn) {
			ct_tcp_init_sender(t, dir, end, win, seg);
			return !ack;
		}
		/* Mid-connection: its history is lost; use the segment. */
		uint32_t swin = win << sender->td_scale;
		sender->td_end = end;
		sender->td_maxwin = swin == 0 ? 1 : swin;
		sender->td_maxend = end + sender->td_maxwin;
		if (receiver->td_maxwin == 0)
			receiver->td_end = receiver->td_maxend = sack;
		else if (sack == receiver->td_end + 1)
			receiver->td_end++; /* likely a reply to a keepalive */
		return false;
	}
	/* RFC 793: a reinitialised TCP uses larger sequence numbers: a new
	 * SYN(/ACK) in the handshake sets its direction up again. */
	if (syn && seq_after(end, sender->td_end) && (t->state == sSS || t->state == sSR)) {
		ct_tcp_init_sender(t, dir, end, win, seg);
		return dir == CONNTRACK_DIR_REPLY && !ack;
	}
	return false;
}

/* tcp_in_window's four conditions (I: seq <= td_maxend; II: the end in the
 * receiver's window; III: ack <= receiver's td_end; IV: ack not too far
 * behind), in the kernel's order and with its answers. SACK blocks are
 * not read: the highest SACK edge is taken to be the ACK. */
static enum ct_tcp_window ct_tcp_window_check(struct conntrack_tcp *t, enum conntrack_dir dir,
					      uint32_t seq, uint32_t end, uint32_t sack)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];

	if (!seq_before(seq, sender->td_maxend + 1)) {
		uint32_t overshot = end - sender->td_maxend + 1;
		bool ack_ok = seq_after(sack, receiver->td_end - ct_tcp_maxackwindow(sender) - 1);
		bool in_recv_win = receiver->td_maxwin != 0 &&
				   seq_after(end, sender->td_end - receiver->td_maxwin - 1);

		if (in_recv_win && ack_ok && overshot <= receiver->td_maxwin &&
		    seq_before(sack, receiver->td_end + 1)) {
			/* A TCP sending more than the window allows: noted,
			 * so that the peer's ACK for it stays valid. */
			sender->td_end = end;
			sender->flags |= CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
			return ct_tcp_refuse(sender, CT_WIN_IGNORE);
		}
		return ct_tcp_refuse(sender, CT_WIN_INVALID); /* SEQ is over upper bound */
	}
	if (!seq_before(sack, receiver->td_end + 1))
		return ct_tcp_refuse(sender, CT_WIN_INVALID); /* ACK is over upper bound */
	if (receiver->td_maxwin != 0 && !seq_after(end, sender->td_end - receiver->td_maxwin - 1))
		return ct_tcp_refuse(sender, CT_WIN_IGNORE); /* SEQ is under lower bound */
	if (!seq_after(sack, receiver->td_end - ct_tcp_maxackwindow(sender) - 1))
		return ct_tcp_refuse(sender, CT_WIN_IGNORE); /* ACK under lower bound */
	return CT_WIN_ACCEPT;
}

/* tcp_in_window's bookkeeping for an accepted segment: the sender's end
 * and largest window, the receiver's right edge, unacknowledged data, and
 * retransmissions of the same ACK segment. */
static void ct_tcp_window_update(struct conntrack_tcp *t, enum conntrack_dir dir,
				 enum ct_tcp_index index, const struct conntrack_tcp_segment *seg,
				 uint32_t ack, uint32_t end)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];
	uint32_t win = seg->tcp_window, sack = ack, seq = seg->tcp_seq;

	if (!(seg->tcp_flags & TCP_SYN))
		win <<= sender->td_scale;
	if (sender->td_maxwin < win)
		sender->td_maxwin = win;
	if (seq_after(end, sender->td_end)) {
		sender->td_end = end;
		sender->flags |= CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
	}
	if ((seg->tcp_flags & TCP_ACK) &&
	    (!(sender->flags & CONNTRACK_TCP_MAXACK_SET) || seq_after(ack, sender->td_maxack))) {
		sender->td_maxack = ack;
		sender->flags |= CONNTRACK_TCP_MAXACK_SET;
	}
	if (receiver->td_maxwin != 0 && seq_after(end, sender->td_maxend))
		receiver->td_maxwin += end - sender->td_maxend;
	if (seq_after(sack + win, receiver->td_maxend - 1)) {
		receiver->td_maxend = sack + win + (win == 0 ? 1 : 0);
	}
	if (ack == receiver->td_end)
		receiver->flags &= (uint8_t)~CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
	if (index != CT_ACK)
		return;
	if (t->last_dir == dir && t->last_seq == seq && t->last_ack == ack && t->last_end == end &&
	    t->last_win == seg->tcp_window) {
		if (t->retrans < UINT8_MAX)
			t->retrans++;
		return;
	}
	t->last_dir = (uint8_t)dir;
	t->last_seq = seq;
	t->last_ack = ack;
	t->last_end = end;
	t->last_win = seg->tcp_window;
	t->retrans = 0;
}

/* tcp_in_window (nf_conntrack_tcp_no_window_check = 0, be_liberal = 0). */
static enum ct_tcp_window ct_tcp_in_window(struct conntrack_tcp *t, enum conntrack_dir dir,
					   enum ct_tcp_index index,
					   const struct conntrack_tcp_segment *seg)
{
	struct conntrack_tcp_dir *receiver = &t->seen[!dir];
	uint32_t seq = seg->tcp_seq, ack = seg->tcp_ack, end = ct_tcp_end(seg);
	enum ct_tcp_window res;

	if (ct_tcp_window_init(t, dir, seg, end, ack))
		return CT_WIN_ACCEPT;
	/* No ACK: pretend it was set and right; so too the zero ACK of
	 * broken stacks' RST+ACK. */
	if (!(seg->tcp_flags & TCP_ACK) ||
	    ((seg->tcp_flags & (TCP_ACK | TCP_RST)) == (TCP_ACK | TCP_RST) && ack == 0))
		ack = receiver->td_end;
	if ((seg->tcp_flags & TCP_RST) && seq == 0 && t->state == sSS)
		seq = end = t->seen[dir].td_end; /* an RST answering the SYN */
	res = ct_tcp_window_check(t, dir, seq, end, ack);
	if (res == CT_WIN_ACCEPT)
		ct_tcp_window_update(t, dir, index, seg, ack, end);
	return res;
}

/* The TCP_CONNTRACK_IGNORE case: an out-of-sync segment passes untouched,
 * noted so that a SYN/ACK answering an ignored SYN brings the entry back in
 * step ("b)" in the kernel: then true, and the direction that sent the SYN
 * is set up from what was noted). */
static bool ct_tcp_ignore(struct conntrack_tcp *t, enum conntrack_dir dir, enum ct_tcp_index index,
			  const struct conntrack_tcp_segment *seg, uint8_t old)
{
	if (index == CT_SYNACK && t->last_index == CT_SYN && t->last_dir != dir &&
	    seg->tcp_ack == t->last_end) {
		struct conntrack_tcp_dir *s = &t->seen[t->last_dir];

		s->td_end = s->td_maxend = t->last_end;
		s->td_maxwin = t->last_win == 0 ? 1 : t->last_win;
		s->td_scale = t->last_wscale;
		s->flags = t->last_flags & (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK;
		t->last_flags &= (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK;
		t->seen[dir].td_end = t->seen[dir].td_maxend = t->seen[dir].td_maxwin = 0;
		t->seen[dir].td_maxack = 0;
		t->seen[dir].td_scale = 0;
		t->seen[dir].flags &= CONNTRACK_TCP_BE_LIBERAL;
		return true;
	}
	t->last_index = (uint8_t)index;
	t->last_dir = (uint8_t)dir;
	t->last_seq = seg->tcp_seq;
	t->last_end = ct_tcp_end(seg);
	t->last_win = seg->tcp_window;
	if (index == CT_SYN && dir == CONNTRACK_DIR_ORIGINAL) {
		struct conntrack_tcp_dir seen = {0};

		ct_tcp_options(seg, &seen);
		t->last_flags = seen.flags & (CONNTRACK_TCP_WINDOW_SCALE | CONNTRACK_TCP_SACK_PERM);
		t->last_wscale = (seen.flags & CONNTRACK_TCP_WINDOW_SCALE) ? seen.td_scale : 0;
		if (old == sLA) /* an RFC 5961 challenge ACK may answer it */
			t->last_flags |= CT_TCP_EXP_CHALLENGE_ACK;
	}
	if (old == sSS && index == CT_ACK && dir == CONNTRACK_DIR_REPLY)
		t->last_ack = seg->tcp_ack; /* possibly a challenge ACK to the SYN */
	return false;
}

/* nf_conntrack_tcp_established: ESTABLISHED and [ASSURED]. */
static bool ct_tcp_established(struct conntrack_tcp_flow e, const struct conntrack_tcp *t)
{
	return t->state == sES && e.assured;
}

/* What to do with a segment the table moves to CLOSE: an RST. */
enum ct_tcp_rst { CT_RST_CHECK_WINDOW, CT_RST_IN_WINDOW, CT_RST_INVALID };

/* The TCP_CONNTRACK_CLOSE case for an RST: one out of step with what the
 * other side acknowledged is invalid ("invalid rst"); in an ESTABLISHED
 * flow one that does not match exactly keeps the state (a challenge ACK
 * may follow, RFC 5961); one answering a segment let through unchecked
 * skips the window checks. */
static enum ct_tcp_rst ct_tcp_rst(struct conntrack_tcp_flow e, const struct conntrack_tcp *t,
				  enum conntrack_dir dir, const struct conntrack_tcp_segment *seg,
				  uint8_t *next)
{
	const struct conntrack_tcp_dir *other = &t->seen[!dir];
	uint32_t seq = seg->tcp_seq;

	/* tcp_can_early_drop: closing already, the tuple may be reused. */
	if (t->state == sFW || t->state == sLA || t->state == sTW || t->state == sCL ||
	    t->state == sCW)
		return CT_RST_IN_WINDOW;
	if ((other->flags & CONNTRACK_TCP_MAXACK_SET) && t->last_index != CT_SYN) {
		if (seq == 0 && !ct_tcp_established(e, t))
			return CT_RST_CHECK_WINDOW;
		if (seq_before(seq, other->td_maxack))
			return CT_RST_INVALID;
		if (!ct_tcp_established(e, t) || seq == other->td_maxack)
			return CT_RST_CHECK_WINDOW;
		if (t->last_index == CT_ACK && t->last_dir == dir && seq == t->last_end)
			return CT_RST_CHECK_WINDOW;
		*next = t->state;
	}
	if (((e.seen_reply && t->last_index == CT_SYN) ||
	     (!e.assured && t->last_index == CT_ACK)) &&
	    seg->tcp_ack == t->last_end)
		return CT_RST_IN_WINDOW;
	if (t->state == sSS && t->last_index == CT_ACK && t->last_dir == CONNTRACK_DIR_REPLY &&
	    seq == t->last_ack)
		return CT_RST_IN_WINDOW;
	return CT_RST_CHECK_WINDOW;
}

/* The special cases of nf_conntrack_tcp_packet's switch for the new state
 * the table gave. Returns IGNORED, INVALID or REOPEN when the segment ends
 * there, else TRACKED with *check saying whether tcp_in_window runs. */
static enum conntrack_tcp_verdict ct_tcp_special(struct conntrack_tcp_flow e,
						 struct conntrack_tcp *t, enum conntrack_dir dir,
						 enum ct_tcp_index index,
						 const struct conntrack_tcp_segment *seg,
						 uint8_t *old, uint8_t *next, bool *check)
{
	*check = true;
	if (*next == sSS && *old >= sTW) {
		/* RFC 1122 4.2.2.13: a SYN may reopen a connection in
		 * TIME-WAIT; so too an aborted one. */
		if ((t->flags & (CT_TCP_CLOSE_INIT(0) | CT_TCP_CLOSE_INIT(1))) ||
		    (t->last_dir == dir && t->last_index == CT_RST))
			return CONNTRACK_TCP_REOPEN;
		*next = sIG;
	}
	if (*next == sIG) {
		if (!ct_tcp_ignore(t, dir, index, seg, *old))
			return CONNTRACK_TCP_IGNORED;
		*old = sSS; /* client and server are in step: as if from SYN_SENT */
		*next = sSR;
		return CONNTRACK_TCP_TRACKED;
	}
	if (*next == sIV)
		return CONNTRACK_TCP_INVALID;
	if (*next == sTW && *old == sLA && index == CT_ACK && t->last_dir != dir &&
	    t->last_index == CT_SYN && (t->last_flags & CT_TCP_EXP_CHALLENGE_ACK)) {
		t->last_flags &= (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK; /* an RFC 5961 challenge ACK */
		return CONNTRACK_TCP_IGNORED;
	}
	if (*next == sS2)
		t->flags |= CT_TCP_SIMULTANEOUS_OPEN;
	/* The table cannot tell a simultaneous open's last ACK. */
	if (*next == sSR && dir == CONNTRACK_DIR_REPLY && index == CT_ACK &&
	    (t->flags & CT_TCP_SIMULTANEOUS_OPEN))
		*next = sES;
	if (*next == sCL && index == CT_RST) {
		enum ct_tcp_rst r = ct_tcp_rst(e, t, dir, seg, next);

		if (r == CT_RST_INVALID)
			return CONNTRACK_TCP_INVALID;
		*check = r == CT_RST_CHECK_WINDOW;
	}
	return CONNTRACK_TCP_TRACKED;
}

/* nf_conntrack_tcp_packet up to the state change, on `t` (the entry's own,
 * or a copy when only asking): the table, its special cases, the window.
 * TRACKED: the segment is in window and moves `t` to *next. */
static enum conntrack_tcp_verdict ct_tcp_decide(struct conntrack_tcp_flow e,
						struct conntrack_tcp *t, enum conntrack_dir dir,
						const struct conntrack_tcp_segment *seg,
						uint8_t *old, uint8_t *next)
{
	enum ct_tcp_index index = ct_tcp_index(seg->tcp_flags);
	enum conntrack_tcp_verdict v;
	enum ct_tcp_window w;
	bool check;

	*old = t->state;
	*next = ct_tcp_table[dir][index][t->state];
	v = ct_tcp_special(e, t, dir, index, seg, old, next, &check);
	if (v != CONNTRACK_TCP_TRACKED || !check)
		return v;
	w = ct_tcp_in_window(t, dir, index, seg);
	if (w == CT_WIN_INVALID)
		return CONNTRACK_TCP_INVALID;
	return w == CT_WIN_IGNORE ? CONNTRACK_TCP_IGNORED : CONNTRACK_TCP_TRACKED;
}

/* tcp_new's test, for a segment with no entry: the move from NONE must be
 * valid (a SYN, or an ACK picked up mid-stream). */
static bool ct_tcp_may_start(uint8_t flags)
{
	return ct_tcp_table[CONNTRACK_DIR_ORIGINAL][ct_tcp_index(flags)][sNO] != sIV;
}

/* ---- what the tables call -------------------------------------------- */

/* Would conntrack_tcp_advance not call the segment INVALID? Changes
 * nothing. `t` NULL: no entry yet (tcp_new's test alone). */
static inline bool conntrack_tcp_accepts(const struct conntrack_tcp *t,
					 struct conntrack_tcp_flow flow, enum conntrack_dir dir,
					 const struct conntrack_tcp_segment *seg)
{
	struct conntrack_tcp copy;
	uint8_t old, next;

	if (!ct_tcp_flags_valid(seg->tcp_flags))
		return false;
	if (t == NULL)
		return ct_tcp_may_start(seg->tcp_flags);
	copy = *t;
	return ct_tcp_decide(flow, &copy, dir, seg, &old, &next) != CONNTRACK_TCP_INVALID;
}

/* The timeout the new state gets (nf_conntrack_tcp_packet, in its order):
 * the retransmission one (5 min) after three retransmissions of the same
 * segment, CLOSE's 10 s after an RST, the unacknowledged one (5 min) while
 * data is unacknowledged, the retransmission one after a zero window; a
 * state's own timeout only where it is shorter. */
static int64_t ct_tcp_timeout(const struct conntrack_config *cfg, const struct conntrack_tcp *t,
			      bool seen_reply, uint8_t state, enum ct_tcp_index index,
			      const struct conntrack_tcp_idle *idle)
{
	int64_t timeout = cfg->tcp_timeouts[state], cap = cfg->tcp_timeout_unack;

	/* A NAT's RFC 5382 REQ-5 idle timeouts replace the per-state ones:
	 * established, or transitory (any other state). */
	if (idle != NULL && state == CONNTRACK_TCP_ESTABLISHED && idle->established > 0)
		return idle->established;
	if (idle != NULL && state != CONNTRACK_TCP_ESTABLISHED && idle->transitory > 0)
		return idle->transitory;
	if (t->retrans >= CT_TCP_MAX_RETRANS && timeout > cap)
		timeout = cap;
	else if (index == CT_RST)
		timeout = cfg->tcp_timeouts[CONNTRACK_TCP_CLOSE];
	else if (((t->seen[0].flags | t->seen[1].flags) & CONNTRACK_TCP_DATA_UNACKNOWLEDGED) &&
		 timeout > cap)
		timeout = cap;
	else if (t->last_win == 0 && timeout > cap)
		timeout = cap;
	/* ESTABLISHED without a reply: picked up mid-stream (loose = 1). */
	if (!seen_reply && state == CONNTRACK_TCP_ESTABLISHED && timeout > cap)
		timeout = cap;
	return timeout;
}

/* Would a segment with `flags` in `dir` reopen the flow (a SYN on a flow
 * in TIME_WAIT or CLOSE after a close or an RST)? Changes nothing. */
static inline bool conntrack_tcp_would_reopen(const struct conntrack_tcp *t, enum conntrack_dir dir,
					      uint8_t flags)
{
	enum ct_tcp_index index = ct_tcp_index(flags);

	/* ct_tcp_special's reopen test, without its bookkeeping. */
	return ct_tcp_flags_valid(flags) && ct_tcp_table[dir][index][t->state] == sSS &&
	       t->state >= sTW &&
	       ((t->flags & (CT_TCP_CLOSE_INIT(0) | CT_TCP_CLOSE_INIT(1))) ||
		(t->last_dir == dir && t->last_index == CT_RST));
}

/* The segment is in window and moves the flow to `next`: the state, the
 * close flags, [ASSURED], the timeout, or the flow's end. */
static void ct_tcp_moved(const struct conntrack_config *cfg, struct conntrack_tcp *t,
			 struct conntrack_tcp_flow flow, enum conntrack_dir dir,
			 const struct conntrack_tcp_segment *seg, uint8_t old, uint8_t next,
			 const struct conntrack_tcp_idle *idle, struct conntrack_tcp_outcome *out)
{
	enum ct_tcp_index index = ct_tcp_index(seg->tcp_flags);

	t->last_index = (uint8_t)index;
	t->last_dir = (uint8_t)dir;
	t->state = next;
	if (old != next && next == sFW)
		t->flags |= CT_TCP_CLOSE_INIT(dir);
	if (!flow.seen_reply) {
		/* "If only reply is a RST, we can consider ourselves not to
		 * have an established connection": the entry goes at once. */
		if (seg->tcp_flags & TCP_RST) {
			out->verdict = CONNTRACK_TCP_KILLED;
			return;
		}
		/* A retransmitted SYN does not renew the timeout, lest a
		 * client reusing its port keep the entry (and a NAT's
		 * binding) alive for ever. */
		out->refresh = !(index == CT_SYN && old == sSS);
	} else if (!flow.assured && (old == sSR || old == sES) && next == sES) {
		out->assured = true;
	}
	out->changed = old != next || out->assured;
	out->timeout = ct_tcp_timeout(cfg, t, flow.seen_reply, next, index, idle);
}

/* nf_conntrack_tcp_packet on a flow's state `t` for a segment in `dir`:
 * tcp_error's flags, tcp_new (t->state NONE: the segment that makes the
 * entry), the state table and its special cases, tcp_in_window, the
 * timeout from `cfg` (or a NAT's `idle` ones, NULL: conntrack's). */
static inline void conntrack_tcp_advance(const struct conntrack_config *cfg,
					 struct conntrack_tcp *t, struct conntrack_tcp_flow flow,
					 enum conntrack_dir dir,
					 const struct conntrack_tcp_segment *seg,
					 const struct conntrack_tcp_idle *idle,
					 struct conntrack_tcp_outcome *out)
{
	uint8_t old, next;

	*out = (struct conntrack_tcp_outcome){.verdict = CONNTRACK_TCP_INVALID, .refresh = true};
	if (!ct_tcp_flags_valid(seg->tcp_flags))
		return;
	/* tcp_new, for the segment that made the entry. */
	if (t->state == sNO) {
		if (dir != CONNTRACK_DIR_ORIGINAL || !ct_tcp_may_start(seg->tcp_flags))
			return;
		ct_tcp_new(t, seg);
	}
	out->verdict = ct_tcp_decide(flow, t, dir, seg, &old, &next);
	if (out->verdict == CONNTRACK_TCP_TRACKED)
		ct_tcp_moved(cfg, t, flow, dir, seg, old, next, idle, out);
}

#undef sNO
#undef sSS
#undef sSR
#undef sES
#undef sFW
#undef sCW
#undef sLA
#undef sTW
#undef sCL
#undef sS2
#undef sIV
#undef sIG

#endif
