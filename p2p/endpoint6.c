/*
 * endpoint6.c - packed endpoints and their table of IPv6 addresses
 * (endpoint6.h).
 */
#include "endpoint6.h"

#include <stdlib.h>
#include <string.h>

struct p2p_addr6_block {
	uint32_t n, cap;
	uint8_t addr[][16];
};

/* The index of addr in the table, adding it if it is new; -1 if it cannot grow. */
static int64_t intern(struct p2p_addr6_table *t, const uint8_t addr[16])
{
	struct p2p_addr6_block *b = t->b;

	for (uint32_t i = 0; b != NULL && i < b->n; i++)
		if (memcmp(b->addr[i], addr, 16) == 0)
			return i;
	if (b == NULL || b->n == b->cap) {
		uint32_t cap = b ? 2 * b->cap : 2;
		b = realloc(b, sizeof(*b) + (size_t)cap * 16);
		if (b == NULL)
			return -1;
		if (t->b == NULL)
			b->n = 0;
		b->cap = cap;
		t->b = b;
	}
	memcpy(b->addr[b->n], addr, 16);
	return b->n++;
}

int p2p_packed_set(struct p2p_addr6_table *t, struct p2p_packed_ep *out,
		   const struct p2p_endpoint *ep)
{
	uint32_t ip = ep->ip;

	if (p2p_endpoint_is6(ep)) {
		int64_t i = intern(t, ep->ip6);
		if (i < 0)
			return -1;
		ip = (uint32_t)i;
	}
	*out = (struct p2p_packed_ep){.ip = ip, .port = ep->port, .family = ep->family};
	return 0;
}

struct p2p_endpoint p2p_packed_get(const struct p2p_addr6_table *t, const struct p2p_packed_ep *pe)
{
	if (pe->family == P2P_FAMILY_IPV6)
		return p2p_endpoint6(t->b->addr[pe->ip], pe->port);
	return p2p_endpoint4(pe->ip, pe->port);
}

bool p2p_packed_equal(const struct p2p_addr6_table *t, const struct p2p_packed_ep *pe,
		      const struct p2p_endpoint *ep)
{
	if (pe->family != ep->family || pe->port != ep->port)
		return false;
	if (pe->family != P2P_FAMILY_IPV6)
		return pe->ip == ep->ip;
	return memcmp(t->b->addr[pe->ip], ep->ip6, 16) == 0;
}

void p2p_addr6_table_clear(struct p2p_addr6_table *t)
{
	if (t->b != NULL)
		t->b->n = 0;
}

void p2p_addr6_table_free(struct p2p_addr6_table *t)
{
	free(t->b);
	t->b = NULL;
}
