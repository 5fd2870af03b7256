/*
 * stun.c - STUN message codec (RFC 8489, RFC 5780 attributes, RFC 3489 classic).
 *
 * Pure functions on caller-owned buffers. The decoder checks every length
 * against the end of the message before reading; the writer never writes past
 * its capacity and remembers the first error.
 */
#include "stun.h"

#include "bytes.h"

#include <libdeflate.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STUN_ATTR_HEADER_SIZE 4
#define STUN_SHA256_SIZE 32
/* RFC 8489 14.8: the reason phrase is at most 763 bytes. */
#define STUN_MAX_REASON 763

/* RFC 8489 14: attribute values are padded to a multiple of 4 bytes. */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

const char *stun_error_str(int err)
{
	switch (err) {
	case STUN_OK:
		return "no error";
	case STUN_ERR_TRUNCATED:
		return "message shorter than its header or its length field says";
	case STUN_ERR_NOT_STUN:
		return "not a STUN message (first two bits are not zero)";
	case STUN_ERR_BAD_LENGTH:
		return "length not a multiple of 4, or an attribute overruns the message";
	case STUN_ERR_BAD_COOKIE:
		return "no magic cookie (an RFC 3489 message) and classic decoding not allowed";
	case STUN_ERR_TOO_MANY_ATTRS:
		return "too many attributes";
	case STUN_ERR_BAD_FINGERPRINT:
		return "FINGERPRINT is wrong or not the last attribute";
	case STUN_ERR_BAD_ATTRIBUTE:
		return "an attribute's value is malformed for its type";
	case STUN_ERR_NO_SPACE:
		return "output buffer too small";
	case STUN_ERR_NOT_FOUND:
		return "attribute absent";
	case STUN_ERR_INTEGRITY:
		return "MESSAGE-INTEGRITY-SHA256 does not verify";
	default:
		return "unknown error";
	}
}

/* ---- message type: RFC 8489 5, the method bits interleaved with the class bits ---- */

static uint16_t encode_type(uint16_t method, enum stun_class cls)
{
	unsigned m = method & 0xFFFu, c = (unsigned)cls & 3u;

	return (uint16_t)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
			  ((c & 1u) << 4) | ((c & 2u) << 7));
}

static void decode_type(uint16_t t, uint16_t *method, enum stun_class *cls)
{
	*method = (uint16_t)((t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80));
	*cls = (enum stun_class)(((t >> 4) & 1u) | ((t >> 7) & 2u));
}

/* ---- decoding ---- */

bool stun_is_message(const uint8_t *buf, size_t len)
{
	/* RFC 8489 7: first two bits zero, cookie present, length consistent. */
	if (buf == NULL || len < STUN_HEADER_SIZE || (buf[0] & 0xC0) != 0)
		return false;
	size_t mlen = get16(buf + 2);
	return mlen % 4 == 0 && STUN_HEADER_SIZE + mlen == len &&
	       get32(buf + 4) == STUN_MAGIC_COOKIE;
}

/* RFC 8489 14.7: CRC-32 (ISO-HDLC, as in Ethernet and zlib) of the message up
 * to the FINGERPRINT attribute, XOR 0x5354554E. libdeflate folds with
 * PCLMULQDQ where the CPU has it, chosen at run time. */
static uint32_t fingerprint_of(const uint8_t *buf, size_t upto)
{
	return libdeflate_crc32(0, buf, upto) ^ STUN_FINGERPRINT_XOR;
}

/* Which attributes are still recorded after MESSAGE-INTEGRITY(-SHA256). */
enum after_integrity { AFTER_NONE, AFTER_MI, AFTER_MI_SHA256 };

static bool recorded(enum after_integrity state, uint16_t type)
{
	/* RFC 8489 14.5 and 14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
	 * FINGERPRINT count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT does. */
	switch (state) {
	case AFTER_MI:
		return type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 || type == STUN_ATTR_FINGERPRINT;
	case AFTER_MI_SHA256:
		return type == STUN_ATTR_FINGERPRINT;
	default:
		return true;
	}
}

