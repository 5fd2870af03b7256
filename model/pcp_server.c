/*
 * pcp_server.c - a NAT's PCP (RFC 6887) and NAT-PMP (RFC 6886) server.
 *
 * Read in this order: pcp_server_answer() picks the protocol by the
 * version byte (RFC 6887 section 9); pcp_serve() follows RFC 6887 8.3
 * (general checks) and 11.3 (MAP); natpmp_serve() follows RFC 6886 3.2-3.5.
 * Both end in nat_map_explicit(), which owns the table. The wire layouts
 * are written out in p2p/pcp.c (the client side, which shares nothing with
 * this file: model/ and p2p/ stand apart).
 *
 * Written after reading how miniupnpd answers (pcpserver.c
 * ProcessPCPRequest, createPCPResponse; natpmp.c
 * ProcessIncomingNATPMPPacket), in natsim's own shape.
 */
#include "model/pcp_server.h"

#include <string.h>

#include "base/bytes.h"

#define PCP_VERSION 2
#define NATPMP_VERSION 0
#define PCP_HEADER 24
#define PCP_MAP_END 60 /* header + MAP (RFC 6887 11.1) */
#define PCP_MAX_LEN 1100
#define PCP_OPCODE_ANNOUNCE 0
#define PCP_OPCODE_MAP 1
#define RESPONSE_BIT 0x80
#define NONCE_LEN 12

bool pcp_server_takes(const struct nat *nat, const struct packet_info *info)
{
	const struct nat_config *cfg = nat_config(nat);
	return (cfg->pcp || cfg->natpmp) && info->proto == IPPROTO_NUM_UDP &&
	       info->dport == PCP_SERVER_PORT;
}

/* A requested lifetime into the server's range; 0 stays 0 (a delete), as
 * miniupnpd's parseCommonRequestHeader clamps it. */
static uint32_t clamp_lifetime(const struct nat_config *cfg, uint32_t asked)
{
	uint32_t hi = cfg->map_max_lifetime != 0 ? cfg->map_max_lifetime : 86400;
	uint32_t lo = cfg->map_min_lifetime < hi ? cfg->map_min_lifetime : hi;

	if (asked == 0)
		return 0;
	return asked < lo ? lo : asked > hi ? hi : asked;
}

static void decide(struct pcp_answer *out, enum pcp_decision d)
{
	out->facts.decision = (uint8_t)d;
	out->facts.result = pcp_decision_result(d, (enum nat_origin)out->facts.protocol);
}

/* ---- PCP (RFC 6887) ----------------------------------------------------- */

/* Section 7.2's header. For an error, the lifetime says how long it holds:
 * miniupnpd (createPCPResponse) gives long-lifetime errors 0 and the short
 * ones (NETWORK_FAILURE, NO_RESOURCES, USER_EX_QUOTA) 30 s. */
static void pcp_header(struct pcp_answer *out, uint8_t opcode, uint32_t lifetime)
{
	uint8_t *b = out->buf;

	memset(b, 0, PCP_HEADER);
	b[0] = PCP_VERSION; /* UNSUPP_VERSION, too: the version we speak (section 9) */
	b[1] = (uint8_t)(opcode | RESPONSE_BIT);
	b[3] = out->facts.result;
	if (out->facts.result == 8)
		lifetime = 30;
	else if (out->facts.result != 0)
		lifetime = 0;
	put32(b + 4, lifetime);
	put32(b + 8, out->facts.epoch);
	out->len = PCP_HEADER;
}

/* The MAP part of a response: the request's, with the assigned external
 * endpoint (section 11.1) when there is one. */
static void pcp_map_part(struct pcp_answer *out, const uint8_t *req, const struct nat_mapping *m)
{
	uint8_t *map = out->buf + PCP_HEADER;

	memcpy(map, req + PCP_HEADER, PCP_MAP_END - PCP_HEADER);
	if (m != NULL) {
		put16(map + 18, m->external.port);
		memset(map + 20, 0, 10);
		map[30] = map[31] = 0xff;
		put32(map + 32, m->external.ip);
	}
	out->len = PCP_MAP_END;
}

static bool ipv4_mapped(const uint8_t *p, uint32_t *ip)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(p, prefix, sizeof(prefix)) != 0)
		return false;
	*ip = get32(p + 12);
	return true;
}

/* Section 7.3: options after the MAP part. natsim supports none, so a
 * mandatory one (codes 0-127) cannot be honoured: UNSUPP_OPTION; optional
 * ones (128-255) are skipped. One that runs past the message is malformed. */
static enum pcp_decision pcp_options(const uint8_t *opt, size_t len)
{
	while (len > 0) {
		if (len < 4)
			return PCP_DECISION_MALFORMED_OPTION;
		size_t body = get16(opt + 2), padded = (body + 3) & ~(size_t)3;
		if (padded > len - 4)
			return PCP_DECISION_MALFORMED_OPTION;
		if (opt[0] < 128)
			return PCP_DECISION_UNSUPP_OPTION;
		opt += 4 + padded;
		len -= 4 + padded;
	}
	return PCP_DECISION_CREATED; /* no objection */
}

