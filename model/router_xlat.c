/*
 * router_xlat.c - NPTv6 and NAT64 on a router: where in the router's path
 * each runs (model/router_xlat.h says where and why), the translate
 * records, and the drops. The translations themselves are model/nptv6.c,
 * model/nat64.c and model/xlat.c.
 */
#include <stdlib.h>
#include <string.h>

#include "model/node6.h"
#include "model/router_layout.h"
#include "model/router_xlat_internal.h"
#include "sim/engine.h" /* the NAT64 expiry timer */

struct router_xlat {
	bool has_npt;
	struct nptv6 npt;
	struct iface *npt_outside;
	struct nat64 *nat64;
	/* The NAT64's expiry timer (below): one event, armed at or before the
	 * earliest binding's expiry. */
	struct engine *engine;
	engine_event_id expiry;
	int64_t expiry_at;
};

static struct router_xlat *xlat_of(struct router *r, bool make)
{
	struct router_xlat **slot = router6_xlat_slot(r, make);

	if (slot == NULL)
		return NULL;
	if (*slot == NULL && make)
		*slot = calloc(1, sizeof(**slot));
	return *slot;
}

void router_xlat_free(struct router_xlat *x)
{
	if (x == NULL)
		return;
	if (x->engine != NULL)
		engine_cancel(x->engine, x->expiry);
	nat64_free(x->nat64);
	free(x);
}

int router_enable_nptv6(struct router *r, struct iface *outside,
			const struct ip6_addr *inside_prefix, const struct ip6_addr *outside_prefix,
			uint8_t len)
{
	struct nptv6 t;

	if (outside == NULL || outside->node != &r->node ||
	    nptv6_init(&t, inside_prefix, outside_prefix, len) != NPTV6_OK)
		return -1;
	struct router_xlat *x = xlat_of(r, true);
	if (x == NULL || x->has_npt)
		return -1;
	x->npt = t;
	x->npt_outside = outside;
	x->has_npt = true;
	return 0;
}

struct nat64 *router_enable_nat64(struct router *r, struct iface *outside,
				  const struct nat64_config *cfg)
{
	struct nat64_config def;

	if (cfg == NULL) {
		if (outside == NULL || outside->node != &r->node || outside->addr == 0)
			return NULL;
		nat64_config_default(&def, outside->addr);
		cfg = &def;
	}
	for (size_t i = 0; i < cfg->n_pool && i < NAT64_MAX_POOL; i++)
		if (node_iface_by_addr(&r->node, cfg->pool[i]) == NULL ||
		    (router_nat(r) != NULL && nat_owns_address(router_nat(r), cfg->pool[i])))
			return NULL;
	struct router_xlat *x = xlat_of(r, true);
	if (x == NULL || x->nat64 != NULL)
		return NULL;
	x->nat64 = nat64_new(cfg, net_trace(r->node.net), r->node.name);
	x->engine = net_engine(r->node.net);
	return x->nat64;
}

/* ---- NAT64 binding lifetimes ----------------------------------------------- */

/* Bindings expire at exactly their lifetime after their last packet (RFC
 * 6146 3.5.1, 3.5.3), each with its TRACE_MAP_EXPIRED record at that
 * instant, as the IPv4 NAT's mappings do (model/nat.c). model/nat64.h is
 * sans-I/O, so the router keeps its clock: one event per NAT64 rather than
 * one per binding, armed at the earliest expiry. Traffic only pushes
 * expiries later, so a timer that fires early finds nothing expired and is
 * re-armed at the new earliest (DESIGN.md's lazy re-arm); only a new
 * binding that expires sooner than the armed time (an ICMP query's 60 s
 * under UDP's 5 minutes) moves it forward. */
static void nat64_arm(struct router_xlat *x, int64_t touched);

static void nat64_expiry_fired(struct engine *e, void *arg)
{
	struct router_xlat *x = arg;

	x->expiry = 0;
	nat64_expire(x->nat64, engine_now(e));
	nat64_arm(x, SIM_TIME_NEVER);
}

/* After a packet whose binding now expires at `touched` (SIM_TIME_NEVER:
 * none): an armed timer no later stays as it is, so a packet costs no scan
 * of the table; otherwise the timer goes to the earliest expiry. */