static int check_fingerprint(const uint8_t *buf, size_t off, uint16_t alen)
{
	if (alen != 4)
		return STUN_ERR_BAD_ATTRIBUTE;
	if (get32(buf + off + STUN_ATTR_HEADER_SIZE) != fingerprint_of(buf, off))
		return STUN_ERR_BAD_FINGERPRINT;
	return STUN_OK;
}

static int decode_attrs(const uint8_t *buf, size_t end, struct stun_msg *out)
{
	enum after_integrity state = AFTER_NONE;
	size_t off = STUN_HEADER_SIZE;

	while (off < end) {
		if (end - off < STUN_ATTR_HEADER_SIZE)
			return STUN_ERR_BAD_LENGTH;
		uint16_t type = get16(buf + off), alen = get16(buf + off + 2);
		if (pad4(alen) > end - off - STUN_ATTR_HEADER_SIZE)
			return STUN_ERR_BAD_LENGTH;
		/* RFC 8489 14.7: FINGERPRINT, when present, is the last attribute. */
		if (out->has_fingerprint)
			return STUN_ERR_BAD_FINGERPRINT;
		if (type == STUN_ATTR_FINGERPRINT) {
			int err = check_fingerprint(buf, off, alen);
			if (err != STUN_OK)
				return err;
			out->has_fingerprint = true;
		}
		if (recorded(state, type)) {
			if (out->n_attrs == STUN_MAX_ATTRS)
				return STUN_ERR_TOO_MANY_ATTRS;
			out->attrs[out->n_attrs++] = (struct stun_attr){
			    .type = type,
			    .len = alen,
			    .value = buf + off + STUN_ATTR_HEADER_SIZE,
			    .offset = off,
			};
		}
		if (type == STUN_ATTR_MESSAGE_INTEGRITY && state == AFTER_NONE)
			state = AFTER_MI;
		else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			state = AFTER_MI_SHA256;
		off += STUN_ATTR_HEADER_SIZE + pad4(alen);
	}
	return STUN_OK;
}

int stun_decode(const uint8_t *buf, size_t len, bool allow_classic, struct stun_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < STUN_HEADER_SIZE)
		return STUN_ERR_TRUNCATED;
	/* RFC 8489 6: the two most significant bits of every STUN message are zero. */
	if ((buf[0] & 0xC0) != 0)
		return STUN_ERR_NOT_STUN;
	size_t mlen = get16(buf + 2);
	if (mlen % 4 != 0)
		return STUN_ERR_BAD_LENGTH;
	if (STUN_HEADER_SIZE + mlen > len)
		return STUN_ERR_TRUNCATED;
	/* Over UDP the datagram is the message: trailing bytes mean a corrupt length. */
	if (STUN_HEADER_SIZE + mlen < len)
		return STUN_ERR_BAD_LENGTH;
	out->classic = get32(buf + 4) != STUN_MAGIC_COOKIE;
	if (out->classic && !allow_classic)
		return STUN_ERR_BAD_COOKIE;
	decode_type(get16(buf), &out->method, &out->cls);
	/* RFC 3489 11.1: a classic transaction id is 16 bytes, where the cookie is now. */
	if (out->classic)
		memcpy(out->classic_txid_head, buf + 4, 4);
	memcpy(out->txid, buf + 8, STUN_TXID_SIZE);
	return decode_attrs(buf, STUN_HEADER_SIZE + mlen, out);
}

/* ---- writer ---- */

static void writer_start(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
			 enum stun_class cls)
{
	*w = (struct stun_writer){.buf = buf, .cap = cap};
	if (buf == NULL || cap < STUN_HEADER_SIZE) {
		w->err = STUN_ERR_NO_SPACE;
		return;
	}
	put16(buf, encode_type(method, cls));
	put16(buf + 2, 0);
	w->len = STUN_HEADER_SIZE;
}

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
		      enum stun_class cls, const uint8_t txid[STUN_TXID_SIZE])
{
	writer_start(w, buf, cap, method, cls);
	if (w->err != STUN_OK)
		return;
	put32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, STUN_TXID_SIZE);
}

