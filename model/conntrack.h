/*
 * conntrack.h - connection tracking with Linux semantics.
 *
 * Each flow has an original tuple (as first seen) and a reply tuple (what a
 * reply looks like, after NAT), both hashed, and either leads back to the
 * entry (include/net/netfilter/nf_conntrack_tuple.h). UDP follows Linux 6.1's
 * nf_conntrack_proto_udp.c:
 *   - a new entry is [UNREPLIED] with the unreplied timeout (30 s);
 *   - the first packet in the reply direction clears [UNREPLIED];
 *   - once replied, a packet seen more than 2 s after creation marks the flow a
 *     stream: [ASSURED], timeout udp_timeout_stream (120 s);
 *   - every packet refreshes the timeout.
 * ICMP follows nf_conntrack_proto_icmp.c: an echo request makes an entry
 * keyed by its identifier (tuple: sport = id, dport = type << 8 | code, as
 * sim/trace.h prints it), its reply tuple carries the reply type; every
 * packet re-arms icmp_timeout (30 s) and the entry is never [ASSURED]. An
 * ICMP error has no entry of its own: it is RELATED to the entry of the
 * packet it quotes, or INVALID (conntrack_classify).
 * TCP follows nf_conntrack_proto_tcp.c (6.1): each entry keeps a TCP state
 * moved by tcp_conntracks[direction][flags][state] (conntrack_seen_tcp),
 * the state's timeout (SYN_SENT 120 s, SYN_RECV 60 s, ESTABLISHED 5 days,
 * FIN_WAIT 120 s, CLOSE_WAIT 60 s, LAST_ACK 30 s, TIME_WAIT 120 s, CLOSE
 * 10 s, SYN_SENT2 120 s), [ASSURED] once an ACK lands in ESTABLISHED after
 * SYN_RECV, and tcp_in_window's sequence and window checks: a segment
 * outside the window is INVALID (or ignored, where the kernel ignores it),
 * unacknowledged data, a zero window or three retransmissions cap the
 * timeout at 5 minutes. Left out: SACK blocks (the ACK is taken for the
 * highest SACK edge), nf_tcp_handle_invalid's shorter timeout after an
 * out-of-window FIN or RST, and the sysctls tcp_be_liberal,
 * tcp_no_window_check and tcp_loose (their Linux defaults hold: 0, 0, 1).
 * Expiry is exact in virtual time without a timer per refresh: one engine event
 * per entry, re-armed lazily when it fires early (DESIGN.md "The engine").
 *
 * The table owns its entries. It emits TRACE_CONNTRACK records on the engine's
 * trace bus under `node_name`.
 */
#ifndef NATSIM_MODEL_CONNTRACK_H
#define NATSIM_MODEL_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/verdict.h"

struct conntrack_tuple {
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
};

enum conntrack_dir { CONNTRACK_DIR_ORIGINAL = 0, CONNTRACK_DIR_REPLY = 1 };

/* What a packet is to the table (enum conntrack_state) is in sim/verdict.h,
 * beside the firewall rules that match it. */

/* The tuple a parsed packet belongs to, and the tuple of its reply. An ICMP
 * echo's reply tuple has the reply type and the same id (Linux
 * nf_conntrack_invert_icmp_tuple's invmap); a type without an answer
 * (an error) has none: conntrack_tuple_invert returns false, leaving
 * the type unchanged. */
void conntrack_tuple_of(const struct packet_info *info, struct conntrack_tuple *out);
bool conntrack_tuple_invert(const struct conntrack_tuple *t, struct conntrack_tuple *out);
/* The tuple of the packet an ICMP error quotes (info->icmp_error). */
void conntrack_tuple_of_inner(const struct packet_info *info, struct conntrack_tuple *out);

/* nf_conntrack_tcp.h enum tcp_conntrack, in its order (the numbers are
 * what ctnetlink carries, and index libnetfilter_conntrack's names). */
enum conntrack_tcp_state {
	CONNTRACK_TCP_NONE,
	CONNTRACK_TCP_SYN_SENT,
	CONNTRACK_TCP_SYN_RECV,
	CONNTRACK_TCP_ESTABLISHED,
	CONNTRACK_TCP_FIN_WAIT,
	CONNTRACK_TCP_CLOSE_WAIT,
	CONNTRACK_TCP_LAST_ACK,
	CONNTRACK_TCP_TIME_WAIT,
	CONNTRACK_TCP_CLOSE,
	CONNTRACK_TCP_SYN_SENT2,
	CONNTRACK_TCP_STATES
};

