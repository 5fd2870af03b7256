/*
 * fuzz_stun.c - libFuzzer target: the STUN decoder (p2p/stun.c).
 *
 * Any bytes are a datagram off the wire. Decoding, with and without RFC 3489
 * (classic) messages allowed, must never read outside the buffer; a decoded
 * message then goes through every getter, the integrity check and the
 * one-line summary, which read the attributes the decoder pointed at.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "p2p/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every getter on every attribute type the message carries. */
static void read_all(const struct stun_msg *m, const uint8_t *data, size_t size)
{
	struct p2p_endpoint ep;
	uint32_t u32;
	uint64_t u64;
	int code;
	const char *reason;
	size_t reason_len;
	char str[64];
	static const uint8_t key[] = "natsim fuzz key";

	for (size_t i = 0; i < m->n_attrs; i++) {
		uint16_t t = m->attrs[i].type;
		(void)stun_find(m, t);
		(void)stun_get_address(m, t, &ep);
		(void)stun_get_xor_address(m, t, &ep);
		(void)stun_get_u32(m, t, &u32);
		(void)stun_get_u64(m, t, &u64);
		(void)stun_get_string(m, t, str, sizeof(str));
		(void)stun_get_string(m, t, str, 1);
		(void)stun_attr_name(t);
	}
	if (stun_get_error(m, &code, &reason, &reason_len) == STUN_OK && reason_len > 0 &&
	    (reason < (const char *)data || reason + reason_len > (const char *)data + size))
		abort(); /* the reason must lie inside the message */
	(void)stun_check_integrity_sha256(m, data, size, key, sizeof(key) - 1);
	(void)stun_method_name(m->method);
	(void)stun_class_name(m->cls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	char summary[512];
	int rc;

	(void)stun_is_message(data, size);
	for (int classic = 0; classic < 2; classic++) {
		rc = stun_decode(data, size, classic, &m);
		(void)stun_error_str(rc);
		if (rc != STUN_OK)
			continue;
		if (m.n_attrs > STUN_MAX_ATTRS)
			abort();
		read_all(&m, data, size);
	}
	(void)stun_summary(data, size, summary, sizeof(summary));
	(void)stun_summary(data, size, summary, 8);
	return 0;
}
