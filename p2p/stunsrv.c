/*
 * stunsrv.c - stateless STUN Binding server (RFC 8489, RFC 5780, RFC 3489).
 *
 * One function: a request in, at most one answer out. Nothing is remembered
 * between requests, so the server cannot be made to hold state by strangers;
 * STUNSRV_MAX_RATIO bounds what one request can make it send, and the caller's
 * per-source rate limit (p2p/ratelimit.h) bounds how often.
 */
#include "stunsrv.h"

#include <string.h>

static const char REASON_UNKNOWN_ATTRIBUTE[] = "Unknown Attribute";

/* Comprehension-required attributes (RFC 8489 14: types below 0x8000) that this
 * server understands. USERNAME and the MESSAGE-INTEGRITY pair are accepted and
 * not checked: RFC 8489 9 lets a server skip authentication, and Binding
 * answers reveal nothing the client does not already know. PRIORITY and
 * USE-CANDIDATE come from ICE checks (RFC 8445 7.1) and need no action. */
static bool understood(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_CHANGE_REQUEST:
	case STUN_ATTR_PADDING:
	case STUN_ATTR_RESPONSE_PORT:
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
	case STUN_ATTR_PRIORITY:
	case STUN_ATTR_USE_CANDIDATE:
		return true;
	default:
		return type >= 0x8000; /* comprehension-optional: ignored if unknown */
	}
}

static bool change_requested(const struct stun_msg *m)
{
	uint32_t flags;

	return stun_get_u32(m, STUN_ATTR_CHANGE_REQUEST, &flags) == STUN_OK &&
	       (flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT)) != 0;
}

/* Lists the attributes to name in a 420 answer; returns how many. */
static size_t collect_unknown(const struct stunsrv_config *cfg, const struct stun_msg *m,
			      uint16_t *unknown)
{
	size_t n = 0;

	/* RFC 8489 6.3.1.1: unknown comprehension-required attributes get a 420. */
	for (size_t i = 0; i < m->n_attrs; i++)
		if (!understood(m->attrs[i].type))
			unknown[n++] = m->attrs[i].type;
	/* RFC 5780 6.1: a server without an alternate address answers a request that
	 * asks to change address or port with 420, naming CHANGE-REQUEST, so the client
	 * can tell "no alternate" from "filtered". */
	if (!cfg->has_alternate && change_requested(m))
		unknown[n++] = STUN_ATTR_CHANGE_REQUEST;
	return n;
}

/* The local endpoint that differs from `local` in address and port (RFC 5780 7.4,
 * OTHER-ADDRESS; RFC 3489 11.2.3, CHANGED-ADDRESS). */
static struct p2p_endpoint other_of(const struct stunsrv_config *cfg,
				    const struct p2p_endpoint *local)
{
	return (struct p2p_endpoint){
	    .ip = local->ip == cfg->primary.ip ? cfg->alternate.ip : cfg->primary.ip,
	    .port = local->port == cfg->primary.port ? cfg->alternate.port : cfg->primary.port,
	};
}

/* RFC 5780 6.1 and 7.2 (RFC 3489 11.2.4): CHANGE-REQUEST picks the source of the
 * answer; "change IP" and "change port" each swap one half of `local`. */
static struct p2p_endpoint source_for(const struct stunsrv_config *cfg,
				      const struct p2p_endpoint *local, uint32_t change)
{
	struct p2p_endpoint other = other_of(cfg, local), src = *local;

	if (cfg->has_alternate && (change & STUN_CHANGE_IP))
		src.ip = other.ip;
	if (cfg->has_alternate && (change & STUN_CHANGE_PORT))
		src.port = other.port;
	return src;
}

/* Room for an attribute with a `vlen`-byte value (padded)? */
static bool fits(const struct stun_writer *w, size_t vlen)
{
	return w->err == STUN_OK && w->cap - w->len >= 4 + ((vlen + 3) & ~(size_t)3);
}