/* One direction's window tracking (struct ip_ct_tcp_state): the highest
 * sequence sent (td_end), the highest the receiver's window allows
 * (td_maxend), the largest window seen (td_maxwin), the highest ACK sent
 * (td_maxack), the window scale, and the IP_CT_TCP_FLAG_* below. */
struct conntrack_tcp_dir {
	uint32_t td_end, td_maxend, td_maxwin, td_maxack;
	uint8_t td_scale;
	uint8_t flags;
};
#define CONNTRACK_TCP_WINDOW_SCALE 0x01
#define CONNTRACK_TCP_SACK_PERM 0x02
#define CONNTRACK_TCP_BE_LIBERAL 0x08 /* picked up mid-stream: no window refusals */
#define CONNTRACK_TCP_DATA_UNACKNOWLEDGED 0x10
#define CONNTRACK_TCP_MAXACK_SET 0x20

/* What nf_conntrack_tcp_packet keeps of a TCP flow beyond its state (struct
 * ip_ct_tcp). */
struct conntrack_tcp {
	uint8_t state;	    /* enum conntrack_tcp_state */
	uint8_t last_index; /* the flag class of the last segment (get_conntrack_index) */
	uint8_t last_dir;
	uint8_t flags;	     /* close initiated per direction, simultaneous open */
	uint8_t retrans;     /* retransmissions of the last ACK segment */
	uint8_t last_wscale; /* an ignored SYN's window scale and options */
	uint8_t last_flags;
	uint16_t last_win; /* window of the last ACK segment (or ignored one) */
	uint32_t last_seq, last_ack;
	uint32_t last_end;		  /* seq + len (+1 for SYN, FIN) of the last such segment */
	struct conntrack_tcp_dir seen[2]; /* by enum conntrack_dir */
};

struct conntrack_entry {
	uint32_t id;
	struct conntrack_tuple orig;
	struct conntrack_tuple reply;
	bool seen_reply;
	bool assured;
	int64_t created_at;
	int64_t expires_at;
	uint32_t mark;
	uint64_t packets[2];
	uint64_t bytes[2];
	struct conntrack_tcp tcp; /* proto 6 only */
};

struct conntrack_config {
	int64_t udp_timeout;	    /* default SIM_S(30) */
	int64_t udp_timeout_stream; /* default SIM_S(120) */
	int64_t udp_stream_after;   /* default SIM_S(2): replied flow older than this is a stream */
	int64_t icmp_timeout;	    /* default SIM_S(30): nf_conntrack_icmp_timeout */
	/* nf_conntrack_tcp_timeout_*, by enum conntrack_tcp_state (NONE
	 * unused), and _unacknowledged (5 min), the cap for an ESTABLISHED
	 * flow picked up mid-stream or with a zero window. */
	int64_t tcp_timeouts[CONNTRACK_TCP_STATES];
	int64_t tcp_timeout_unack;
	size_t max_entries; /* default 65536; a full table refuses new flows */
};

void conntrack_config_default(struct conntrack_config *cfg);

struct conntrack;

/* `node_name` is borrowed and must outlive the table. Returns NULL on OOM. */
struct conntrack *conntrack_new(struct engine *e, const char *node_name,
				const struct conntrack_config *cfg);
void conntrack_free(struct conntrack *ct);

/* The entry whose original or reply tuple equals `t`, and which direction
 * matched; NULL if none. */
struct conntrack_entry *conntrack_lookup(struct conntrack *ct, const struct conntrack_tuple *t,
					 enum conntrack_dir *dir);

/* nf_conntrack_core.c nf_conntrack_tuple_taken, as nf_nat_used_tuple asks
 * it: is `t` already the original or reply tuple of an entry? An entry that
 * is a flow of `ignore` (its inside endpoint: the source of its original
 * tuple, or of its reply tuple after NAT) does not count - the packet being
 * translated belongs to it. `ignore` may be NULL. */
