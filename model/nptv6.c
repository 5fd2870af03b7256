/*
 * nptv6.c - RFC 6296 prefix translation, in the order of its section 3 and of
 * Linux's net/netfilter/xt_NPT.c (ip6t_npt_checkentry computes the
 * adjustment once; ip6t_npt_map_pfx rewrites the prefix and one word;
 * ip6t_snpt_tg / ip6t_dnpt_tg pick the address and the quoted one).
 */
#include "model/nptv6.h"

#include <string.h>

#include "model/packet6.h"

/* RFC 1071 arithmetic on 16-bit words: the end-around carry. */
static uint16_t ones_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

static uint16_t word_at(const struct ip6_addr *a, unsigned i)
{
	return (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
}

static void word_put(struct ip6_addr *a, unsigned i, uint16_t w)
{
	a->b[2 * i] = (uint8_t)(w >> 8);
	a->b[2 * i + 1] = (uint8_t)w;
}

/* The one's-complement sum of an address's eight words (a prefix's host
 * bits are zero, so this is the sum of the prefix). */
static uint16_t address_sum(const struct ip6_addr *a)
{
	uint16_t s = 0;

	for (unsigned i = 0; i < 8; i++)
		s = ones_add(s, word_at(a, i));
	return s;
}

/* RFC 6296 3.2: the adjustment is the one's-complement difference of the
 * two prefixes' sums, from - to (Linux: ~csum_fold(csum_sub(src, dst))). */
static uint16_t adjustment(const struct ip6_addr *from, const struct ip6_addr *to)
{
	return ones_add(address_sum(from), (uint16_t)~address_sum(to));
}

enum nptv6_result nptv6_init(struct nptv6 *t, const struct ip6_addr *inside,
			     const struct ip6_addr *outside, uint8_t len)
{
	if (len == 0 || len > NPTV6_MAX_PREFIX_LEN)
		return NPTV6_ERR_LENGTH;
	struct ip6_addr in_m = ip6_prefix_masked(inside, len);
	struct ip6_addr out_m = ip6_prefix_masked(outside, len);
	if (!ip6_equal(&in_m, inside) || !ip6_equal(&out_m, outside))
		return NPTV6_ERR_HOST_BITS;
	memset(t, 0, sizeof(*t));
	t->inside = *inside;
	t->outside = *outside;
	t->len = len;
	t->adjust_out = adjustment(inside, outside);
	t->adjust_in = adjustment(outside, inside);
	return NPTV6_OK;
}

/* Which word takes the adjustment (RFC 6296 3.4, 3.5), or -1 when none may:
 * the subnet ID for /48 and shorter, else the first interface identifier
 * word that is not 0xffff. */
static int word_to_adjust(const struct ip6_addr *a, uint8_t len)
{
	if (len <= 48)
		return word_at(a, 3) == 0xffff ? -1 : 3;
	for (unsigned i = 4; i < 8; i++)
		if (word_at(a, i) != 0xffff)
			return (int)i;
	return -1;
}

enum nptv6_result nptv6_map_address(const struct nptv6 *t, bool outbound, struct ip6_addr *a)
{
	const struct ip6_addr *from = outbound ? &t->inside : &t->outside;
	const struct ip6_addr *to = outbound ? &t->outside : &t->inside;

	if (!ip6_prefix_match(from, t->len, a))
		return NPTV6_NOT_MATCHED;
	int w = word_to_adjust(a, t->len);
	if (w < 0)
		return NPTV6_UNTRANSLATABLE;
	/* The prefix's bits from `to`, the rest kept. */
	for (unsigned bit = 0; bit < t->len; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		a->b[bit / 8] = (uint8_t)((a->b[bit / 8] & ~m) | (to->b[bit / 8] & m));
	}
	uint16_t v = ones_add(word_at(a, (unsigned)w), outbound ? t->adjust_out : t->adjust_in);
	/* RFC 6296 3.4: 0xffff is written as 0x0000 (Linux: CSUM_MANGLED_0). */
	word_put(a, (unsigned)w, v == 0xffff ? 0 : v);
	return NPTV6_OK;
}

/* Offsets of the addresses in an IPv6 header, and of the packet an ICMPv6
 * error quotes (after the 8-byte ICMPv6 header). */
enum { SRC_OFF = 8, DST_OFF = 24, QUOTE_OFF = IPV6_HEADER_SIZE + ICMPV6_HEADER_SIZE };

static enum nptv6_result map_at(const struct nptv6 *t, bool outbound, uint8_t *field)
{
	struct ip6_addr a;

	memcpy(a.b, field, 16);
	enum nptv6_result r = nptv6_map_address(t, outbound, &a);
	if (r == NPTV6_OK)
		memcpy(field, a.b, 16);
	return r;
}

/* The quoted packet of an ICMPv6 error, when one is there in full header. */
static bool quotes_a_header(const uint8_t *buf, size_t len)
{
	return buf[6] == IPPROTO_NUM_ICMPV6 && len >= QUOTE_OFF + IPV6_HEADER_SIZE &&
	       icmp6_is_error(buf[IPV6_HEADER_SIZE]);
}

static enum nptv6_result translate(const struct nptv6 *t, bool outbound, uint8_t *buf, size_t len)
{
	if (len < IPV6_HEADER_SIZE || packet_ip_version(buf, len) != 6)
		return NPTV6_ERR_NOT_A_PACKET;
	/* SNPT maps the source; DNPT the destination. */
	enum nptv6_result r = map_at(t, outbound, buf + (outbound ? SRC_OFF : DST_OFF));
	if (r != NPTV6_OK)
		return r;
	/* The packet an error quotes went the other way: its destination (out)
	 * or source (in) is the address to map, when it is in the prefix. An
	 * untranslatable quote is left as it is, as Linux ignores the result. */
	if (quotes_a_header(buf, len))
		(void)map_at(t, outbound, buf + QUOTE_OFF + (outbound ? DST_OFF : SRC_OFF));
	return NPTV6_OK;
}

enum nptv6_result nptv6_translate_outbound(const struct nptv6 *t, uint8_t *buf, size_t len)
{
	return translate(t, true, buf, len);
}

enum nptv6_result nptv6_translate_inbound(const struct nptv6 *t, uint8_t *buf, size_t len)
{
	return translate(t, false, buf, len);
}

size_t nptv6_untranslatable_pointer(bool outbound)
{
	return outbound ? SRC_OFF : DST_OFF;
}
