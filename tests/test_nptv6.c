/*
 * test_nptv6.c - RFC 6296 prefix translation (model/nptv6.h): the RFC's own
 * /48 example both ways, the word adjusted for longer prefixes, the 0xffff
 * rules, and the property the lesson rests on: UDP and ICMPv6 checksums are
 * unchanged by the translation and still right, both ways. Expected
 * addresses were worked by hand from RFC 6296 3.6 and checked against
 * Linux's ip6tables SNPT/DNPT (tests/lab/lab_nptv6.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/nptv6.h"
#include "model/packet6.h"

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

static struct nptv6 translator(const char *in, const char *out, uint8_t len)
{
	struct nptv6 t;
	struct ip6_addr i = addr(in), o = addr(out);

	assert_int_equal(nptv6_init(&t, &i, &o, len), NPTV6_OK);
	return t;
}

/* Map `from` one way and expect `to`, then map `to` back and expect `from`. */
static void maps(const struct nptv6 *t, const char *from, const char *to)
{
	struct ip6_addr a = addr(from), want = addr(to), back = addr(from);
	char got[IP6_TEXT_SIZE];

	assert_int_equal(nptv6_map_address(t, true, &a), NPTV6_OK);
	assert_string_equal(ip6_format(&a, got, sizeof(got)), to);
	assert_true(ip6_equal(&a, &want));
	assert_int_equal(nptv6_map_address(t, false, &a), NPTV6_OK);
	assert_true(ip6_equal(&a, &back));
}

/* RFC 6296 3.6: FD01:0203:0405:0001::1234 behind FD01:0203:0405::/48 is
 * 2001:0DB8:0001:D550::1234 behind 2001:0DB8:0001::/48. */
static void test_rfc6296_example(void **state)
{
	(void)state;
	struct nptv6 t = translator("fd01:203:405::", "2001:db8:1::", 48);

	maps(&t, "fd01:203:405:1::1234", "2001:db8:1:d550::1234");
	/* The subnet ID 0x2ab0 sums to 0xffff, written as 0 (RFC 6296 3.4). */
	maps(&t, "fd01:203:405:2ab0::1", "2001:db8:1::1");
}

/* Longer than /48: the first interface identifier word that is not
 * 0xffff takes the adjustment; the subnet bits below the prefix stay. */
static void test_longer_prefix_adjusts_the_iid(void **state)
{
	(void)state;
	struct nptv6 t = translator("fd01:203:405:100::", "2001:db8:1:200::", 56);

	maps(&t, "fd01:203:405:1ab::1234", "2001:db8:1:2ab:d44f::1234");
	maps(&t, "fd01:203:405:1ab:ffff:1::1", "2001:db8:1:2ab:ffff:d450:0:1");
	/* /64: sum(fd00:1:2:3) - sum(2001:db8:9:8) = 0xcf3c into bits 64..79. */
	struct nptv6 t64 = translator("fd00:1:2:3::", "2001:db8:9:8::", 64);
	maps(&t64, "fd00:1:2:3::5", "2001:db8:9:8:cf3c::5");
}

static void test_untranslatable_words(void **state)
{
	(void)state;
	struct nptv6 t48 = translator("fd01:203:405::", "2001:db8:1::", 48);
	struct ip6_addr a = addr("fd01:203:405:ffff::1"), keep = a;

	/* /48: subnet 0xffff would collide with subnet 0 (RFC 6296 3.4). */
	assert_int_equal(nptv6_map_address(&t48, true, &a), NPTV6_UNTRANSLATABLE);
	assert_true(ip6_equal(&a, &keep));
	/* /64: an interface identifier of all ones has no word to adjust. */
	struct nptv6 t64 = translator("fd00:1:2:3::", "2001:db8:9:8::", 64);
	a = addr("fd00:1:2:3:ffff:ffff:ffff:ffff");
	assert_int_equal(nptv6_map_address(&t64, true, &a), NPTV6_UNTRANSLATABLE);
	/* Outside the prefix: left alone, and said so. */
	a = addr("2001:db8:99::1");
	keep = a;
	assert_int_equal(nptv6_map_address(&t48, true, &a), NPTV6_NOT_MATCHED);
	assert_true(ip6_equal(&a, &keep));
	assert_int_equal(nptv6_untranslatable_pointer(true), 8);
	assert_int_equal(nptv6_untranslatable_pointer(false), 24);
}

static void test_init_refuses_bad_prefixes(void **state)
{
	(void)state;
	struct nptv6 t;
	struct ip6_addr in = addr("fd01:203:405::"), out = addr("2001:db8:1::");
	struct ip6_addr host = addr("fd01:203:405::1");

	assert_int_equal(nptv6_init(&t, &in, &out, 0), NPTV6_ERR_LENGTH);
	assert_int_equal(nptv6_init(&t, &in, &out, 65), NPTV6_ERR_LENGTH);
	assert_int_equal(nptv6_init(&t, &host, &out, 48), NPTV6_ERR_HOST_BITS);
	assert_int_equal(nptv6_init(&t, &in, &host, 48), NPTV6_ERR_HOST_BITS);
}

