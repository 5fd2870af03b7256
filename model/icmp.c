/*
 * icmp.c - what a Linux stack answers with ICMP, and how often (icmp.h).
 *
 * The limiter follows net/ipv4/icmp.c (icmpv4_mask_allow,
 * icmp_global_allow, icmpv4_xrlim_allow, icmp_global_consume) and
 * net/ipv4/inetpeer.c (inet_peer_xrlim_allow) of 6.1.113 and later. The
 * kernel keeps its per-destination buckets in the inet_peer tree and
 * forgets idle ones (inet_peer_gc); natsim keeps them in a small hash
 * table and forgets a destination once its bucket is full again, which
 * changes nothing: a forgotten destination comes back as a new one, and a
 * new one starts full.
 */
#include "model/icmp.h"

#include <stdlib.h>
#include <string.h>

#define JIFFY (SIM_S(1) / ICMP_HZ)
#define NR_ICMP_TYPES 18 /* include/uapi/linux/icmp.h */
#define ICMP_FRAG_NEEDED 4
#define IPTOS_TOS_MASK 0x1e
#define IPTOS_PREC_INTERNETCONTROL 0xc0

void icmp_config_default(struct icmp_config *cfg)
{
	*cfg = (struct icmp_config){
	    .ratelimit = SIM_MS(1000),
	    .ratemask = 0x1818,
	    .msgs_per_sec = 1000,
	    .msgs_burst = 50,
	    .echo_ignore_all = false,
	    .ratelimit6 = SIM_MS(100), /* icmp.h says why not 1000 */
	};
}

/* ---- what may be answered ------------------------------------------------ */

static bool is_multicast(uint32_t a)
{
	return (a & 0xf0000000u) == 0xe0000000u;
}

/* A source that names no single host (RFC 1122 3.2.2's list; Linux's
 * martian sources in ip_route_input_slow). */
static bool is_martian_source(uint32_t a)
{
	return a == 0 || a == 0xffffffffu || (a >> 24) == 127 || is_multicast(a) ||
	       (a & 0xf0000000u) == 0xf0000000u;
}

static bool to_many(uint32_t dst)
{
	return dst == 0xffffffffu || is_multicast(dst);
}

bool icmp_may_answer(const struct packet_info *info)
{
	if (to_many(info->dst) || is_martian_source(info->src))
		return false;
	/* __icmp_send: never an error about an error, nor about a type the
	 * kernel does not know (it might be one). */
	if (info->proto == IPPROTO_NUM_ICMP &&
	    (info->icmp_error || icmp_is_error(info->icmp_type) || info->icmp_type > NR_ICMP_TYPES))
		return false;
	return true;
}

bool icmp_answers_echo(const struct icmp_config *cfg, const struct packet_info *info)
{
	return info->proto == IPPROTO_NUM_ICMP && info->icmp_type == ICMP_ECHO_REQUEST &&
	       !cfg->echo_ignore_all && !to_many(info->dst) && !is_martian_source(info->src);
}

uint8_t icmp_reject_code(enum fw_reject_with with)
{
	static const uint8_t code[FW_REJECT_WITH_COUNT] = {
	    [FW_REJECT_PORT_UNREACHABLE] = ICMP_PORT_UNREACH,
	    [FW_REJECT_NET_UNREACHABLE] = ICMP_NET_UNREACH,
	    [FW_REJECT_HOST_UNREACHABLE] = ICMP_HOST_UNREACH,
	    [FW_REJECT_PROTO_UNREACHABLE] = ICMP_PROT_UNREACH,
	    [FW_REJECT_NET_PROHIBITED] = ICMP_NET_PROHIBITED,
	    [FW_REJECT_HOST_PROHIBITED] = ICMP_HOST_PROHIBITED,
	    [FW_REJECT_ADMIN_PROHIBITED] = ICMP_ADMIN_PROHIBITED,
	    [FW_REJECT_TCP_RESET] = ICMP_PORT_UNREACH, /* for a packet that is not TCP */
	};

	return (unsigned)with < FW_REJECT_WITH_COUNT ? code[with] : ICMP_PORT_UNREACH;
}

/* ---- the limiter ---------------------------------------------------------- */