/* Section 11.3's checks on a MAP request before the table is asked. */
static enum pcp_decision pcp_map_check(const uint8_t *req, size_t len,
				       const struct endpoint *client, struct pcp_answer *out)
{
	const uint8_t *map = req + PCP_HEADER;
	uint32_t claimed;

	if (len < PCP_MAP_END)
		return PCP_DECISION_MALFORMED;
	out->facts.internal_port = get16(map + 16);
	out->facts.suggested_port = get16(map + 18);
	/* Section 8.3 (miniupnpd cites 8.2): the client's own address must
	 * be the packet's source, or a NAT sits between them. */
	if (!ipv4_mapped(req + 8, &claimed) || claimed != client->ip)
		return PCP_DECISION_ADDRESS_MISMATCH;
	/* Protocol 0 is "all protocols" and needs port 0 (11.1). */
	if (map[12] == 0 && out->facts.internal_port != 0)
		return PCP_DECISION_MALFORMED;
	enum pcp_decision d = pcp_options(req + PCP_MAP_END, len - PCP_MAP_END);
	if (d != PCP_DECISION_CREATED)
		return d;
	if (map[12] != IPPROTO_NUM_UDP && map[12] != IPPROTO_NUM_TCP)
		return PCP_DECISION_UNSUPP_PROTOCOL;
	if (out->facts.internal_port == 0)
		return PCP_DECISION_NOT_AUTHORIZED; /* "all ports": not from natsim */
	return PCP_DECISION_CREATED;
}

static void pcp_map(struct nat *nat, const uint8_t *req, size_t len, const struct endpoint *client,
		    struct pcp_answer *out)
{
	const uint8_t *map = req + PCP_HEADER;
	enum pcp_decision d = pcp_map_check(req, len, client, out);

	if (d != PCP_DECISION_CREATED) {
		decide(out, d);
		nat_map_refused(nat, len >= PCP_MAP_END ? map[12] : 0, &out->facts);
		pcp_header(out, PCP_OPCODE_MAP, 0);
		if (len >= PCP_MAP_END)
			pcp_map_part(out, req, NULL);
		return;
	}
	struct nat_map_request mr = {.origin = NAT_ORIGIN_PCP,
				     .proto = map[12],
				     .internal = {client->ip, out->facts.internal_port},
				     .suggested_port = out->facts.suggested_port,
				     .lifetime = out->facts.lifetime};
	uint32_t ip;
	if (ipv4_mapped(map + 20, &ip))
		mr.suggested_ip = ip;
	memcpy(mr.nonce, map, NONCE_LEN);
	decide(out, nat_map_explicit(nat, &mr, &out->facts, &out->mapping));
	if (out->mapping == NULL)
		out->facts.lifetime = 0;
	pcp_header(out, PCP_OPCODE_MAP, out->facts.lifetime);
	pcp_map_part(out, req, out->mapping);
}

/* Section 8.3, in its order: ignore what cannot be a request, refuse what
 * cannot be read, then the opcode. */
static void pcp_serve(struct nat *nat, const uint8_t *req, size_t len,
		      const struct endpoint *client, struct pcp_answer *out)
{
	uint8_t opcode = req[1] & ~RESPONSE_BIT;

	out->facts.protocol = NAT_ORIGIN_PCP;
	if (req[1] & RESPONSE_BIT) { /* a response: never answered */
		decide(out, PCP_DECISION_IGNORED);
		nat_map_refused(nat, 0, &out->facts);
		return;
	}
	enum pcp_decision d = PCP_DECISION_CREATED;
	if (req[0] != PCP_VERSION)
		d = PCP_DECISION_UNSUPP_VERSION;
	else if (len < PCP_HEADER || len > PCP_MAX_LEN || len % 4 != 0)
		d = PCP_DECISION_MALFORMED;
	else if (opcode != PCP_OPCODE_MAP && opcode != PCP_OPCODE_ANNOUNCE)
		d = PCP_DECISION_UNSUPP_OPCODE; /* PEER and the rest: not served */
	if (d != PCP_DECISION_CREATED) {
		decide(out, d);
		nat_map_refused(nat, 0, &out->facts);
		pcp_header(out, opcode, 0);
		return;
	}
	out->facts.requested_lifetime = get32(req + 4);
	out->facts.lifetime = clamp_lifetime(nat_config(nat), out->facts.requested_lifetime);
	if (opcode == PCP_OPCODE_ANNOUNCE) { /* 14.1: a success telling the epoch */
		decide(out, PCP_DECISION_ADDRESS);
		pcp_header(out, opcode, 0);
		return;
	}
	pcp_map(nat, req, len, client, out);
}

