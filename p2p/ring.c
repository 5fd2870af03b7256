/*
 * ring.c - a growing FIFO of fixed-size items (see ring.h).
 */
#include "ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RING_FIRST_CAP 2

/* Doubles the array, the queued items moved to its start in order. */
static bool ring_grow(struct ring *r, size_t item_size)
{
	size_t ncap = r->cap ? 2 * r->cap : RING_FIRST_CAP;
	uint8_t *items = malloc(ncap * item_size);

	if (items == NULL)
		return false;
	for (size_t k = 0; k < r->len; k++)
		memcpy(items + k * item_size,
		       (const uint8_t *)r->items + ((r->head + k) % r->cap) * item_size, item_size);
	free(r->items);
	r->items = items;
	r->cap = ncap;
	r->head = 0;
	return true;
}

void *ring_push(struct ring *r, size_t item_size, struct ring_spare *spare)
{
	if (r->len == r->cap) {
		if (r->cap == 0 && spare != NULL && spare->items != NULL) {
			r->items = spare->items;
			r->cap = spare->cap;
			r->head = 0;
			spare->items = NULL;
		} else if (!ring_grow(r, item_size)) {
			return NULL;
		}
	}
	return (uint8_t *)r->items + ((r->head + r->len++) % r->cap) * item_size;
}

void ring_unpush(struct ring *r)
{
	r->len--;
}

void *ring_front(const struct ring *r, size_t item_size)
{
	return r->len ? (uint8_t *)r->items + r->head * item_size : NULL;
}

void ring_pop_front(struct ring *r, struct ring_spare *spare)
{
	r->head = (r->head + 1) % r->cap;
	if (--r->len > 0 || spare == NULL)
		return;
	if (spare->items == NULL) {
		spare->items = r->items;
		spare->cap = r->cap;
	} else {
		free(r->items);
	}
	r->items = NULL;
	r->cap = r->head = 0;
}

void ring_fini(struct ring *r)
{
	free(r->items);
	*r = (struct ring){0};
}
