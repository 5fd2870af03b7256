/*
 * fuzz_stunsrv.c - libFuzzer target: the coordinator's STUN Binding server
 * (p2p/stunsrv.c).
 *
 * The first byte picks the server's configuration and which of its local
 * endpoints the datagram arrived on; the rest is the datagram. Whatever
 * arrives, the server must not crash, and an answer it gives must itself be
 * a well-formed STUN message that fits a datagram and leaves from one of the
 * server's own endpoints.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "p2p/stun.h"
#include "p2p/stunsrv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_local(const struct stunsrv_config *cfg, const struct p2p_endpoint *ep)
{
	uint32_t ips[2] = {cfg->primary.ip, cfg->alternate.ip};
	uint16_t ports[2] = {cfg->primary.port, cfg->alternate.port};
	int n = cfg->has_alternate ? 2 : 1;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (ep->ip == ips[i] && ep->port == ports[j])
				return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2p_datagram out; /* large: not on the stack */
	struct stunsrv_config cfg = {
	    .primary = {.ip = 0xC000020Au, .port = 3478}, /* 192.0.2.10:3478 */
	    .alternate = {.ip = 0xC000020Bu, .port = 3479},
	};
	struct p2p_endpoint from = {.ip = 0xCB007107u, .port = 61000}; /* 203.0.113.7 */
	struct p2p_endpoint local;
	struct stun_msg m;

	if (size < 1)
		return 0;
	uint8_t knobs = data[0];
	cfg.has_alternate = knobs & 1;
	cfg.rfc3489_attrs = knobs & 2;
	cfg.software = knobs & 4 ? "natsim fuzz" : NULL;
	local = cfg.has_alternate && (knobs & 8) ? cfg.alternate : cfg.primary;
	if (knobs & 16)
		local.port = cfg.has_alternate ? cfg.alternate.port : local.port;
	if (stunsrv_answer(&cfg, &local, &from, data + 1, size - 1, &out) != STUNSRV_ANSWERED)
		return 0;
	if (out.len == 0 || out.len > sizeof(out.buf) || !is_local(&cfg, &out.from))
		abort();
	if (stun_decode(out.buf, out.len, true, &m) != STUN_OK)
		abort(); /* the server's own answer must decode */
	return 0;
}