static void start(struct stun_writer *w, const struct stun_msg *m, struct p2p_datagram *out,
		  size_t budget, enum stun_class cls)
{
	if (m->classic) {
		/* RFC 3489 11.2: the answer echoes the whole 16-byte transaction id. */
		uint8_t txid16[16];
		memcpy(txid16, m->classic_txid_head, 4);
		memcpy(txid16 + 4, m->txid, STUN_TXID_SIZE);
		stun_writer_init_classic(w, out->buf, budget, STUN_METHOD_BINDING, cls, txid16);
	} else {
		stun_writer_init(w, out->buf, budget, STUN_METHOD_BINDING, cls, m->txid);
	}
}

/* Optional trailer, in priority order, while it fits. */
static void put_trailer(const struct stunsrv_config *cfg, const struct stun_msg *m,
			struct stun_writer *w)
{
	if (cfg->software != NULL && strlen(cfg->software) <= 763 && fits(w, strlen(cfg->software)))
		stun_put_string(w, STUN_ATTR_SOFTWARE, cfg->software);
	/* RFC 3489 has no FINGERPRINT; classic clients would not expect one. */
	if (!m->classic && fits(w, 4))
		stun_put_fingerprint(w);
}

static enum stunsrv_result finish(struct stun_writer *w, struct p2p_datagram *out)
{
	int n = stun_writer_finish(w);

	if (n < 0)
		return STUNSRV_IGNORED;
	out->len = (size_t)n;
	return STUNSRV_ANSWERED;
}

static enum stunsrv_result answer_error(const struct stun_msg *m, const uint16_t *unknown,
					size_t n_unknown, size_t budget, struct p2p_datagram *out)
{
	struct stun_writer w;

	/* RFC 8489 6.3.1.1: 420 (Unknown Attribute) with UNKNOWN-ATTRIBUTES. When the
	 * request is too small for that, drop the reason phrase; then drop the answer. */
	for (int attempt = 0; attempt < 2; attempt++) {
		start(&w, m, out, budget, STUN_CLASS_ERROR);
		stun_put_error(&w, 420, attempt == 0 ? REASON_UNKNOWN_ATTRIBUTE : "");
		stun_put_unknown(&w, unknown, n_unknown);
		if (w.err == STUN_OK)
			break;
	}
	if (w.err == STUN_OK && !m->classic && fits(&w, 4))
		stun_put_fingerprint(&w);
	return finish(&w, out);
}

/* RFC 3489 11.2.1's attributes after the RFC 5780 ones, most useful first:
 * a 3489 client needs MAPPED-ADDRESS and CHANGED-ADDRESS to run its tests. */
static void put_rfc3489(const struct stunsrv_config *cfg, const struct p2p_endpoint *from,
			const struct p2p_endpoint *other, const struct p2p_datagram *out,
			struct stun_writer *w)
{
	if (fits(w, 8))
		stun_put_address(w, STUN_ATTR_MAPPED_ADDRESS, from);
	if (cfg->has_alternate && fits(w, 8))
		stun_put_address(w, STUN_ATTR_CHANGED_ADDRESS, other);
	if (fits(w, 8))
		stun_put_address(w, STUN_ATTR_SOURCE_ADDRESS, &out->from);
}

/* RFC 8489 and RFC 5780 answer: XOR-MAPPED-ADDRESS first, then what fits. */
static enum stunsrv_result answer_modern(const struct stunsrv_config *cfg, const struct stun_msg *m,
					 const struct p2p_endpoint *local,
					 const struct p2p_endpoint *from, size_t budget,
					 struct p2p_datagram *out)
{
	struct stun_writer w;
	struct p2p_endpoint other = other_of(cfg, local);