void stun_writer_init_classic(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
			      enum stun_class cls, const uint8_t txid16[16])
{
	writer_start(w, buf, cap, method, cls);
	w->classic = true;
	if (w->err != STUN_OK)
		return;
	memcpy(buf + 4, txid16, 16);
}

/* Appends an attribute header and room for `vlen` value bytes (padding zeroed);
 * returns where the value goes, or NULL (error recorded). */
static uint8_t *reserve(struct stun_writer *w, uint16_t type, size_t vlen)
{
	if (w->err != STUN_OK)
		return NULL;
	size_t total = STUN_ATTR_HEADER_SIZE + pad4(vlen);
	if (vlen > 0xFFFF || total > w->cap - w->len ||
	    w->len + total - STUN_HEADER_SIZE > 0xFFFF) {
		w->err = STUN_ERR_NO_SPACE;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	put16(p, type);
	put16(p + 2, (uint16_t)vlen);
	memset(p + STUN_ATTR_HEADER_SIZE + vlen, 0, pad4(vlen) - vlen);
	w->len += total;
	put16(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_SIZE));
	return p + STUN_ATTR_HEADER_SIZE;
}

void stun_put_raw(struct stun_writer *w, uint16_t type, const void *value, uint16_t len)
{
	uint8_t *p = reserve(w, type, len);
	if (p != NULL && len > 0)
		memcpy(p, value, len);
}

void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v)
{
	uint8_t *p = reserve(w, type, 4);
	if (p != NULL)
		put32(p, v);
}

void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v)
{
	uint8_t *p = reserve(w, type, 8);
	if (p != NULL) {
		put32(p, (uint32_t)(v >> 32));
		put32(p + 4, (uint32_t)v);
	}
}

/* RFC 8489 14.2: the 16 bytes an IPv6 X-Address is XORed with, the magic
 * cookie then the transaction ID. */
static void xor_key6(const uint8_t txid[STUN_TXID_SIZE], uint8_t key[16])
{
	put32(key, STUN_MAGIC_COOKIE);
	memcpy(key + 4, txid, STUN_TXID_SIZE);
}

/* RFC 8489 14.1: 0, family 0x01 (IPv4, 4 address bytes) or 0x02 (IPv6, 16),
 * port, address; 14.2: the XOR form XORs the port with the cookie's top
 * half and the address with the cookie, then (IPv6) the transaction ID. */
size_t stun_address_encode(const struct p2p_endpoint *ep, const uint8_t *txid, uint8_t out[20])
{
	bool v6 = p2p_endpoint_is6(ep);
	uint8_t key[16];

	out[0] = 0;
	out[1] = v6 ? 0x02 : 0x01;
	put16(out + 2, ep->port);
	if (v6)
		memcpy(out + 4, ep->ip6, 16);
	else
		put32(out + 4, ep->ip);
	if (txid != NULL) {
		xor_key6(txid, key);
		for (int i = 0; i < (v6 ? 18 : 6); i++)
			out[2 + i] ^= key[i < 2 ? i : i - 2]; /* X-Port: the cookie's top 16 bits */
	}
	return v6 ? 20 : 8;
}

int stun_address_decode(const uint8_t *v, size_t len, const uint8_t *txid, struct p2p_endpoint *out)
{
	uint8_t x[20], key[16];
	bool v6 = len == 20 && v[1] == 0x02;

	if (!v6 && (len != 8 || v[1] != 0x01))
		return STUN_ERR_BAD_ATTRIBUTE;
	memcpy(x, v, len);
	if (txid != NULL) {
		xor_key6(txid, key);
		for (size_t i = 0; i < len - 2; i++)
			x[2 + i] ^= key[i < 2 ? i : i - 2];
	}
	*out = v6 ? p2p_endpoint6(x + 4, get16(x + 2)) : p2p_endpoint4(get32(x + 4), get16(x + 2));
	return STUN_OK;
}

