/*
 * hmac.c - see hmac.h. SHA-256 compression in portable C (FIPS 180-4
 * section 6.2.2) and, on x86-64 with the SHA extensions, with
 * SHA256RNDS2/SHA256MSG1/SHA256MSG2 (Intel's "SHA extensions" paper, 2013):
 * the state is kept as the two registers ABEF and CDGH those instructions
 * want, each SHA256RNDS2 does two rounds, and the message schedule advances
 * four words per step.
 */
#include "hmac.h"

#include "bytes.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HMAC_HAVE_NI 1
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* The functions of FIPS 180-4 section 4.1.2, named as there. */
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z)
{
	return (x & y) ^ (~x & z);
}

static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z)
{
	return (x & y) ^ (x & z) ^ (y & z);
}

static inline uint32_t big_sigma0(uint32_t x)
{
	return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}

static inline uint32_t big_sigma1(uint32_t x)
{
	return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}

static inline uint32_t sigma0(uint32_t x)
{
	return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
}

static inline uint32_t sigma1(uint32_t x)
{
	return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
}

/* FIPS 180-4 6.2.2 step 1: the message schedule, the block's 16 words
 * (big-endian) stretched to 64. */
static void schedule(uint32_t w[64], const uint8_t *p)
{
	for (int t = 0; t < 16; t++)
		w[t] = get32(p + 4 * t);
	for (int t = 16; t < 64; t++)
		w[t] = sigma1(w[t - 2]) + w[t - 7] + sigma0(w[t - 15]) + w[t - 16];
}

/* FIPS 180-4 6.2.2 steps 2-4: 64 rounds over a copy of the state (a..h),
 * then added into it. */
static void rounds(uint32_t h[8], const uint32_t w[64])
{
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = hh + big_sigma1(e) + ch(e, f, g) + K[t] + w[t];
		uint32_t t2 = big_sigma0(a) + maj(a, b, c);
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64) {
		uint32_t w[64];
		schedule(w, p);
		rounds(h, w);
	}
}

#ifdef HMAC_HAVE_NI
/* Compiled for these instructions whatever the build's -march: cpu_has_ni
 * decides at run time whether they are used. */
#define HMAC_TARGET_NI __attribute__((target("sha,sse4.1,ssse3")))

HMAC_TARGET_NI static void blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	/* h[0..3] = a b c d, h[4..7] = e f g h, lowest lane first. */
	__m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4];

		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
		for (int r = 0; r < 16; r++) {
			/* w[r % 4] holds words 4r .. 4r+3; compute them from the
			 * four groups before (FIPS 180-4 6.2.2 step 1). */
			if (r >= 4) {
				__m128i w1 = w[(r - 1) % 4], w2 = w[(r - 2) % 4];
				__m128i s = _mm_sha256msg1_epu32(w[r % 4], w[(r - 3) % 4]);
				s = _mm_add_epi32(s, _mm_alignr_epi8(w1, w2, 4));
				w[r % 4] = _mm_sha256msg2_epu32(s, w1);
			}
			__m128i wk = _mm_add_epi32(w[r % 4], _mm_loadu_si128((const __m128i *)&K[4 * r]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool cpu_has_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

typedef void (*blocks_fn)(uint32_t h[8], const uint8_t *p, size_t n);

/* Chosen on first use; -1 unknown, 0 portable, 1 extensions. A race
 * between threads on first use writes the same value. */
static int use_ni = -1;

static blocks_fn blocks(void)
{
#ifdef HMAC_HAVE_NI
	if (use_ni < 0)
		use_ni = cpu_has_ni();
	return use_ni ? blocks_ni : blocks_portable;
#else
	return blocks_portable;
#endif
}

bool hmac_sha256_extensions(void)
{
	return blocks() != blocks_portable;
}

bool hmac_sha256_use_extensions(bool on)
{
#ifdef HMAC_HAVE_NI
	use_ni = on && cpu_has_ni();
#else
	(void)on;
#endif
	return hmac_sha256_extensions();
}

/* Hashes the last partial block of a message of `total` bytes (counting
 * any prefix blocks) into h: the 0x80 byte, zeros, the bit length. */
static void finish(uint32_t h[8], const uint8_t *tail, size_t tail_len, uint64_t total)
{
	uint8_t last[128] = {0};
	size_t n = tail_len + 9 <= 64 ? 64 : 128;
	uint64_t bits = total * 8;

	memcpy(last, tail, tail_len);
	last[tail_len] = 0x80;
	for (int i = 0; i < 8; i++)
		last[n - 1 - i] = (uint8_t)(bits >> (8 * i));
	blocks()(h, last, n / 64);
}

static void state_out(const uint32_t h[8], uint8_t out[HMAC_SHA256_SIZE])
{
	for (int i = 0; i < 8; i++)
		put32(out + 4 * i, h[i]);
}

void hmac_sha256_digest(const uint8_t *data, size_t len, uint8_t out[HMAC_SHA256_SIZE])
{
	uint32_t h[8];
	size_t full = len / 64;

	memcpy(h, IV, sizeof(h));
	if (full > 0)
		blocks()(h, data, full);
	finish(h, data + 64 * full, len - 64 * full, len);
	state_out(h, out);
}

void hmac_sha256_key_init(struct hmac_sha256_key *k, const uint8_t *key, size_t key_len)
{
	uint8_t block[64] = {0}, pad[64];

	if (key_len > sizeof(block))
		hmac_sha256_digest(key, key_len, block);
	else
		memcpy(block, key, key_len);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	memcpy(k->inner, IV, sizeof(k->inner));
	blocks()(k->inner, pad, 1);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	memcpy(k->outer, IV, sizeof(k->outer));
	blocks()(k->outer, pad, 1);
	memset(block, 0, sizeof(block));
	memset(pad, 0, sizeof(pad));
}

void hmac_sha256_start(struct hmac_sha256 *c, const struct hmac_sha256_key *k)
{
	memcpy(c->h, k->inner, sizeof(c->h));
	c->buf_len = 0;
	c->total = 0;
}

void hmac_sha256_update(struct hmac_sha256 *c, const uint8_t *data, size_t len)
{
	c->total += len;
	if (c->buf_len > 0) {
		size_t take = 64 - c->buf_len < len ? 64 - c->buf_len : len;

		memcpy(c->buf + c->buf_len, data, take);
		c->buf_len += take;
		data += take;
		len -= take;
		if (c->buf_len < 64)
			return;
		blocks()(c->h, c->buf, 1);
		c->buf_len = 0;
	}
	if (len >= 64) {
		blocks()(c->h, data, len / 64);
		data += len / 64 * 64;
		len %= 64;
	}
	memcpy(c->buf, data, len);
	c->buf_len = len;
}

void hmac_sha256_final(struct hmac_sha256 *c, const struct hmac_sha256_key *k,
		       uint8_t mac[HMAC_SHA256_SIZE])
{
	uint8_t inner[HMAC_SHA256_SIZE];

	/* The inner hash covered the 64-byte key block before the message. */
	finish(c->h, c->buf, c->buf_len, 64 + c->total);
	state_out(c->h, inner);
	memcpy(c->h, k->outer, sizeof(c->h));
	finish(c->h, inner, sizeof(inner), 64 + sizeof(inner));
	state_out(c->h, mac);
	memset(c, 0, sizeof(*c));
	memset(inner, 0, sizeof(inner));
}