/* ---- NAT-PMP (RFC 6886) ------------------------------------------------- */

/* 3.2-3.5: version 0, opcode + 128, a 16-bit result, the epoch. */
static void natpmp_header(struct pcp_answer *out, uint8_t opcode)
{
	memset(out->buf, 0, 8);
	out->buf[0] = NATPMP_VERSION;
	out->buf[1] = (uint8_t)(opcode | RESPONSE_BIT);
	put16(out->buf + 2, out->facts.result);
	put32(out->buf + 4, out->facts.epoch);
	out->len = 8;
}

static void natpmp_map(struct nat *nat, const uint8_t *req, const struct endpoint *client,
		       struct pcp_answer *out)
{
	struct nat_map_request mr = {.origin = NAT_ORIGIN_NATPMP,
				     .proto = req[1] == 1 ? IPPROTO_NUM_UDP : IPPROTO_NUM_TCP,
				     .internal = {client->ip, get16(req + 4)},
				     .suggested_port = get16(req + 6)};

	out->facts.internal_port = mr.internal.port;
	out->facts.suggested_port = mr.suggested_port;
	out->facts.requested_lifetime = get32(req + 8);
	out->facts.lifetime = clamp_lifetime(nat_config(nat), out->facts.requested_lifetime);
	mr.lifetime = out->facts.lifetime;
	if (mr.internal.port == 0 && mr.lifetime != 0) { /* as miniupnpd: refused */
		decide(out, PCP_DECISION_NOT_AUTHORIZED);
		nat_map_refused(nat, mr.proto, &out->facts);
	} else {
		decide(out, nat_map_explicit(nat, &mr, &out->facts, &out->mapping));
	}
	natpmp_header(out, req[1]);
	/* 3.3: internal port, mapped external port, lifetime granted; a
	 * delete or a refusal maps nothing (3.4: external port 0). */
	put16(out->buf + 8, mr.internal.port);
	put16(out->buf + 10, out->mapping != NULL ? out->mapping->external.port : 0);
	put32(out->buf + 12, out->mapping != NULL ? out->facts.lifetime : 0);
	out->len = 16;
}

static void natpmp_serve(struct nat *nat, const uint8_t *req, size_t len,
			 const struct endpoint *client, struct pcp_answer *out)
{
	out->facts.protocol = NAT_ORIGIN_NATPMP;
	/* A response is never answered (3.5); a map request under 12 bytes
	 * is discarded, as miniupnpd does. */
	if ((req[1] & RESPONSE_BIT) || ((req[1] == 1 || req[1] == 2) && len < 12)) {
		decide(out, PCP_DECISION_IGNORED);
		nat_map_refused(nat, 0, &out->facts);
		return;
	}
	if (req[0] != NATPMP_VERSION) { /* erratum 3618: opcode 128 */
		decide(out, PCP_DECISION_UNSUPP_VERSION);
		nat_map_refused(nat, 0, &out->facts);
		natpmp_header(out, 0);
		return;
	}
	if (req[1] == 0) { /* 3.2: the public address */
		decide(out, PCP_DECISION_ADDRESS);
		natpmp_header(out, 0);
		put32(out->buf + 8, nat_config(nat)->public_ip[0]);
		out->len = 12;
		return;
	}
	if (req[1] == 1 || req[1] == 2) {
		natpmp_map(nat, req, client, out);
		return;
	}
	/* 3.5 asks for the request back with result 5; miniupnpd sends the
	 * 8-byte header, and so does natsim. */
	decide(out, PCP_DECISION_UNSUPP_OPCODE);
	nat_map_refused(nat, 0, &out->facts);
	natpmp_header(out, req[1]);
}

/* ---- which protocol answers (RFC 6887 section 9) ------------------------ */

void pcp_server_answer(struct nat *nat, const struct endpoint *client, const uint8_t *req,
		       size_t len, struct pcp_answer *out)
{
	const struct nat_config *cfg = nat_config(nat);

	memset(out, 0, sizeof(*out));
	out->facts.client = *client;
	out->facts.epoch = nat_epoch(nat);
	out->facts.max_lifetime = clamp_lifetime(cfg, UINT32_MAX);
	out->facts.protocol = cfg->pcp ? NAT_ORIGIN_PCP : NAT_ORIGIN_NATPMP;
	if (len < 2) { /* 8.3: shorter than 2 octets is silently dropped */
		decide(out, PCP_DECISION_IGNORED);
		nat_map_refused(nat, 0, &out->facts);
		return;
	}
	out->facts.version = req[0];
	if (req[0] == NATPMP_VERSION && cfg->natpmp)
		natpmp_serve(nat, req, len, client, out);
	else if (cfg->pcp)
		pcp_serve(nat, req, len, client, out);
	else
		natpmp_serve(nat, req, len, client, out);
}