/* A destination as the kernel's inet_peer trees key it: IPv4 and IPv6
 * have a tree each (net->ipv4.peers, net->ipv6.peers), so the family is
 * part of the key. family 0 marks a free slot. */
struct icmp_peer_key {
	uint8_t family; /* 0: free, 4, 6 */
	uint8_t b[16];	/* IPv4: the address in host order in the first 4 bytes */
};

/* One destination's bucket (struct inet_peer's rate_tokens, rate_last). */
struct icmp_peer {
	struct icmp_peer_key key;
	int64_t tokens; /* jiffies */
	int64_t last;	/* jiffies */
};

struct icmp_limiter {
	struct icmp_config cfg;
	struct rng draws;
	int64_t credit;		 /* icmp_global.credit: may go below zero */
	int64_t stamp;		 /* icmp_global.stamp, jiffies */
	bool stamped;		 /* false: the bucket has never been refilled */
	struct icmp_peer *peers; /* open addressing, cap a power of two */
	size_t n_peers, cap_peers;
};

struct icmp_limiter *icmp_limiter_new(const struct icmp_config *cfg, const struct rng *draws)
{
	struct icmp_limiter *lim = calloc(1, sizeof(*lim));

	if (lim == NULL)
		return NULL;
	lim->cfg = *cfg;
	lim->draws = *draws;
	return lim;
}

void icmp_limiter_free(struct icmp_limiter *lim)
{
	if (lim == NULL)
		return;
	free(lim->peers);
	free(lim);
}

const struct icmp_config *icmp_limiter_config(const struct icmp_limiter *lim)
{
	return &lim->cfg;
}

void icmp_limiter_set_config(struct icmp_limiter *lim, const struct icmp_config *cfg)
{
	lim->cfg = *cfg;
}

size_t icmp_limiter_peers(const struct icmp_limiter *lim)
{
	return lim->n_peers;
}

/* icmp_ratelimit in jiffies: the sysctl is written in ms and stored
 * rounded up (proc_dointvec_ms_jiffies, msecs_to_jiffies). */
static int64_t ratelimit_jiffies(const struct icmp_config *cfg)
{
	return cfg->ratelimit <= 0 ? 0 : (cfg->ratelimit + JIFFY - 1) / JIFFY;
}

/* net.ipv6.icmp.ratelimit in jiffies, stored as icmp_ratelimit is. */
static int64_t ratelimit6_jiffies(const struct icmp_config *cfg)
{
	return cfg->ratelimit6 <= 0 ? 0 : (cfg->ratelimit6 + JIFFY - 1) / JIFFY;
}

/* icmpv4_mask_allow: true if this message is not limited at all. */
static bool mask_allow(const struct icmp_config *cfg, uint8_t type, uint8_t code)
{
	if (type > NR_ICMP_TYPES)
		return true;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return true; /* "Don't limit PMTU discovery." */
	return !((1u << type) & cfg->ratemask);
}

/* icmp_global_allow: credit left, or a refill due (at most HZ worth, not
 * more often than HZ/50, and only once the bucket is empty). */
static bool global_allow(struct icmp_limiter *lim, int64_t now_j)
{
	int64_t delta, incr;

	if (lim->credit > 0)
		return true;
	delta = lim->stamped ? now_j - lim->stamp : ICMP_HZ;
	if (delta > ICMP_HZ)
		delta = ICMP_HZ;
	if (delta < ICMP_HZ / 50)
		return false;
	incr = (int64_t)lim->cfg.msgs_per_sec * delta / ICMP_HZ;
	if (incr == 0)
		return false;
	lim->stamp = now_j;
	lim->stamped = true;
	lim->credit =
	    lim->credit + incr < lim->cfg.msgs_burst ? lim->credit + incr : lim->cfg.msgs_burst;
	return true;
}

/* icmp_global_consume: 0, 1 or 2 credits (get_random_u32_below(3)). */
static void global_consume(struct icmp_limiter *lim)
{
	lim->credit -= (int64_t)rng_below(&lim->draws, 3);
}

