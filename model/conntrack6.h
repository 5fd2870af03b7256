/*
 * conntrack6.h - connection tracking for IPv6 (docs/ipv6.md step 3): a
 * node's IPv6 flows in a table of their own, keyed by IPv6 five-tuples.
 *
 * Linux keeps one table for both families (nf_conntrack_tuple's address is
 * a union); natsim keeps the IPv4 table as it is, so that its entries, its
 * hash and its benches do not grow by the 24 bytes per address an IPv6
 * tuple needs (docs/ipv6.md "How endpoints become dual-stack"). What is
 * shown is the same: `conntrack -L -f ipv6` lists one family's entries.
 *
 * Semantics, as Linux 6.1:
 *   - UDP as the IPv4 table (model/conntrack_udp.h: [UNREPLIED] 30 s, 120 s
 *     and [ASSURED] for a packet more than 2 s after creation once replied).
 *     A zero UDP checksum is NOT invalid to conntrack: udp_error returns
 *     "no checksum: fine" for both families (nf_conntrack_proto_udp.c, "Packet
 *     with no checksum"); it is the receiving host's UDP that drops it
 *     (net/ipv6/udp.c udp6_csum_zero_error), and natsim's parser refuses it
 *     before any filter sees it (model/packet6.h).
 *   - ICMPv6 as nf_conntrack_proto_icmpv6.c: an echo request (128) or node
 *     information query (139) starts an entry keyed by its id (tuple: sport
 *     = id, dport = type << 8 | code), whose reply tuple has the reply type
 *     (129, 140: invmap); every packet re-arms icmpv6_timeout (30 s); never
 *     [ASSURED]. Another informational type without an entry is INVALID
 *     ("not valid new"); MLD and neighbour discovery but redirects (130-136,
 *     143) are UNTRACKED (noct_valid_new); an error (type < 128) is RELATED to the
 *     entry of the packet it quotes, if the error goes to the side that
 *     sent that packet (nf_conntrack_inet_error), else INVALID.
 *   - TCP as the IPv4 table, by the same code (model/conntrack_tcp.h:
 *     nf_conntrack_proto_tcp.c is family-neutral): the state machine,
 *     tcp_in_window, the per-state timeouts, [UNREPLIED] until the first
 *     segment back, [ASSURED] once an ACK lands in ESTABLISHED after
 *     SYN_RECV, a SYN reopening a closed flow, an RST before any reply
 *     killing the entry (model/conntrack.h's top says it all). A segment
 *     with flags tcp_error refuses, one without an entry that cannot start
 *     one, or one the machine calls invalid is INVALID
 *     (conntrack6_tcp_invalid_cause says which). Anything else (no UDP,
 *     TCP nor ICMPv6: the parser refuses it anyway) is INVALID too.
 *
 * Records: TRACE_CONNTRACK with family 6 and the tuples in `tuples6`, the
 * same events as the IPv4 table (NEW, UPDATE, REFRESH, DESTROY, RELATED).
 * Expiry is exact in virtual time, one engine event per entry re-armed
 * lazily, as the IPv4 table does.
 */
#ifndef NATSIM_MODEL_CONNTRACK6_H
#define NATSIM_MODEL_CONNTRACK6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr6.h"
#include "model/conntrack.h" /* struct conntrack_config, enum conntrack_dir */
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/verdict.h"

struct conntrack6_tuple {
	uint8_t proto;		  /* 6 TCP, 17 UDP, 58 ICMPv6 */
	struct ip6_addr src, dst; /* network order */
	uint16_t sport, dport;	  /* ICMPv6: id, type << 8 | code */
};

struct conntrack6_entry {
	uint32_t id;
	struct conntrack6_tuple orig, reply;
	bool seen_reply, assured;
	int64_t created_at, expires_at;
	uint64_t packets[2], bytes[2];
	struct conntrack_tcp tcp; /* proto 6 only: the IPv4 table's TCP state */
};

struct conntrack6;

/* `cfg` NULL: Linux's defaults (conntrack_config_default). `node_name` is borrowed. NULL if out of
 * memory. */
struct conntrack6 *conntrack6_new(struct engine *e, const char *node_name,
				  const struct conntrack_config *cfg);
void conntrack6_free(struct conntrack6 *ct);
/* The timeouts entries get from now on (an RFC 6092 firewall's longer UDP
 * ones: model/filter6.h); entries keep their deadlines until their next
 * packet. */