static void nat64_arm(struct router_xlat *x, int64_t touched)
{
	if (x->expiry != 0 && x->expiry_at <= touched)
		return;
	int64_t at = nat64_next_deadline(x->nat64);
	if (at == SIM_TIME_NEVER || (x->expiry != 0 && x->expiry_at <= at))
		return;
	engine_cancel(x->engine, x->expiry);
	x->expiry = engine_schedule_at(x->engine, at, nat64_expiry_fired, x);
	x->expiry_at = at; /* 0 (out of memory): the next packet expires them lazily */
}

struct nat64 *router_nat64(struct router *r)
{
	struct router_xlat *x = xlat_of(r, false);

	return x != NULL ? x->nat64 : NULL;
}

/* ---- records and drops -------------------------------------------------- */

/* A TRACE_HOP_TRANSLATE record: p as it now is, `before` as it was. */
static void record_translate(struct router *r, struct iface *at, const struct packet *p,
			     const uint8_t *before, size_t before_len)
{
	struct trace *t = net_trace(r->node.net);

	if (!trace_active(t))
		return;
	struct trace_record rec = {.kind = TRACE_PACKET};
	rec.u.packet.hop = TRACE_HOP_TRANSLATE;
	rec.u.packet.packet_id = p->id;
	rec.u.packet.node = r->node.name;
	rec.u.packet.iface = at != NULL ? at->name : NULL;
	rec.u.packet.bytes = p->data;
	rec.u.packet.len = p->len;
	rec.u.packet.before = before;
	rec.u.packet.before_len = before_len;
	trace_emit(t, &rec);
}

/* The refusal's code (explain/xlat.c words it). */
static enum xlat_refusal nat64_refusal(enum nat64_verdict v)
{
	switch (v) {
	case NAT64_DROP_NO_BINDING:
		return XLAT_REFUSED_NO_BINDING;
	case NAT64_DROP_FILTERED:
		return XLAT_REFUSED_FILTERED;
	case NAT64_DROP_EXHAUSTED:
		return XLAT_REFUSED_EXHAUSTED;
	case NAT64_DROP_UNSUPPORTED:
		return XLAT_REFUSED_UNSUPPORTED;
	case NAT64_DROP_TCP_NO_SESSION:
		return XLAT_REFUSED_TCP_NO_SESSION;
	case NAT64_DROP_UNTRANSLATABLE:
		return XLAT_REFUSED_UNTRANSLATABLE;
	case NAT64_DROP_NOT_OURS:
		return XLAT_REFUSED_NOT_OURS;
	default:
		return XLAT_REFUSED_MALFORMED;
	}
}

/* The drop's reason: a NAT64's binding table speaks as a NAT's does. */
static enum trace_drop_reason nat64_reason(enum nat64_verdict v)
{
	switch (v) {
	case NAT64_DROP_NO_BINDING:
	case NAT64_DROP_TCP_NO_SESSION:
		return TRACE_DROP_NAT_NO_MAPPING;
	case NAT64_DROP_FILTERED:
		return TRACE_DROP_NAT_FILTER;
	case NAT64_DROP_EXHAUSTED:
		return TRACE_DROP_NAT_EXHAUSTED;
	default:
		return TRACE_DROP_MALFORMED; /* no translation for these bytes */
	}
}

static void drop_xlat(struct router *r, struct iface *at, struct packet *p,
		      enum trace_drop_reason reason, struct verdict_flow flow,
		      enum xlat_refusal why, enum xlat_result result)
{
	node_drop_verdict(
	    &r->node, at, p, reason, NODE_VERDICT_PATH,
	    &(struct node_path_facts){
		.cause = NODE_PATH_XLAT, .flow = flow, .xlat = why, .xlat_result = result});
}

/* The NAT64's refusal of p (parsed as `flow`). */
static void drop_nat64(struct router *r, struct iface *at, struct packet *p,
		       struct verdict_flow flow, const struct nat64_result *res)
{
	drop_xlat(r, at, p, nat64_reason(res->verdict), flow, nat64_refusal(res->verdict),
		  res->xlat);
}

/* ---- NPTv6 ---------------------------------------------------------------- */

