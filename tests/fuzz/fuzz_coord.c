/*
 * fuzz_coord.c - libFuzzer target: the coordinator (p2p/coord.c), the part
 * of natsim that faces the internet as `natsim coord`.
 *
 * The input is a conversation: records of [1 byte: which of 8 senders, and
 * whether it arrives on the alternate address][2 bytes: length][datagram],
 * each 100 ms after the last. With bit 0x10 of the first byte the bytes
 * arrive instead on that sender's TCP connection (opened when it has none:
 * coord.h "TCP"), split however the records split them; with 0x20 that
 * connection then closes. The coordinator takes each in, its timers run,
 * and everything it wants to send and report is drained. Signatures are
 * taken as valid (the verify hook), so the fuzzer gets past REGISTER to
 * CONNECT, RELAY and expiry instead of failing on Ed25519; nothing else is
 * relaxed. Whatever arrives: no crash, and every datagram it sends fits a
 * datagram and leaves from one of its own addresses, and every TCP action
 * names a connection it was given and carries a frame that fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/coord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct p2p_endpoint primary = {.ip = 0xC000020Au, .port = 3478},
				 alternate = {.ip = 0xC000020Bu, .port = 3479};

static void counter_fill(void *ctx, uint8_t *out, size_t len)
{
	uint8_t *next = ctx;

	for (size_t i = 0; i < len; i++)
		out[i] = (*next)++;
}

static bool any_signature(void *ctx, const uint8_t pk[CRYPTO_SIGN_PK_SIZE], const uint8_t *msg,
			  size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	(void)ctx, (void)pk, (void)msg, (void)len, (void)sig;
	return true;
}

static uint32_t conns[8], max_conn;

static void drain(struct coord *c)
{
	static struct p2p_datagram d;
	static struct coord_event ev;
	static struct p2p_tcp_action x;

	while (coord_pop_tcp(c, &x)) {
		bool sane = x.conn >= 1 && x.conn <= max_conn &&
			    (x.type == P2P_TCP_CLOSE ||
			     (x.type == P2P_TCP_SEND && x.len > 0 && x.len <= sizeof(x.buf)));
		if (!sane)
			abort();
	}
	while (coord_pop_datagram(c, &d)) {
		bool ours = (d.from.ip == primary.ip || d.from.ip == alternate.ip) &&
			    (d.from.port == primary.port || d.from.port == alternate.port);
		if (d.len == 0 || d.len > sizeof(d.buf) || !ours)
			abort();
	}
	while (coord_pop_event(c, &ev))
		(void)coord_event_name(ev.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t next = 0;
	struct coord_config cfg = {
	    .primary = primary,
	    .has_alternate = true,
	    .alternate = alternate,
	    .max_peers = 4,
	    .peer_timeout_ns = 2000000000u, /* 2 s: expiry is reached */
	    .random = {counter_fill, &next},
	    .verify = any_signature,
	};
	struct coord *c = coord_new(&cfg);
	uint64_t now = 1000000000u;

	if (!c)
		return 0;
	memset(conns, 0, sizeof(conns));
	max_conn = 0;
	while (size >= 3) {
		uint8_t who = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3, size -= 3;
		if (len > size)
			len = size;
		struct p2p_endpoint from = {.ip = 0xCB007100u + (who & 7),
					    .port = (uint16_t)(5000 + (who & 7))};
		const struct p2p_endpoint *local = who & 8 ? &alternate : &primary;
		if (who & 0x10) {
			if (conns[who & 7] == 0) {
				conns[who & 7] = coord_tcp_accepted(c, now, local, &from);
				max_conn = conns[who & 7] > max_conn ? conns[who & 7] : max_conn;
			}
			if (coord_tcp_input(c, now, conns[who & 7], data, len) ==
			    COORD_ERR_MALFORMED)
				conns[who & 7] = 0; /* it closes the connection */
			if (who & 0x20 && conns[who & 7] != 0) {
				coord_tcp_closed(c, now, conns[who & 7], P2P_TCP_RESET);
				conns[who & 7] = 0;
			}
		} else {
			(void)coord_input(c, now, local, &from, data, len);
		}
		drain(c);
		data += len, size -= len;
		now += 100000000u;
		if (coord_next_deadline(c) <= now) {
			coord_tick(c, now);
			drain(c);
		}
	}
	coord_tick(c, now + 10000000000u);
	drain(c);
	coord_free(c);
	return 0;
}