static void put_addr(struct stun_writer *w, uint16_t type, const struct p2p_endpoint *ep,
		     const uint8_t *txid)
{
	uint8_t v[20];
	size_t n = stun_address_encode(ep, txid, v);
	uint8_t *p = reserve(w, type, (uint16_t)n);

	if (p != NULL)
		memcpy(p, v, n);
}

void stun_put_address(struct stun_writer *w, uint16_t type, const struct p2p_endpoint *ep)
{
	put_addr(w, type, ep, NULL);
}

void stun_put_xor_address(struct stun_writer *w, uint16_t type, const struct p2p_endpoint *ep)
{
	/* A classic (RFC 3489) header has no cookie to XOR an IPv6 address
	 * with the transaction ID after. */
	if (w->classic && p2p_endpoint_is6(ep)) {
		if (w->err == STUN_OK)
			w->err = STUN_ERR_BAD_ATTRIBUTE;
		return;
	}
	/* The header is written first (stun_writer_init): its bytes 8..19 are
	 * the transaction ID, whatever the writer has added since. */
	put_addr(w, type, ep, w->buf + 8);
}

void stun_put_error(struct stun_writer *w, int code, const char *reason)
{
	size_t rlen = reason != NULL ? strlen(reason) : 0;

	/* RFC 8489 14.8: class 3..6 in 3 bits, number 0..99, reason up to 763 bytes. */
	if (w->err == STUN_OK && (code < 300 || code > 699 || rlen > STUN_MAX_REASON)) {
		w->err = STUN_ERR_BAD_ATTRIBUTE;
		return;
	}
	uint8_t *p = reserve(w, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (p == NULL)
		return;
	p[0] = 0;
	p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	if (rlen > 0)
		memcpy(p + 4, reason, rlen);
}

void stun_put_unknown(struct stun_writer *w, const uint16_t *types, size_t n)
{
	/* RFC 8489 14.9: a list of 16-bit types, padded with zeros like any value. */
	if (w->err == STUN_OK && n > 0xFFFF / 2) {
		w->err = STUN_ERR_NO_SPACE;
		return;
	}
	uint8_t *p = reserve(w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
	for (size_t i = 0; p != NULL && i < n; i++)
		put16(p + 2 * i, types[i]);
}

void stun_put_string(struct stun_writer *w, uint16_t type, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (w->err == STUN_OK && n > 0xFFFF) {
		w->err = STUN_ERR_NO_SPACE;
		return;
	}
	stun_put_raw(w, type, s, (uint16_t)n);
}

/* HMAC-SHA256 of the first `upto` bytes with the header length replaced by
 * `hdr_len` (RFC 8489 14.6: the length covers up to the end of this attribute). */
void stun_integrity_key_init(struct stun_integrity_key *k, const uint8_t *key, size_t key_len)
{
	hmac_sha256_key_init(&k->hmac, key, key_len);
}

static void hmac_sha256(const uint8_t *buf, size_t upto, uint16_t hdr_len,
			const struct stun_integrity_key *k, uint8_t mac[STUN_SHA256_SIZE])
{
	struct hmac_sha256 c;
	uint8_t hdr[STUN_HEADER_SIZE];

	memcpy(hdr, buf, STUN_HEADER_SIZE);
	put16(hdr + 2, hdr_len);
	hmac_sha256_start(&c, &k->hmac);
	hmac_sha256_update(&c, hdr, STUN_HEADER_SIZE);
	hmac_sha256_update(&c, buf + STUN_HEADER_SIZE, upto - STUN_HEADER_SIZE);
	hmac_sha256_final(&c, &k->hmac, mac);
}

void stun_put_integrity_sha256_key(struct stun_writer *w, const struct stun_integrity_key *k)
{
	size_t upto = w->len;
	uint8_t *p = reserve(w, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, STUN_SHA256_SIZE);
	if (p == NULL)
		return;
	hmac_sha256(w->buf, upto, (uint16_t)(w->len - STUN_HEADER_SIZE), k, p);
}

void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key, size_t key_len)
{
	struct stun_integrity_key k;

	stun_integrity_key_init(&k, key, key_len);
	stun_put_integrity_sha256_key(w, &k);
	sodium_memzero(&k, sizeof(k));
}

void stun_put_fingerprint(struct stun_writer *w)
{
	size_t upto = w->len;
	uint8_t *p = reserve(w, STUN_ATTR_FINGERPRINT, 4);
	/* RFC 8489 14.7: the header length already counts the FINGERPRINT itself. */
	if (p != NULL)
		put32(p, fingerprint_of(w->buf, upto));
}

int stun_writer_finish(struct stun_writer *w)
{
	if (w->err != STUN_OK)
		return w->err;
	return (int)w->len;
}

/* ---- getters ---- */

const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_attrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

static int get_addr(const struct stun_msg *m, uint16_t type, bool xored, struct p2p_endpoint *out)
{
	const struct stun_attr *a = stun_find(m, type);

	if (a == NULL)
		return STUN_ERR_NOT_FOUND;
	/* A classic (RFC 3489) message had no XOR key for IPv6. */
	if (xored && m->classic && a->len == 20)
		return STUN_ERR_BAD_ATTRIBUTE;
	return stun_address_decode(a->value, a->len, xored ? m->txid : NULL, out);
}

int stun_get_address(const struct stun_msg *m, uint16_t type, struct p2p_endpoint *out)
{
	return get_addr(m, type, false, out);
}

int stun_get_xor_address(const struct stun_msg *m, uint16_t type, struct p2p_endpoint *out)
{
	return get_addr(m, type, true, out);
}

static const struct stun_attr *find_sized(const struct stun_msg *m, uint16_t type, uint16_t len,
					  int *err)
{
	const struct stun_attr *a = stun_find(m, type);

	*err = a == NULL ? STUN_ERR_NOT_FOUND : a->len != len ? STUN_ERR_BAD_ATTRIBUTE : STUN_OK;
	return *err == STUN_OK ? a : NULL;
}

int stun_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out)
{
	int err;
	const struct stun_attr *a = find_sized(m, type, 4, &err);

	if (a != NULL)
		*out = get32(a->value);
	return err;
}

