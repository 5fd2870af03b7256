/*
 * icmp6.c - what a Linux stack answers with ICMPv6 (RFC 4443, Linux 6.1
 * net/ipv6/icmp.c): which packets may be answered with an error, and the
 * answers' bytes. The rate limit is model/icmp.c's limiter
 * (icmp_limiter_allow6), shared with ICMP for IPv4 as Linux shares its
 * global bucket (icmp_global_allow) between the two.
 */
#include "model/icmp.h"

#include <string.h>

#include "model/tcp.h"

static bool is_multicast6(const struct ip6_addr *a)
{
	return a->b[0] == 0xff; /* ff00::/8, RFC 4291 2.7 */
}

bool icmp6_may_answer(const struct packet6_info *info, uint8_t type)
{
	/* icmp6_send, "Dest addr check": only packet too big (and a
	 * parameter problem about an unknown option, never sent here) about a
	 * packet to a multicast address. */
	if (is_multicast6(&info->dst) && type != ICMP6_PACKET_TOO_BIG)
		return false;
	/* "Must not send error if the source does not uniquely identify a
	 * single node (RFC2463 Section 2.4)": :: and multicast. */
	if (ip6_is_unspecified(&info->src) || is_multicast6(&info->src))
		return false;
	/* is_ineligible: "Never answer to a ICMP packet" error (RFC 4443
	 * 2.4(e.1)); informational messages may be answered. */
	if (info->next_header == IPPROTO_NUM_ICMPV6 && icmp6_is_error(info->icmp_type))
		return false;
	return true;
}

uint8_t icmp6_reject_code(enum fw_reject_with with)
{
	uint8_t type, code;

	fw_reject_icmp6(with, &type, &code); /* one table: sim/verdict.c */
	return code;
}

struct icmp_answer icmp6_decide_error(struct icmp_limiter *lim, int64_t now,
				      const struct packet6_info *about, uint8_t type, uint8_t code,
				      bool loopback)
{
	struct icmp_answer a = {.kind = ICMP_ANSWER_NEVER, .type = type, .code = code};

	if (!icmp6_may_answer(about, type))
		return a;
	a.kind = lim != NULL && !icmp_limiter_allow6(lim, now, &about->src, type, loopback)
		     ? ICMP_ANSWER_RATE_LIMITED
		     : ICMP_ANSWER_SENT;
	return a;
}

struct packet *icmp6_error_packet(struct net *net, const uint8_t *offending, size_t len,
				  const struct ip6_addr *src, const struct ip6_addr *dst,
				  uint8_t type, uint8_t code, uint32_t param, uint32_t label)
{
	size_t room = IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + len;
	struct packet *p;

	if (room > ICMPV6_ERROR_MAX_SIZE)
		room = ICMPV6_ERROR_MAX_SIZE;
	p = packet_alloc(net_packets(net), net_next_packet_id(net), room);
	if (p == NULL)
		return NULL;
	p->len = packet6_build_icmp_error(p->data, p->cap, src, dst, IPV6_DEFAULT_HOP_LIMIT, type,
					  code, param, offending, len);
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return NULL;
	}
	packet6_set_flow_label(p->data, p->len, label);
	p->sums_ok = true; /* the builder writes the checksum */
	return p;
}

struct packet *icmp6_echo_reply_packet(struct net *net, const struct packet6_info *request,
				       uint32_t label)
{
	struct packet *p =
	    packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + request->payload_len);

	if (p == NULL)
		return NULL;
	p->len = packet6_build_icmp_echo(p->data, p->cap, &request->dst, &request->src,
					 IPV6_DEFAULT_HOP_LIMIT, ICMP6_ECHO_REPLY, request->icmp_id,
					 request->icmp_seq, request->payload, request->payload_len);
	if (p->len == 0) {
		packet_release(net_packets(net), p);
		return NULL;
	}
	packet6_set_flow_label(p->data, p->len, label);
	p->sums_ok = true;
	return p;
}

struct packet *icmp6_reject_reset(struct net *net, const struct packet6_info *info,
				  struct icmp_answer *answer)
{
	struct endpoint6 from = {info->dst, info->dport}, to = {info->src, info->sport};
	struct tcp_seg_in seg = {.flags = info->tcp_flags,
				 .seq = info->tcp_seq,
				 .ack = info->tcp_ack,
				 .len = info->payload_len};
	struct tcp_segment rst;
	struct packet *r;

	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_NONE};
	if (!tcp_reset_for(&seg, &rst))
		return NULL;
	r = packet_alloc(net_packets(net), net_next_packet_id(net),
			 IPV6_HEADER_SIZE + TCP_HEADER_MIN);
	if (r == NULL)
		return NULL;
	r->len = packet6_build_tcp(
	    r->data, r->cap, &from, &to, IPV6_DEFAULT_HOP_LIMIT,
	    net_flow_label6(net, &from.ip, &to.ip, IPPROTO_NUM_TCP, from.port, to.port), &rst);
	r->sums_ok = true;
	*answer = (struct icmp_answer){.kind = ICMP_ANSWER_TCP_RST, .packet_id = r->id};
	return r;
}