bool conntrack_tuple_taken(const struct conntrack *ct, const struct conntrack_tuple *t,
			   const struct conntrack_tuple *ignore_src);

/* A deadline argument meaning "conntrack's own UDP timeouts". */
#define CONNTRACK_LINUX_TIMEOUT INT64_MIN

/* Create an entry. `reply` is the tuple replies will carry (for a NAT, after
 * translation). Returns NULL if the table is full or out of memory. Emits
 * TRACE_CT_NEW. Does not count a packet: call conntrack_seen() next. */
struct conntrack_entry *conntrack_create(struct conntrack *ct, const struct conntrack_tuple *orig,
					 const struct conntrack_tuple *reply);
/* conntrack_create() with the deadline of the NAT binding the flow is
 * (conntrack_seen_until), or CONNTRACK_LINUX_TIMEOUT. */
struct conntrack_entry *conntrack_create_until(struct conntrack *ct,
					       const struct conntrack_tuple *orig,
					       const struct conntrack_tuple *reply,
					       int64_t expires_at);

/* A packet of `bytes` bytes passed in direction `dir`: update state and
 * refresh the timeout per the rules above. A TCP entry given to this call
 * (no flags known) gets the UDP rules and keeps its TCP state: TCP callers
 * use conntrack_seen_tcp. Emits TRACE_CT_UPDATE on a state
 * change and TRACE_CT_REFRESH otherwise, except for the entry's first packet
 * (the one that created it), which its TRACE_CT_NEW record already told. */
void conntrack_seen(struct conntrack *ct, struct conntrack_entry *entry, enum conntrack_dir dir,
		    size_t bytes);

/* What a TCP segment did to its entry (nf_conntrack_tcp_packet's verdicts). */
enum conntrack_tcp_verdict {
	CONNTRACK_TCP_TRACKED, /* state moved (or stayed), timeout refreshed */
	CONNTRACK_TCP_IGNORED, /* the table's sIG: passed, neither state nor timeout moved */
	CONNTRACK_TCP_INVALID, /* sIV, or a flag combination tcp_error refuses:
				* INVALID to the firewall, nothing changed */
	CONNTRACK_TCP_REOPEN,  /* a SYN reopening a closed flow: the entry is
				* destroyed; the caller creates a new one */
	CONNTRACK_TCP_KILLED,  /* an RST before any reply: the entry is
				* destroyed (nf_ct_kill_acct), the segment passes */
};

/* conntrack_seen() for a TCP segment (`info` parsed as TCP) in direction
 * `dir` of a TCP entry: its flags move the state as the rules at the top
 * say. Emits as conntrack_seen() does (TRACE_CT_UPDATE on a change of state
 * or [ASSURED]); REOPEN and KILLED emit TRACE_CT_DESTROY and leave `entry`
 * freed. The first segment of a new entry must be one tcp_new accepts
 * (conntrack_classify says NEW), else INVALID. */
enum conntrack_tcp_verdict conntrack_seen_tcp(struct conntrack *ct, struct conntrack_entry *entry,
					      enum conntrack_dir dir,
					      const struct packet_info *info);
/* A NAT's idle timeouts for the connections it translates (RFC 5382
 * REQ-5): an ESTABLISHED entry gets `established`, one in any other state
 * `transitory`, instead of nf_conntrack_tcp_timeout_*; 0 keeps conntrack's
 * own for that case. */
struct conntrack_tcp_idle {
	int64_t established, transitory;
};
/* conntrack_seen_tcp() with those timeouts (NULL: conntrack's own). */
enum conntrack_tcp_verdict
conntrack_seen_tcp_idle(struct conntrack *ct, struct conntrack_entry *entry, enum conntrack_dir dir,
			const struct packet_info *info, const struct conntrack_tcp_idle *idle);
/* Would this segment reopen its entry (conntrack_seen_tcp's REOPEN: a SYN
 * on a flow in TIME_WAIT or CLOSE after a close or an RST)? Changes nothing:
 * a router asks in PREROUTING, where nf_conntrack_in meets the reopen (the
 * old entry is killed and the packet looked up again, NF_REPEAT), before
 * any NAT reuses the old entry's binding. */
bool conntrack_tcp_reopens(const struct conntrack_entry *entry, enum conntrack_dir dir,
			   const struct packet_info *info);