static bool key_equal(const struct icmp_peer_key *a, const struct icmp_peer_key *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static size_t peer_slot(const struct icmp_limiter *lim, const struct icmp_peer_key *key)
{
	size_t mask = lim->cap_peers - 1;
	uint32_t h = key->family;

	for (size_t k = 0; k < sizeof(key->b); k++)
		h = (h ^ key->b[k]) * 16777619u; /* FNV-1a */
	size_t i = (size_t)((h * 2654435761u) & mask);

	while (lim->peers[i].key.family != 0 && !key_equal(&lim->peers[i].key, key))
		i = (i + 1) & mask;
	return i;
}

/* A bucket idle this long is full again: the same as a new one, whose
 * 60 s of banked time fill any bucket of icmp_ratelimit <= 10 s (larger
 * ones are never forgotten; Linux's own inet_peer_gc forgets after 2 to
 * 10 minutes, depending on how many peers it holds). */
static bool peer_forgettable(const struct icmp_limiter *lim, const struct icmp_peer *p,
			     int64_t now_j)
{
	int64_t rl = ratelimit_jiffies(&lim->cfg), rl6 = ratelimit6_jiffies(&lim->cfg);
	int64_t full = ICMP_XRLIM_BURST_FACTOR * (p->key.family == 6 ? rl6 : rl);

	return full <= 60 * ICMP_HZ && now_j - p->last >= full;
}

/* Make room for one more destination: rebuild the table without the
 * forgettable ones, at least four times as large as what is left. */
static int peers_make_room(struct icmp_limiter *lim, int64_t now_j)
{
	struct icmp_peer *old = lim->peers;
	size_t old_cap = lim->cap_peers, live = 0, cap = 16;

	if ((lim->n_peers + 1) * 2 <= lim->cap_peers)
		return 0;
	for (size_t i = 0; i < old_cap; i++)
		live += old[i].key.family != 0 && !peer_forgettable(lim, &old[i], now_j);
	while (cap < (live + 1) * 4)
		cap *= 2;
	lim->peers = calloc(cap, sizeof(*lim->peers));
	if (lim->peers == NULL) {
		lim->peers = old;
		return -1;
	}
	lim->cap_peers = cap;
	lim->n_peers = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key.family != 0 && !peer_forgettable(lim, &old[i], now_j)) {
			lim->peers[peer_slot(lim, &old[i].key)] = old[i];
			lim->n_peers++;
		}
	free(old);
	return 0;
}

/* inet_getpeer_v4 / _v6 (create) + inet_peer_xrlim_allow with `timeout`
 * jiffies a message. A new peer's rate_last is "jiffies - 60*HZ", so its
 * first count is at the maximum. */
static bool peer_allow(struct icmp_limiter *lim, int64_t now_j, const struct icmp_peer_key *key,
		       int64_t timeout)
{
	int64_t token;
	struct icmp_peer *p;
	size_t i;

	if (peers_make_room(lim, now_j) < 0)
		return true; /* no inet_peer: inet_peer_xrlim_allow(NULL) allows */
	i = peer_slot(lim, key);
	p = &lim->peers[i];
	if (p->key.family == 0) {
		*p = (struct icmp_peer){.key = *key, .tokens = 0, .last = now_j - 60 * ICMP_HZ};
		lim->n_peers++;
	}
	token = p->tokens + (now_j - p->last);
	p->last = now_j;
	if (token > ICMP_XRLIM_BURST_FACTOR * timeout)
		token = ICMP_XRLIM_BURST_FACTOR * timeout;
	bool rc = token >= timeout;

	if (rc)
		token -= timeout;
	p->tokens = token;
	return rc;
}

bool icmp_limiter_allow(struct icmp_limiter *lim, int64_t now, uint32_t dst, uint8_t type,
			uint8_t code, bool loopback)
{
	int64_t now_j = now / JIFFY;

	if (mask_allow(&lim->cfg, type, code))
		return true;
	if (!global_allow(lim, now_j))
		return false;
	/* icmpv4_xrlim_allow: "No rate limit on loopback"; what passes
	 * consumes global credit. */
	struct icmp_peer_key key = {.family = 4};

	memcpy(key.b, &dst, sizeof(dst));
	if (!loopback && !peer_allow(lim, now_j, &key, ratelimit_jiffies(&lim->cfg)))
		return false;
	global_consume(lim);
	return true;
}