int stun_get_u64(const struct stun_msg *m, uint16_t type, uint64_t *out)
{
	int err;
	const struct stun_attr *a = find_sized(m, type, 8, &err);

	if (a != NULL)
		*out = ((uint64_t)get32(a->value) << 32) | get32(a->value + 4);
	return err;
}

int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *reason_len)
{
	const struct stun_attr *a = stun_find(m, STUN_ATTR_ERROR_CODE);

	if (a == NULL)
		return STUN_ERR_NOT_FOUND;
	/* RFC 8489 14.8: class 3..6, number 0..99. */
	if (a->len < 4 || (a->value[2] & 7) < 3 || (a->value[2] & 7) > 6 || a->value[3] > 99)
		return STUN_ERR_BAD_ATTRIBUTE;
	if (code != NULL)
		*code = (a->value[2] & 7) * 100 + a->value[3];
	if (reason != NULL)
		*reason = (const char *)(a->value + 4);
	if (reason_len != NULL)
		*reason_len = a->len - 4u;
	return STUN_OK;
}

int stun_get_string(const struct stun_msg *m, uint16_t type, char *out, size_t size)
{
	const struct stun_attr *a = stun_find(m, type);

	if (a == NULL)
		return STUN_ERR_NOT_FOUND;
	if (size == 0)
		return STUN_ERR_NO_SPACE;
	size_t n = a->len < size - 1 ? a->len : size - 1;
	memcpy(out, a->value, n);
	out[n] = '\0';
	return STUN_OK;
}