/* DNPT (in) or SNPT (out) on p in place. True: dropped as untranslatable. */
static bool npt_step(struct router *r, struct router_xlat *x, struct iface *at, struct packet *p,
		     bool outbound)
{
	uint8_t before[IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE + IPV6_HEADER_SIZE];
	size_t keep = p->len < sizeof(before) ? p->len : sizeof(before);
	enum nptv6_result res;

	memcpy(before, p->data, keep); /* all NPTv6 may change */
	res = outbound ? nptv6_translate_outbound(&x->npt, p->data, p->len)
		       : nptv6_translate_inbound(&x->npt, p->data, p->len);
	if (res == NPTV6_UNTRANSLATABLE) {
		drop_xlat(r, at, p, TRACE_DROP_MALFORMED, packet6_flow_of_bytes(p->data, p->len),
			  XLAT_REFUSED_NPT_FFFF, XLAT_OK);
		return true;
	}
	if (res == NPTV6_OK && trace_active(net_trace(r->node.net))) {
		uint8_t *old = malloc(p->len);
		if (old != NULL) {
			memcpy(old, p->data, p->len);
			memcpy(old, before, keep);
			record_translate(r, at, p, old, p->len);
			free(old);
		}
	}
	return false;
}

bool router_xlat_postrouting6(struct router *r, struct router_xlat *x, struct iface *out,
			      struct packet *p)
{
	return x->has_npt && out == x->npt_outside && npt_step(r, x, out, p, true);
}

/* ---- NAT64 ---------------------------------------------------------------- */

/* The translated bytes as a packet of their own with p's id (the trace
 * follows one packet through the translation), p released. NULL: out of
 * memory, p dropped. */
static struct packet *rebuilt(struct router *r, struct iface *at, struct packet *p,
			      const uint8_t *bytes, size_t len)
{
	struct packet *q = packet_alloc(net_packets(r->node.net), p->id, len);

	if (q == NULL) {
		drop_xlat(r, at, p, TRACE_DROP_QUEUE_FULL, packet_flow_of_bytes(p->data, p->len),
			  XLAT_REFUSED_NO_MEMORY, XLAT_OK);
		return NULL;
	}
	memcpy(q->data, bytes, len);
	q->len = len;
	record_translate(r, at, q, p->data, p->len);
	packet_release(net_packets(r->node.net), p);
	return q;
}

bool router_xlat_prerouting6(struct router *r, struct router_xlat *x, struct iface *in,
			     struct packet *p, struct packet6_info *info)
{
	if (x->has_npt && in == x->npt_outside) {
		if (npt_step(r, x, in, p, false))
			return true;
		(void)packet6_parse(p->data, p->len, info, NULL, 0); /* as rewritten */
	}
	if (x->nat64 == NULL || !ip6_prefix_match(&nat64_config(x->nat64)->prefix, 96, &info->dst))
		return false;
	uint8_t out[PACKET_MAX_SIZE];
	size_t len = 0;
	struct nat64_result res = nat64_translate_6to4(
	    x->nat64, engine_now(net_engine(r->node.net)), p->data, p->len, out, sizeof(out), &len);
	nat64_arm(x, res.binding.id != 0 ? res.binding.expires_at : SIM_TIME_NEVER);
	if (res.verdict != NAT64_TRANSLATED) {
		drop_nat64(r, in, p, packet6_flow_of(info), &res);
		return true;
	}
	struct packet *q = rebuilt(r, in, p, out, len);
	if (q != NULL)
		r->node.ops->receive(&r->node, in, q); /* on as IPv4 */
	return true;
}

bool router_xlat_receive4(struct router *r, struct iface *in, struct packet *p)
{
	struct router_xlat *x = xlat_of(r, false);
	struct packet_info info;

	if (x == NULL || x->nat64 == NULL || p->len < IPV4_HEADER_MIN ||
	    !nat64_owns_ipv4(x->nat64, (uint32_t)p->data[16] << 24 | (uint32_t)p->data[17] << 16 |
					   (uint32_t)p->data[18] << 8 | p->data[19]))
		return false;
	uint8_t out[PACKET_MAX_SIZE];
	size_t len = 0;
	struct nat64_result res = nat64_translate_4to6(
	    x->nat64, engine_now(net_engine(r->node.net)), p->data, p->len, out, sizeof(out), &len);
	nat64_arm(x, res.binding.id != 0 ? res.binding.expires_at : SIM_TIME_NEVER);
	if (res.verdict != NAT64_TRANSLATED) {
		if (packet_parse(p->data, p->len, &info, NULL, 0) != PACKET_OK)
			return false;
		drop_nat64(r, in, p, packet_flow_of(&info), &res);
		return true;
	}
	struct packet *q = rebuilt(r, in, p, out, len);
	if (q != NULL)
		router6_receive_translated(r, in, q); /* on as IPv6, past FORWARD */
	return true;
}