	start(&w, m, out, budget, STUN_CLASS_SUCCESS);
	stun_put_xor_address(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, from); /* RFC 8489 14.2 */
	if (w.err != STUN_OK)
		return STUNSRV_IGNORED; /* cannot happen: 20 x 4 bytes hold it */
	/* RFC 5780 6.1: OTHER-ADDRESS only with an alternate address; RESPONSE-ORIGIN always. */
	if (cfg->has_alternate && fits(&w, 8))
		stun_put_address(&w, STUN_ATTR_OTHER_ADDRESS, &other);
	if (fits(&w, p2p_endpoint_is6(&out->from) ? 20 : 8))
		stun_put_address(&w, STUN_ATTR_RESPONSE_ORIGIN, &out->from);
	if (cfg->rfc3489_attrs)
		put_rfc3489(cfg, from, &other, out, &w);
	put_trailer(cfg, m, &w);
	return finish(&w, out);
}

/* RFC 3489 11.2.1: MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS. */
static enum stunsrv_result answer_classic(const struct stunsrv_config *cfg,
					  const struct stun_msg *m,
					  const struct p2p_endpoint *local,
					  const struct p2p_endpoint *from, size_t budget,
					  struct p2p_datagram *out)
{
	struct stun_writer w;
	struct p2p_endpoint other = other_of(cfg, local);

	start(&w, m, out, budget, STUN_CLASS_SUCCESS);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, from);
	if (w.err != STUN_OK)
		return STUNSRV_IGNORED;
	if (fits(&w, p2p_endpoint_is6(&out->from) ? 20 : 8))
		stun_put_address(&w, STUN_ATTR_SOURCE_ADDRESS, &out->from);
	if (cfg->has_alternate && fits(&w, 8))
		stun_put_address(&w, STUN_ATTR_CHANGED_ADDRESS, &other);
	put_trailer(cfg, m, &w);
	return finish(&w, out);
}

enum stunsrv_result stunsrv_answer(const struct stunsrv_config *cfg,
				   const struct p2p_endpoint *local,
				   const struct p2p_endpoint *from, const uint8_t *buf, size_t len,
				   struct p2p_datagram *out)
{
	struct stun_msg m;
	uint16_t unknown[STUN_MAX_ATTRS + 1];
	uint32_t change = 0, rport;

	/* The alternate address (RFC 5780) is of the primary's family: a
	 * Binding on a local endpoint of the other family (a coordinator's IPv6
	 * address) is answered as by a server without one. */
	struct stunsrv_config one_family;
	if (cfg->has_alternate && local->family != cfg->primary.family) {
		one_family = *cfg;
		one_family.has_alternate = false;
		cfg = &one_family;
	}
	if (stun_decode(buf, len, true, &m) != STUN_OK)
		return STUNSRV_IGNORED;
	if (m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST)
		return STUNSRV_NOT_BINDING;
	/* Bounded amplification (stunsrv.h): at most STUNSRV_MAX_RATIO x the request. */
	size_t budget = P2P_MAX_DATAGRAM;
	if (len < budget / STUNSRV_MAX_RATIO)
		budget = len * STUNSRV_MAX_RATIO;
	out->from = *local;
	out->to = *from;
	size_t n_unknown = collect_unknown(cfg, &m, unknown);
	if (n_unknown > 0)
		return answer_error(&m, unknown, n_unknown, budget, out);
	int err = stun_get_u32(&m, STUN_ATTR_CHANGE_REQUEST, &change);
	if (err == STUN_ERR_BAD_ATTRIBUTE)
		return STUNSRV_IGNORED;
	out->from = source_for(cfg, local, change);
	/* RFC 5780 7.5: RESPONSE-PORT names the port the answer goes to (same address). */
	err = stun_get_u32(&m, STUN_ATTR_RESPONSE_PORT, &rport);
	if (err == STUN_ERR_BAD_ATTRIBUTE)
		return STUNSRV_IGNORED;
	if (err == STUN_OK)
		out->to.port = (uint16_t)(rport >> 16);
	if (m.classic)
		return answer_classic(cfg, &m, local, from, budget, out);
	return answer_modern(cfg, &m, local, from, budget, out);
}