bool icmp_limiter_allow6(struct icmp_limiter *lim, int64_t now, const struct ip6_addr *dst,
			 uint8_t type, bool loopback)
{
	int64_t now_j = now / JIFFY, timeout = ratelimit6_jiffies(&lim->cfg);
	struct icmp_peer_key key = {.family = 6};

	/* icmpv6_mask_allow: net.ipv6.icmp.ratemask is "0-1,3-127" by
	 * default: every error but packet too big (PMTU discovery) is
	 * limited, informational messages (echo replies) never. */
	if (type >= 128 || type == 2 /* ICMPV6_PKT_TOOBIG */)
		return true;
	/* icmpv6_global_allow: the same host-wide bucket as IPv4's. */
	if (!global_allow(lim, now_j))
		return false;
	/* icmpv6_xrlim_allow: no per-destination limit through lo; no
	 * shift by the route's prefix any more (icmp.h). */
	if (!loopback) {
		memcpy(key.b, dst->b, sizeof(key.b));
		if (!peer_allow(lim, now_j, &key, timeout))
			return false;
	}
	global_consume(lim);
	return true;
}

struct icmp_answer icmp_decide_error(struct icmp_limiter *lim, int64_t now,
				     const struct packet_info *about, uint8_t type, uint8_t code,
				     bool loopback)
{
	struct icmp_answer a = {.kind = ICMP_ANSWER_NEVER, .type = type, .code = code};

	if (!icmp_may_answer(about))
		return a;
	a.kind = lim != NULL && !icmp_limiter_allow(lim, now, about->src, type, code, loopback)
		     ? ICMP_ANSWER_RATE_LIMITED
		     : ICMP_ANSWER_SENT;
	return a;
}

/* ---- the answers' bytes --------------------------------------------------- */

/* Set the IPv4 TOS byte, keeping the header checksum right (RFC 1624). */
static void set_tos(struct packet *p, uint8_t tos)
{
	uint16_t old_word = (uint16_t)(p->data[0] << 8 | p->data[1]);
	uint16_t new_word = (uint16_t)(p->data[0] << 8 | tos);
	uint16_t sum = (uint16_t)(p->data[10] << 8 | p->data[11]);

	sum = checksum_adjust16(sum, old_word, new_word);
	p->data[1] = tos;
	p->data[10] = (uint8_t)(sum >> 8);
	p->data[11] = (uint8_t)sum;
}

struct packet *icmp_error_packet(struct net *net, const uint8_t *offending, size_t len,
				 const struct packet_info *about, uint32_t src, uint8_t type,
				 uint8_t code, uint16_t ip_id)
{
	size_t quote = len < ICMP_ERROR_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE
			   ? len
			   : ICMP_ERROR_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE;
	struct packet *p = packet_alloc(net_packets(net), net_next_packet_id(net),
					IPV4_HEADER_MIN + ICMP_HEADER_SIZE + quote);

	if (p == NULL)
		return NULL;
	p->len = packet_build_icmp_error(p->data, p->cap, src, about->src, PACKET_DEFAULT_TTL,
					 ip_id, type, code, offending, len);
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return NULL;
	}
	p->sums_ok = true; /* the builder writes every sum */
	/* __icmp_send: tos = (iph->tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL. */
	set_tos(p, (uint8_t)((about->tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL));
	return p;
}

struct packet *icmp_echo_reply_packet(struct net *net, const struct packet_info *request,
				      uint16_t ip_id)
{
	struct packet *p = packet_alloc(net_packets(net), net_next_packet_id(net),
					IPV4_HEADER_MIN + ICMP_HEADER_SIZE + request->payload_len);

	if (p == NULL)
		return NULL;
	p->len = packet_build_icmp_echo(
	    p->data, p->cap, request->dst, request->src, PACKET_DEFAULT_TTL, ip_id, ICMP_ECHO_REPLY,
	    request->icmp_id, request->icmp_seq, request->payload, request->payload_len);
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return NULL;
	}
	p->sums_ok = true;
	/* icmp_reply sends with the request's TOS (ipc.tos = ip_hdr(skb)->tos). */
	set_tos(p, request->tos);
	return p;
}