static uint16_t l4_sum(const uint8_t *buf, size_t off)
{
	return (uint16_t)(buf[IPV6_HEADER_SIZE + off] << 8 | buf[IPV6_HEADER_SIZE + off + 1]);
}

/* One packet out and back: the checksum bytes never change, the parser
 * (which sums the pseudo-header afresh) accepts it on the outside, and
 * the way back restores every byte. */
static void round_trip(const struct nptv6 *t, uint8_t *buf, size_t n, size_t sum_off)
{
	uint8_t orig[1500];
	struct packet6_info pi;

	memcpy(orig, buf, n);
	assert_int_equal(nptv6_translate_outbound(t, buf, n), NPTV6_OK);
	assert_memory_not_equal(buf + 8, orig + 8, 16);
	assert_int_equal(l4_sum(buf, sum_off), l4_sum(orig, sum_off));
	assert_int_equal(packet6_parse(buf, n, &pi, NULL, 0), PACKET_OK);
	/* The reply comes to the outside address; inbound maps it back. */
	uint8_t reply[1500];
	memcpy(reply, buf, n);
	memcpy(reply + 8, buf + 24, 16);
	memcpy(reply + 24, buf + 8, 16);
	assert_int_equal(nptv6_translate_inbound(t, reply, n), NPTV6_OK);
	assert_memory_equal(reply + 24, orig + 8, 16);
	assert_int_equal(packet6_parse(reply, n, &pi, NULL, 0), PACKET_OK);
}

static void test_checksums_unchanged_and_valid(void **state)
{
	(void)state;
	static const char *const pfx[][2] = {{"fd01:203:405::", "2001:db8:1::"},
					     {"fd00:abcd:1200::", "2001:db8:ff00::"},
					     {"fd12:3456:789a:bc00::", "2001:db8:0:ff00::"}};
	static const uint8_t lens[] = {48, 40, 56};
	uint8_t buf[1500];

	for (size_t p = 0; p < 3; p++) {
		struct nptv6 t = translator(pfx[p][0], pfx[p][1], lens[p]);
		for (unsigned k = 0; k < 64; k++) {
			struct endpoint6 src = {addr(pfx[p][0]), (uint16_t)(5000 + k)};
			struct endpoint6 dst = {addr("2001:db8:2::1"), 3478};
			src.ip.b[7] = (uint8_t)(k * 37);
			src.ip.b[15] = (uint8_t)(k * 11 + 1);
			size_t n =
			    packet6_build_udp(buf, sizeof(buf), &src, &dst, 64, k, "ping", 4);
			round_trip(&t, buf, n, 6);
			n = packet6_build_icmp_echo(buf, sizeof(buf), &src.ip, &dst.ip, 64,
						    ICMP6_ECHO_REQUEST, (uint16_t)k, 1, NULL, 16);
			round_trip(&t, buf, n, 2);
		}
	}
}

/* An error from inside about a packet that came in: its quote's destination
 * is the inside address, which SNPT maps out, so the remote recognises the
 * packet it sent; the ICMPv6 checksum stays right (checksum-neutral). */
static void test_error_quote_translated(void **state)
{
	(void)state;
	struct nptv6 t = translator("fd01:203:405::", "2001:db8:1::", 48);
	struct endpoint6 remote = {addr("2001:db8:2::1"), 3478};
	struct endpoint6 inside = {addr("fd01:203:405:1::1234"), 5000};
	uint8_t in[200], err[400];
	struct packet6_info pi;

	size_t n = packet6_build_udp(in, sizeof(in), &remote, &inside, 63, 0, "x", 1);
	size_t e = packet6_build_icmp_error(err, sizeof(err), &inside.ip, &remote.ip, 64,
					    ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, in, n);
	assert_int_equal(nptv6_translate_outbound(&t, err, e), NPTV6_OK);
	assert_int_equal(packet6_parse(err, e, &pi, NULL, 0), PACKET_OK);
	char got[IP6_TEXT_SIZE];
	assert_string_equal(ip6_format(&pi.src, got, sizeof(got)), "2001:db8:1:d550::1234");
	assert_string_equal(ip6_format(&pi.inner.dst, got, sizeof(got)), "2001:db8:1:d550::1234");
	assert_string_equal(ip6_format(&pi.inner.src, got, sizeof(got)), "2001:db8:2::1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6296_example),
	    cmocka_unit_test(test_longer_prefix_adjusts_the_iid),
	    cmocka_unit_test(test_untranslatable_words),
	    cmocka_unit_test(test_init_refuses_bad_prefixes),
	    cmocka_unit_test(test_checksums_unchanged_and_valid),
	    cmocka_unit_test(test_error_quote_translated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
