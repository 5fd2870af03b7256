/*
 * conntrack_udp.h - the decisions both conntrack tables make alike, private
 * to model/: the IPv4 table (model/conntrack.c) and the IPv6 one
 * (model/conntrack6.c) keep entries of their own shapes but time UDP flows
 * and judge a packet's state by the same rules, from here.
 */
#ifndef NATSIM_MODEL_CONNTRACK_UDP_H
#define NATSIM_MODEL_CONNTRACK_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "model/conntrack.h"

/* nf_conntrack_proto_udp.c nf_conntrack_udp_packet (6.1): once a reply has
 * been seen, a packet later than stream_ts (creation + 2 s, strict
 * time_after) extends to the stream timeout and sets ASSURED (*stream);
 * before that, and for unreplied flows, every packet re-arms 30 s. Returns
 * the new deadline. */
static inline int64_t ct_udp_deadline(const struct conntrack_config *cfg, int64_t created_at,
				      bool seen_reply, int64_t now, bool *stream)
{
	*stream = seen_reply && now > created_at + cfg->udp_stream_after;
	return now + (*stream ? cfg->udp_timeout_stream : cfg->udp_timeout);
}

/* Linux gives a packet in the reply direction IP_CT_ESTABLISHED_REPLY even
 * before IPS_SEEN_REPLY is set: that is what lets the first reply through
 * "-m conntrack --ctstate ESTABLISHED". No entry, or one never answered,
 * seen in its original direction: NEW. */
static inline enum conntrack_state ct_state_of(bool has_entry, bool seen_reply,
					       enum conntrack_dir dir)
{
	if (has_entry && (seen_reply || dir == CONNTRACK_DIR_REPLY))
		return CONNTRACK_ESTABLISHED;
	return CONNTRACK_NEW;
}

#endif
