/*
 * ring.h - a first-in first-out queue of fixed-size items in one growing
 * array: the agent's and the coordinator's output queues (datagrams to send,
 * events to report), filled by the state machine and drained by the driver
 * after each call.
 *
 * The ring owns its array; the items are plain values (no pointers the ring
 * would have to free). It knows nothing of its items' type: every call takes
 * the item size, which must be the same for the life of the ring. A zeroed
 * struct ring is an empty ring; ring_fini() frees its array.
 *
 * Optionally, a drained ring gives its array up to a struct ring_spare, from
 * which the next ring that needs one takes it: many rings that are rarely
 * full at once then share a few arrays (the agents of a simulator:
 * p2p/agent_speed.h).
 */
#ifndef NATSIM_P2P_RING_H
#define NATSIM_P2P_RING_H

#include <stdbool.h>
#include <stddef.h>

struct ring {
	void *items;	       /* cap items, or NULL while cap is 0 */
	size_t cap, head, len; /* the oldest item is at head; len are queued */
};

/* An array waiting for a ring; NULL when none waits. */
struct ring_spare {
	void *items;
	size_t cap;
};

/* A slot at the tail, uninitialised, or NULL when the array cannot grow (out
 * of memory). A full ring first takes the spare's array if it has none of
 * its own, else doubles (the first array holds two items). spare may be NULL. */
void *ring_push(struct ring *r, size_t item_size, struct ring_spare *spare);
/* Takes back the slot the last ring_push() returned. */
void ring_unpush(struct ring *r);
/* The oldest item, or NULL when the ring is empty. */
void *ring_front(const struct ring *r, size_t item_size);
/* Removes the oldest item (the ring must not be empty). With a spare, a ring
 * this leaves empty gives its array to the spare, or frees it if the spare
 * already holds one; without, it keeps the array for its next items. */
void ring_pop_front(struct ring *r, struct ring_spare *spare);
/* Frees the array; the ring is then empty and may be used again. */
void ring_fini(struct ring *r);

#endif
