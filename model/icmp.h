/*
 * icmp.h - the rules of a Linux stack's ICMP: which packets it may answer
 * with an error (RFC 1122 3.2.2), which echo requests it answers, and how
 * many errors it lets out (Linux 6.1's two rate limits, in virtual time).
 *
 * Hosts and routers (model/host.c, model/router.c) decide with these rules
 * and send what they allow; this module builds the answer's bytes but sends
 * nothing itself.
 *
 * The rate limits are Linux's (net/ipv4/icmp.c, net/ipv4/inetpeer.c), as a
 * 6.1 stable kernel runs them since 6.1.113 ("icmp: change the order of rate
 * limits", CVE-2024-47678):
 *   1. icmpv4_mask_allow: types outside icmp_ratemask (0x1818 = dest
 *      unreachable, source quench, time exceeded, parameter problem) and
 *      "fragmentation needed" are never limited: echo replies pass.
 *   2. icmp_global_allow: a host-wide bucket of icmp_msgs_burst (50)
 *      credits, refilled at icmp_msgs_per_sec (1000) but only once it is
 *      empty, and not more often than every HZ/50. Checked, not consumed.
 *   3. inet_peer_xrlim_allow: per destination address, a bucket of
 *      XRLIM_BURST_FACTOR (6) x icmp_ratelimit (1000 ms) worth of tokens, one
 *      icmp_ratelimit per message; a new destination starts full. So a
 *      flood to one closed port gets 6 errors at once, then one a second.
 *   4. icmp_global_consume: a message that passed takes 0, 1 or 2 credits
 *      (uniformly: one on average, randomised by Linux against side
 *      channels); natsim draws them from the node's own seeded stream.
 * Time is the engine's, counted in jiffies of HZ = ICMP_HZ as the kernel
 * counts it, so the limits fall exactly where Linux's fall.
 */
#ifndef NATSIM_MODEL_ICMP_H
#define NATSIM_MODEL_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "model/net.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/rng.h"
#include "sim/verdict.h"

/* Debian 12's 6.1 kernels are built with CONFIG_HZ_250. */
#define ICMP_HZ 250
/* inetpeer.c: a destination may bank this many icmp_ratelimit periods. */
#define ICMP_XRLIM_BURST_FACTOR 6

/* The stack's ICMP sysctls (net.ipv4.icmp_*), Linux's defaults from
 * icmp_config_default. */
struct icmp_config {
	int64_t ratelimit;    /* icmp_ratelimit, ns per message and destination: SIM_MS(1000) */
	uint32_t ratemask;    /* icmp_ratemask, bit n = type n is limited: 0x1818 */
	int msgs_per_sec;     /* icmp_msgs_per_sec: 1000 */
	int msgs_burst;	      /* icmp_msgs_burst: 50 */
	bool echo_ignore_all; /* icmp_echo_ignore_all: false (answer pings) */
	int64_t ratelimit6;   /* net.ipv6.icmp.ratelimit, ns: SIM_MS(100) */
};

void icmp_config_default(struct icmp_config *cfg);

/* RFC 1122 3.2.2 (and RFC 1812 4.3.2.7 for routers): may a stack send an
 * ICMP error about this packet? Not about an ICMP error (nor an ICMP type
 * Linux does not know, __icmp_send), not about a packet to a broadcast or
 * multicast address, not to a source that names no single host (0.0.0.0,
 * 127/8, multicast, 240/4, 255.255.255.255: Linux drops those as martians
 * in ip_route_input_slow before anything answers them). Non-first fragments
 * never get here: the parser refuses every fragment (PACKET_ERR_FRAGMENT). */
bool icmp_may_answer(const struct packet_info *info);

/* Does the stack answer this echo request (icmp_echo)? Not with
 * echo_ignore_all, nor to a broadcast or multicast address
 * (icmp_echo_ignore_broadcasts, on by default), nor from a martian source. */
bool icmp_answers_echo(const struct icmp_config *cfg, const struct packet_info *info);

/* The code an iptables REJECT --reject-with sends (ipt_REJECT reject_tg),
 * always a destination unreachable. */
uint8_t icmp_reject_code(enum fw_reject_with with);

/* A node's ICMP rate limiter: the two buckets above. */
struct icmp_limiter;

/* A limiter with `cfg` whose global consumption draws come from `draws`
 * (copied: derive it from the world's seed and the node's name). NULL if
 * out of memory. */
struct icmp_limiter *icmp_limiter_new(const struct icmp_config *cfg, const struct rng *draws);
void icmp_limiter_free(struct icmp_limiter *lim);
const struct icmp_config *icmp_limiter_config(const struct icmp_limiter *lim);
/* New sysctls; the buckets keep what they hold, as writing /proc does. */
void icmp_limiter_set_config(struct icmp_limiter *lim, const struct icmp_config *cfg);

/* May the stack send an ICMP message of type/code to `dst` at virtual time
 * `now`? Consumes what it allows (steps 1-4 above). `loopback`: the message
 * goes out through lo (an error a node sends itself): Linux applies no
 * per-destination limit there (icmpv4_xrlim_allow), only the global one. */
bool icmp_limiter_allow(struct icmp_limiter *lim, int64_t now, uint32_t dst, uint8_t type,
			uint8_t code, bool loopback);