int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *buf, size_t len,
				const uint8_t *key, size_t key_len)
{
	struct stun_integrity_key k;

	stun_integrity_key_init(&k, key, key_len);
	int rc = stun_check_integrity_sha256_key(m, buf, len, &k);
	sodium_memzero(&k, sizeof(k));
	return rc;
}

int stun_check_integrity_sha256_key(const struct stun_msg *m, const uint8_t *buf, size_t len,
				    const struct stun_integrity_key *k)
{
	const struct stun_attr *a = stun_find(m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
	uint8_t mac[STUN_SHA256_SIZE];

	if (a == NULL)
		return STUN_ERR_NOT_FOUND;
	/* RFC 8489 14.6: 16 to 32 bytes, a multiple of 4 (a truncated HMAC). */
	if (a->len < 16 || a->len > STUN_SHA256_SIZE || a->len % 4 != 0 ||
	    a->offset + STUN_ATTR_HEADER_SIZE + a->len > len)
		return STUN_ERR_BAD_ATTRIBUTE;
	size_t end = a->offset + STUN_ATTR_HEADER_SIZE + a->len;
	hmac_sha256(buf, a->offset, (uint16_t)(end - STUN_HEADER_SIZE), k, mac);
	return sodium_memcmp(mac, a->value, a->len) == 0 ? STUN_OK : STUN_ERR_INTEGRITY;
}

/* ---- names and summary ---- */

const char *stun_method_name(uint16_t method)
{
	switch (method) {
	case STUN_METHOD_BINDING:
		return "Binding";
	case STUN_METHOD_REGISTER:
		return "Register";
	case STUN_METHOD_CONNECT:
		return "Connect";
	case STUN_METHOD_INTRODUCE:
		return "Introduce";
	case STUN_METHOD_RELAY:
		return "Relay";
	case STUN_METHOD_DATA:
		return "Data";
	default:
		return "Unknown";
	}
}

const char *stun_class_name(enum stun_class cls)
{
	static const char *const names[] = {"Request", "Indication", "Success", "Error"};

	return (unsigned)cls < 4 ? names[cls] : "Unknown";
}

static const struct {
	uint16_t type;
	const char *name;
} attr_names[] = {
    {STUN_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS"},
    {STUN_ATTR_RESPONSE_ADDRESS, "RESPONSE-ADDRESS"},
    {STUN_ATTR_CHANGE_REQUEST, "CHANGE-REQUEST"},
    {STUN_ATTR_SOURCE_ADDRESS, "SOURCE-ADDRESS"},
    {STUN_ATTR_CHANGED_ADDRESS, "CHANGED-ADDRESS"},
    {STUN_ATTR_USERNAME, "USERNAME"},
    {STUN_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY"},
    {STUN_ATTR_ERROR_CODE, "ERROR-CODE"},
    {STUN_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES"},
    {STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "MESSAGE-INTEGRITY-SHA256"},
    {STUN_ATTR_XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS"},
    {STUN_ATTR_PRIORITY, "PRIORITY"},
    {STUN_ATTR_USE_CANDIDATE, "USE-CANDIDATE"},
    {STUN_ATTR_PADDING, "PADDING"},
    {STUN_ATTR_RESPONSE_PORT, "RESPONSE-PORT"},
    {STUN_ATTR_SOFTWARE, "SOFTWARE"},
    {STUN_ATTR_FINGERPRINT, "FINGERPRINT"},
    {STUN_ATTR_ICE_CONTROLLED, "ICE-CONTROLLED"},
    {STUN_ATTR_ICE_CONTROLLING, "ICE-CONTROLLING"},
    {STUN_ATTR_RESPONSE_ORIGIN, "RESPONSE-ORIGIN"},
    {STUN_ATTR_OTHER_ADDRESS, "OTHER-ADDRESS"},
    {STUN_ATTR_NATSIM_NAME, "NATSIM-NAME"},
    {STUN_ATTR_NATSIM_SIGN_KEY, "NATSIM-SIGN-KEY"},
    {STUN_ATTR_NATSIM_BOX_KEY, "NATSIM-BOX-KEY"},
    {STUN_ATTR_NATSIM_CANDIDATE, "NATSIM-CANDIDATE"},
    {STUN_ATTR_NATSIM_TIMESTAMP, "NATSIM-TIMESTAMP"},
    {STUN_ATTR_NATSIM_SIGNATURE, "NATSIM-SIGNATURE"},
    {STUN_ATTR_NATSIM_PAYLOAD, "NATSIM-PAYLOAD"},
    {STUN_ATTR_NATSIM_PEER, "NATSIM-PEER"},
    {STUN_ATTR_NATSIM_SESSION, "NATSIM-SESSION"},
};

const char *stun_attr_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (attr_names[i].type == type)
			return attr_names[i].name;
	return "UNKNOWN";
}

/* Appends to a fixed buffer, tracking the length that fits. */
struct text {
	char *buf;
	size_t size;
	size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->len + 1 >= t->size)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n < t->size - t->len ? (size_t)n : t->size - t->len - 1;
}

static void summary_address(struct text *t, const struct stun_msg *m, uint16_t type, bool xored,
			    const char *label)
{
	struct p2p_endpoint ep;
	char s[P2P_ENDPOINT_STRLEN];

	if (get_addr(m, type, xored, &ep) == STUN_OK)
		text_add(t, " %s=%s", label, p2p_endpoint_format(&ep, s, sizeof(s)));
}

static void summary_attrs(struct text *t, const struct stun_msg *m)
{
	static const char *const change[] = {"none", "port", "ip", "ip+port"};
	uint32_t v;
	int code;
	const char *reason;
	size_t rlen;

	if (stun_get_u32(m, STUN_ATTR_CHANGE_REQUEST, &v) == STUN_OK)
		text_add(t, " change=%s", change[(v >> 1) & 3u]);
	if (stun_get_u32(m, STUN_ATTR_RESPONSE_PORT, &v) == STUN_OK)
		text_add(t, " response-port=%u", (unsigned)(v >> 16));
	summary_address(t, m, STUN_ATTR_XOR_MAPPED_ADDRESS, true, "xor-mapped");
	summary_address(t, m, STUN_ATTR_MAPPED_ADDRESS, false, "mapped");
	summary_address(t, m, STUN_ATTR_RESPONSE_ORIGIN, false, "origin");
	summary_address(t, m, STUN_ATTR_OTHER_ADDRESS, false, "other");
	summary_address(t, m, STUN_ATTR_CHANGED_ADDRESS, false, "changed");
	if (stun_get_error(m, &code, &reason, &rlen) == STUN_OK)
		text_add(t, " error=%d %.*s", code, (int)(rlen > 64 ? 64 : rlen), reason);
}

int stun_summary(const uint8_t *buf, size_t len, char *out, size_t size)
{
	struct stun_msg m;
	struct text t = {.buf = out, .size = size};

	if (out == NULL || size == 0)
		return STUN_ERR_NO_SPACE;
	out[0] = '\0';
	int err = stun_decode(buf, len, true, &m);
	if (err != STUN_OK)
		return err;
	if (strcmp(stun_method_name(m.method), "Unknown") == 0)
		text_add(&t, "STUN method 0x%03x", (unsigned)m.method);
	else
		text_add(&t, "STUN %s", stun_method_name(m.method));
	text_add(&t, " %s%s tx=%02x%02x%02x%02x", stun_class_name(m.cls),
		 m.classic ? " (RFC 3489)" : "", m.txid[0], m.txid[1], m.txid[2], m.txid[3]);
	summary_attrs(&t, &m);
	return (int)t.len;
}