void conntrack6_set_config(struct conntrack6 *ct, const struct conntrack_config *cfg);
const struct conntrack_config *conntrack6_config(const struct conntrack6 *ct);

/* The tuple of a parsed packet, and the tuple of its answer (false, the
 * tuple left as is but reversed, for an ICMPv6 type that has no answer). */
void conntrack6_tuple_of(const struct packet6_info *info, struct conntrack6_tuple *out);
bool conntrack6_tuple_invert(const struct conntrack6_tuple *t, struct conntrack6_tuple *out);

/* The entry whose original or reply tuple is `t`, and which; NULL if none. */
struct conntrack6_entry *conntrack6_lookup(struct conntrack6 *ct, const struct conntrack6_tuple *t,
					   enum conntrack_dir *dir);

/* What a packet is to the table before any rule sees it (the top of this
 * file), and its entry (NULL unless ESTABLISHED, RELATED, or NEW on an
 * entry never answered). RELATED emits TRACE_CT_RELATED. Never creates an
 * entry: conntrack6_confirm does, for a NEW packet that passed. */
enum conntrack_state conntrack6_classify(struct conntrack6 *ct, const struct packet6_info *info,
					 struct conntrack6_entry **entry, enum conntrack_dir *dir);

/* A NEW packet passed: its entry (reply tuple: the original inverted),
 * [UNREPLIED], TRACE_CT_NEW. NULL if the table is full (max_entries) or out
 * of memory. Counts no packet: call conntrack6_seen next. */
struct conntrack6_entry *conntrack6_confirm(struct conntrack6 *ct,
					    const struct conntrack6_tuple *orig);
/* A packet of `bytes` bytes passed in `dir`: counters, timeout, [SEEN_REPLY],
 * [ASSURED], and TRACE_CT_UPDATE / TRACE_CT_REFRESH (none for the packet
 * that made the entry: its NEW record told it). A TCP entry gets UDP's
 * rules here: TCP segments go to conntrack6_seen_tcp. */
void conntrack6_seen(struct conntrack6 *ct, struct conntrack6_entry *entry, enum conntrack_dir dir,
		     size_t bytes);

/* A TCP segment of `bytes` bytes passed in `dir` of a TCP entry: the
 * machine moves its state (conntrack_seen_tcp's verdicts and records; the
 * entry's NEW record is emitted by its first segment, with its state).
 * REOPEN and KILLED destroy the entry (TRACE_CT_DESTROY) and free it. */
enum conntrack_tcp_verdict conntrack6_seen_tcp(struct conntrack6 *ct,
					       struct conntrack6_entry *entry,
					       enum conntrack_dir dir,
					       const struct packet6_info *info, size_t bytes);
/* Would this segment reopen its entry (a SYN on a flow in TIME_WAIT or
 * CLOSE after a close or an RST)? Changes nothing: the filter asks before
 * the rules, where nf_conntrack_in kills the old entry and looks the
 * segment up again (NF_REPEAT), so the rules see it NEW. */
bool conntrack6_tcp_reopens(const struct conntrack6_entry *entry, enum conntrack_dir dir,
			    const struct packet6_info *info);
/* Destroy an entry now (TRACE_CT_DESTROY with `why`); `entry` is freed. */
void conntrack6_destroy(struct conntrack6 *ct, struct conntrack6_entry *entry, const char *why);
/* Why conntrack6_classify called a TCP segment INVALID, given the entry it
 * found (NULL: none); CONNTRACK_INVALID_NONE for anything but TCP. */
enum conntrack_invalid conntrack6_tcp_invalid_cause(const struct conntrack6_entry *entry,
						    const struct packet6_info *info);

/* Remove every entry, TRACE_CT_DESTROY with `why`. */
void conntrack6_flush(struct conntrack6 *ct, const char *why);
size_t conntrack6_count(const struct conntrack6 *ct);
/* Creation order; stops when fn returns false. */
void conntrack6_foreach(const struct conntrack6 *ct,
			bool (*fn)(const struct conntrack6_entry *e, void *ctx), void *ctx);

/* A record of the entry (event and why left 0): family 6, its tuples in
 * `tuples` (which the record points at: keep it alive as long). */
void conntrack6_entry_record(const struct conntrack6 *ct, const struct conntrack6_entry *entry,
			     struct trace_conntrack *out, struct trace_ct_tuples6 *tuples);

#endif