/* The same for an ICMPv6 message (Linux's icmpv6_mask_allow,
 * icmpv6_global_allow, icmpv6_xrlim_allow, net/ipv6/icmp.c): informational
 * types (128 and up) and packet too big are never limited; errors share
 * the global bucket with IPv4 and have a bucket per IPv6 destination of
 * ratelimit6 (net.ipv6.icmp.ratelimit, 100 ms) a message, 6 banked.
 * Linux until 2026 shifted that timeout right by (128 - prefix length of
 * the route back) >> 5 and defaulted to 1000 ms; commit 0201eedb69b2
 * ("ipv6: icmp: remove obsolete code in icmpv6_xrlim_allow()", in the
 * stable kernels since) dropped the shift as a bug and set 100 ms, which
 * the lab's kernel shows (tests/lab/lab_router6.sh). */
bool icmp_limiter_allow6(struct icmp_limiter *lim, int64_t now, const struct ip6_addr *dst,
			 uint8_t type, bool loopback);
/* Destinations the limiter remembers (for tests: idle ones are forgotten,
 * being indistinguishable from new ones once their bucket is full). */
size_t icmp_limiter_peers(const struct icmp_limiter *lim);

/* What a stack answers `about` with type/code now: NEVER (RFC 1122 3.2.2),
 * RATE_LIMITED, or SENT (packet_id still 0: the caller sends it and fills
 * it in). Checks in __icmp_send's order: the rules first, then the limits.
 * lim may be NULL when `about` may never be answered. */
struct icmp_answer icmp_decide_error(struct icmp_limiter *lim, int64_t now,
				     const struct packet_info *about, uint8_t type, uint8_t code,
				     bool loopback);

/* A new packet holding the ICMP error type/code from src to `about`'s
 * source, quoting `offending` (len bytes: its IPv4 header and what fits in
 * 576 bytes), TTL 64 and TOS as Linux's __icmp_send sets them (the quoted
 * packet's TOS bits with precedence "internetwork control", RFC 1812
 * 4.3.2.5). NULL if out of memory. */
struct packet *icmp_error_packet(struct net *net, const uint8_t *offending, size_t len,
				 const struct packet_info *about, uint32_t src, uint8_t type,
				 uint8_t code, uint16_t ip_id);
/* A new packet holding the echo reply to `request`: from its destination,
 * same identifier, sequence and payload (icmp_echo copies them), TTL 64.
 * NULL if out of memory. */
struct packet *icmp_echo_reply_packet(struct net *net, const struct packet_info *request,
				      uint16_t ip_id);

/* ---- ICMPv6 (model/icmp6.c; RFC 4443, Linux net/ipv6/icmp.c) ----------- */

/* May a stack send ICMPv6 error `type` about this packet (icmp6_send)? Not
 * about an ICMPv6 error (RFC 4443 2.4(e), is_ineligible), not to a source
 * that names no single node (::, multicast: RFC 4443 2.4(e.3)), not about a
 * packet to a multicast address unless it is packet too big (2.4(e.2)). */
bool icmp6_may_answer(const struct packet6_info *info, uint8_t type);
/* What the stack answers `about` with type/code now: NEVER, RATE_LIMITED
 * or SENT (packet_id 0: the caller sends it), as icmp_decide_error. lim
 * may be NULL (nothing limited). */
struct icmp_answer icmp6_decide_error(struct icmp_limiter *lim, int64_t now,
				      const struct packet6_info *about, uint8_t type, uint8_t code,
				      bool loopback);
/* The ICMPv6 destination unreachable code a REJECT sends for an IPv6
 * packet (ip6t_REJECT's reject_tg6 / nft_reject_ipv6): port unreachable (4,
 * ip6tables' default), net unreachable as no route (0), host unreachable
 * as address unreachable (3), the three "prohibited" as administratively
 * prohibited (1); protocol unreachable and tcp-reset, which have no ICMPv6
 * code, as port unreachable. */
uint8_t icmp6_reject_code(enum fw_reject_with with);
/* A new packet: the ICMPv6 error type/code from src to dst quoting
 * `offending` (len bytes, as much as fits in 1280: RFC 4443 2.4(c)), hop
 * limit 64, `param` in bytes 4-7, the flow label `label`. NULL if out of
 * memory. */
struct packet *icmp6_error_packet(struct net *net, const uint8_t *offending, size_t len,
				  const struct ip6_addr *src, const struct ip6_addr *dst,
				  uint8_t type, uint8_t code, uint32_t param, uint32_t label);
/* A new packet: the echo reply to `request` (icmpv6_echo_reply: from the
 * address asked, same id, sequence and data), hop limit 64, flow label
 * `label`. NULL if out of memory. */
struct packet *icmp6_echo_reply_packet(struct net *net, const struct packet6_info *request,
				       uint32_t label);
/* REJECT --reject-with tcp-reset in an ip6 rule, on a host or a router
 * (ip6t_REJECT's nf_send_reset6): a new packet, the RST from the
 * segment's destination to its source (tcp_reset_for's numbers, as
 * IPv4's), no options, hop limit 64; not an ICMP error, so no rate limit.
 * NULL for an RST, which is never answered, or out of memory. `answer`
 * says what was sent. */
struct packet *icmp6_reject_reset(struct net *net, const struct packet6_info *info,
				  struct icmp_answer *answer);

#endif
