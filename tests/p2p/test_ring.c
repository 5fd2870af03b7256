/* test_ring.c - the agent's and the coordinator's output queue: first in,
 * first out across wrap-around and growth, taking back the last slot, and a
 * drained ring handing its array to a spare and the next ring taking it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "p2p/ring.h"

struct item {
	uint32_t n;
	char pad[60]; /* larger than a pointer: offsets are in items, not bytes */
};

static void push(struct ring *r, uint32_t n, struct ring_spare *spare)
{
	struct item *it = ring_push(r, sizeof(*it), spare);
	assert_non_null(it);
	it->n = n;
}

static uint32_t pop(struct ring *r, struct ring_spare *spare)
{
	const struct item *it = ring_front(r, sizeof(*it));
	assert_non_null(it);
	uint32_t n = it->n;
	ring_pop_front(r, spare);
	return n;
}

/* Pushes and pops interleaved so the head walks round the array while it
 * grows: order is kept throughout. */
static void test_fifo_across_wrap_and_growth(void **state)
{
	(void)state;
	struct ring r = {0};
	uint32_t next_in = 0, next_out = 0;

	assert_null(ring_front(&r, sizeof(struct item)));
	for (int round = 0; round < 50; round++) {
		for (int k = 0; k < round % 7 + 1; k++)
			push(&r, next_in++, NULL);
		for (int k = 0; k < round % 5 + 1 && r.len > 0; k++)
			assert_int_equal(pop(&r, NULL), next_out++);
	}
	while (r.len > 0)
		assert_int_equal(pop(&r, NULL), next_out++);
	assert_int_equal(next_out, next_in);
	assert_null(ring_front(&r, sizeof(struct item)));
	assert_non_null(r.items); /* without a spare, a drained ring keeps its array */
	ring_fini(&r);
	assert_null(r.items);
	assert_int_equal(r.cap, 0);
}

/* ring_unpush() takes back the newest slot only. */
static void test_unpush(void **state)
{
	(void)state;
	struct ring r = {0};

	push(&r, 1, NULL);
	push(&r, 2, NULL);
	ring_unpush(&r);
	push(&r, 3, NULL);
	assert_int_equal(r.len, 2);
	assert_int_equal(pop(&r, NULL), 1);
	assert_int_equal(pop(&r, NULL), 3);
	ring_fini(&r);
}

/* With a spare: the first drained ring's array waits there, the next empty
 * ring to push takes it (capacity and all), a second drained ring's array is
 * freed because the spare is taken. */
static void test_spare(void **state)
{
	(void)state;
	struct ring_spare spare = {0};
	struct ring a = {0}, b = {0};

	for (uint32_t n = 0; n < 5; n++)
		push(&a, n, &spare);
	void *array = a.items;
	size_t cap = a.cap;
	assert_true(cap >= 5);
	push(&b, 100, &spare); /* no spare yet: b makes its own */
	for (uint32_t n = 0; n < 5; n++)
		assert_int_equal(pop(&a, &spare), n);
	assert_null(a.items);
	assert_int_equal(a.cap, 0);
	assert_ptr_equal(spare.items, array);
	assert_int_equal(spare.cap, cap);

	assert_int_equal(pop(&b, &spare), 100); /* spare taken: b's array is freed */
	assert_null(b.items);
	assert_ptr_equal(spare.items, array);

	push(&b, 7, &spare);
	assert_ptr_equal(b.items, array);
	assert_int_equal(b.cap, cap);
	assert_null(spare.items);
	assert_int_equal(pop(&b, &spare), 7);
	assert_ptr_equal(spare.items, array);
	ring_fini(&a);
	ring_fini(&b);
	free(spare.items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_across_wrap_and_growth),
	    cmocka_unit_test(test_unpush),
	    cmocka_unit_test(test_spare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
