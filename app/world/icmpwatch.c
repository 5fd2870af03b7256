/*
 * icmpwatch.c - the ICMP facts expectations read (icmpwatch.h).
 */
#include "app/world/icmpwatch.h"

#include <stdlib.h>
#include <string.h>

#include "model/packet.h"

static void *push(void *arrp, size_t *n, size_t *cap, size_t size)
{
	char **arr = arrp;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char *na = realloc(*arr, nc * size);

		if (na == NULL)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	return memset(*arr + (*n)++ * size, 0, size);
}

static int on_packet(struct icmp_watch *w, int64_t t, const struct trace_packet *p)
{
	struct packet_info info;
	struct icmp_arrival *a;

	if (p->hop == TRACE_HOP_DROP) {
		/* The drop of a message that was just received there. */
		for (size_t i = w->n_arrivals; i-- > 0;)
			if (w->arrivals[i].packet_id == p->packet_id &&
			    strcmp(w->arrivals[i].node, p->node) == 0) {
				w->arrivals[i].dropped = true;
				break;
			}
		return 0;
	}
	if (p->hop != TRACE_HOP_RX || p->len < IPV4_HEADER_MIN || p->bytes[9] != IPPROTO_NUM_ICMP ||
	    packet_parse(p->bytes, p->len, &info, NULL, 0) != PACKET_OK)
		return 0;
	a = push(&w->arrivals, &w->n_arrivals, &w->cap_arrivals, sizeof(*a));
	if (a == NULL)
		return -1;
	*a = (struct icmp_arrival){
	    t, p->node, p->packet_id, info.src, info.icmp_type, info.icmp_code, false};
	return 0;
}

int icmp_watch_record(struct icmp_watch *w, const struct trace_record *rec)
{
	struct icmp_related *r;

	if (rec->kind == TRACE_PACKET)
		return on_packet(w, rec->time, &rec->u.packet);
	if (rec->kind != TRACE_CONNTRACK || rec->u.ct.event != TRACE_CT_RELATED)
		return 0;
	r = push(&w->related, &w->n_related, &w->cap_related, sizeof(*r));
	if (r == NULL)
		return -1;
	*r = (struct icmp_related){rec->time, rec->u.ct.node};
	return 0;
}

void icmp_watch_free(struct icmp_watch *w)
{
	free(w->arrivals);
	free(w->related);
	memset(w, 0, sizeof(*w));
}

size_t icmp_watch_arrivals(const struct icmp_watch *w, const char *host, int type, int code,
			   uint32_t from, const struct icmp_arrival **first,
			   const struct icmp_arrival **other)
{
	size_t k = 0;

	*first = *other = NULL;
	for (size_t i = 0; i < w->n_arrivals; i++) {
		const struct icmp_arrival *a = &w->arrivals[i];

		if (a->dropped || strcmp(a->node, host) != 0)
			continue;
		if (a->type == type && (code < 0 || a->code == code) &&
		    (from == 0 || a->src == from)) {
			k++;
			*first = *first ? *first : a;
		} else if (*other == NULL) {
			*other = a;
		}
	}
	return k;
}

size_t icmp_watch_related(const struct icmp_watch *w, const char *node, int64_t *first_at)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n_related; i++)
		if (strcmp(w->related[i].node, node) == 0 && k++ == 0)
			*first_at = w->related[i].t;
	return k;
}
