/*
 * test_bytes.c - big-endian reads and writes: the wire order, unaligned
 * offsets, and a write read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"

static void test_network_order(void **state)
{
	/* An IPv4 header's total length (0x00ec) and source 100.64.0.2, at odd offsets. */
	static const uint8_t wire[] = {0xff, 0x00, 0xec, 0x64, 0x40, 0x00, 0x02};
	uint8_t out[7];

	(void)state;
	assert_int_equal(get16(wire + 1), 0x00ec);
	assert_int_equal(get32(wire + 3), 0x64400002u);
	memset(out, 0xff, sizeof(out));
	put16(out + 1, 0x00ec);
	put32(out + 3, 0x64400002u);
	assert_memory_equal(out, wire, sizeof(wire));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