/* Destroy an entry now, emitting TRACE_CT_DESTROY with `why` (and the
 * destroy hook). `entry` is freed. */
void conntrack_destroy(struct conntrack *ct, struct conntrack_entry *entry, const char *why);
/* tcp_error's flag check: SYN, SYN+ACK, RST, RST+ACK, FIN+ACK, ACK (each
 * optionally with URG; PSH, ECE, CWR always allowed). SYN+FIN is not. */
bool conntrack_tcp_flags_valid(uint8_t flags);
/* The entry's reply tuple is not its original inverted: a NAT rewrote the
 * flow (what conntrack -L shows as a reply to another address or port). */
bool conntrack_entry_translated(const struct conntrack_entry *entry);
/* Why conntrack_classify() called a TCP segment INVALID, given the entry it
 * found (NULL: none): its flags, no entry it could start, or the entry's
 * window or states. CONNTRACK_INVALID_NONE for anything but TCP. */
enum conntrack_invalid conntrack_tcp_invalid_cause(const struct conntrack_entry *entry,
						   const struct packet_info *info);

/* conntrack_seen() with the deadline given by the caller instead of the UDP
 * timeouts above: a NAT router passes its mapping's deadline, so that a
 * translated flow and its binding expire together (docs/nat-and-conntrack.md).
 * CONNTRACK_LINUX_TIMEOUT means the rules above. A deadline earlier than the
 * entry's current one is honoured exactly. */
void conntrack_seen_until(struct conntrack *ct, struct conntrack_entry *entry,
			  enum conntrack_dir dir, size_t bytes, int64_t expires_at);

/* Called for every entry as it is destroyed (timed out or flushed), after it
 * left the table: how a NAT forgets the flows it translated, as
 * nf_nat_cleanup_conntrack does. One hook per table; NULL removes it. */
typedef void (*conntrack_destroy_fn)(const struct conntrack_entry *entry, void *ctx);
void conntrack_set_destroy_hook(struct conntrack *ct, conntrack_destroy_fn fn, void *ctx);

/* The state a packet in `dir` of `entry` has for a firewall (entry may be NULL). */
enum conntrack_state conntrack_state_of(const struct conntrack_entry *entry,
					enum conntrack_dir dir);

/* What a packet is to the table before any rule sees it, as
 * nf_conntrack_in() leaves it, and the entry it belongs to (NULL when none:
 * NEW or INVALID):
 *   - UDP, an ICMP echo: its entry's state (conntrack_state_of); no entry is
 *     NEW, except an ICMP type that cannot start a flow (an echo reply
 *     nobody asked for): INVALID, and no entry will be made for it;
 *   - TCP: as UDP, but INVALID for flags tcp_error refuses, for a segment
 *     without an entry that cannot start one (tcp_new: only a SYN, or an
 *     ACK picked up mid-stream with nf_conntrack_tcp_loose = 1), and for
 *     one the state table calls invalid (sIV);
 *   - an ICMP error: its quoted packet's tuple, inverted, looked up; found
 *     (and the error addressed to the side that sent the quoted packet) is
 *     RELATED, emitting TRACE_CT_RELATED, without refreshing or counting;
 *     otherwise INVALID.
 * Never creates an entry: the caller confirms a NEW flow that passed. */
enum conntrack_state conntrack_classify(struct conntrack *ct, const struct packet_info *info,
					struct conntrack_entry **entry, enum conntrack_dir *dir);

/* Remove every entry (a reboot), emitting TRACE_CT_DESTROY with `why`. */
void conntrack_flush(struct conntrack *ct, const char *why);

size_t conntrack_count(const struct conntrack *ct);
/* Visit entries in creation order; stop early if fn returns false. */
void conntrack_foreach(const struct conntrack *ct,
		       bool (*fn)(const struct conntrack_entry *e, void *ctx), void *ctx);

/* Fill a trace record describing an entry (event and why left to the caller). */
void conntrack_entry_record(const struct conntrack *ct, const struct conntrack_entry *entry,
			    struct trace_conntrack *out);

/* The `conntrack -L` line of an entry's trace record is words, made in
 * explain/ (conntrack_format_record() in explain/explain.h). */

#endif
