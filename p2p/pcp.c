/*
 * pcp.c - PCP (RFC 6887) MAP and NAT-PMP (RFC 6886) messages, client side.
 *
 * The layouts, byte by byte (offsets as miniupnpd's pcpserver.c and
 * natpmp.c read them):
 *
 *   PCP request header (7.1)         PCP response header (7.2)
 *    0 version = 2                    0 version = 2
 *    1 R=0 | opcode                   1 R=1 | opcode
 *    2 reserved (16)                  2 reserved (8)   3 result code
 *    4 requested lifetime (32)        4 lifetime (32)
 *    8 client IP (128)                8 epoch time (32)
 *                                    12 reserved (96)
 *   MAP (11.1), from byte 24 in both:
 *    0 mapping nonce (96)  12 protocol  13 reserved (24)
 *   16 internal port  18 suggested / assigned external port
 *   20 suggested / assigned external IP (128)
 *
 *   NAT-PMP (3.2-3.3): requests  0 version = 0  1 opcode  then, to map:
 *   2 reserved (16)  4 internal port  6 suggested external port  8 lifetime;
 *   responses  0 version  1 opcode + 128  2 result (16)  4 epoch (32)  then
 *   8 external IP (address), or 8 internal port  10 external port
 *   12 lifetime (map).
 */
#include "pcp.h"

#include <string.h>

#include "bytes.h"

static const char *const pcp_result_names[] = {
    "SUCCESS",		"UNSUPP_VERSION",	  "NOT_AUTHORIZED",   "MALFORMED_REQUEST",
    "UNSUPP_OPCODE",	"UNSUPP_OPTION",	  "MALFORMED_OPTION", "NETWORK_FAILURE",
    "NO_RESOURCES",	"UNSUPP_PROTOCOL",	  "USER_EX_QUOTA",    "CANNOT_PROVIDE_EXTERNAL",
    "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
};

const char *pcp_result_name(uint8_t result)
{
	if (result < sizeof(pcp_result_names) / sizeof(pcp_result_names[0]))
		return pcp_result_names[result];
	return "UNKNOWN";
}

static const char *const natpmp_result_names[] = {
    "Success",	       "Unsupported Version", "Not Authorized/Refused",
    "Network Failure", "Out of resources",    "Unsupported opcode",
};

const char *natpmp_result_name(uint16_t result)
{
	if (result < sizeof(natpmp_result_names) / sizeof(natpmp_result_names[0]))
		return natpmp_result_names[result];
	return "Unknown";
}

const char *pcp_parse_name(enum pcp_parse p)
{
	switch (p) {
	case PCP_PARSE_OK:
		return "ok";
	case PCP_PARSE_SHORT:
		return "too short";
	case PCP_PARSE_LONG:
		return "too long";
	case PCP_PARSE_VERSION:
		return "unsupported version";
	case PCP_PARSE_NOT_RESPONSE:
		return "not a response";
	case PCP_PARSE_OPCODE:
		return "answers another opcode";
	case PCP_PARSE_NONCE:
		return "not our nonce";
	case PCP_PARSE_ADDRESS:
		return "address not IPv4-mapped";
	case PCP_PARSE_NATPMP_ONLY:
		return "server speaks NAT-PMP only";
	case PCP_PARSE_ALIGN:
		return "length not a multiple of 4";
	}
	return "?";
}

/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2), as RFC 6887 section 5 carries IPv4. */
static void put_mapped(uint8_t *p, uint32_t ip)
{
	memset(p, 0, 10);
	p[10] = 0xff;
	p[11] = 0xff;
	put32(p + 10 + 2, ip);
}

static bool get_mapped(const uint8_t *p, uint32_t *ip)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(p, prefix, sizeof(prefix)) != 0)
		return false;
	*ip = get32(p + 12);
	return true;
}

size_t pcp_map_request_write(const struct pcp_map_request *req, uint8_t *buf, size_t cap)
{
	if (cap < PCP_MAP_MESSAGE_SIZE)
		return 0;
	memset(buf, 0, PCP_MAP_MESSAGE_SIZE);
	buf[0] = PCP_VERSION;
	buf[1] = PCP_OPCODE_MAP; /* R = 0: a request */
	put32(buf + 4, req->lifetime);
	put_mapped(buf + 8, req->client_ip);
	uint8_t *map = buf + PCP_HEADER_SIZE;
	memcpy(map, req->nonce, PCP_NONCE_SIZE);
	map[12] = req->protocol;
	put16(map + 16, req->internal_port);
	put16(map + 18, req->suggested_port);
	put_mapped(map + 20, req->suggested_ip);
	return PCP_MAP_MESSAGE_SIZE;
}

/* The header's checks, in the order a client meets them. */
static enum pcp_parse pcp_header_read(const uint8_t *buf, size_t len, struct pcp_map_response *out)
{
	if (len < 2)
		return PCP_PARSE_SHORT;
	out->version = buf[0];
	/* A NAT-PMP-only server answers a PCP request with its own
	 * Unsupported Version (RFC 6887 section 9, RFC 6886 3.5). */
	if (buf[0] == NATPMP_VERSION)
		return PCP_PARSE_NATPMP_ONLY;
	if (len < PCP_HEADER_SIZE)
		return PCP_PARSE_SHORT;
	if (len > PCP_MAX_MESSAGE_SIZE)
		return PCP_PARSE_LONG;
	if (len % 4 != 0)
		return PCP_PARSE_ALIGN;
	if (!(buf[1] & PCP_RESPONSE_BIT))
		return PCP_PARSE_NOT_RESPONSE;
	out->result = buf[3];
	out->lifetime = get32(buf + 4);
	out->epoch = get32(buf + 8);
	/* Section 9: UNSUPP_VERSION comes in the highest version the server
	 * speaks, which need not be ours. */
	if (buf[0] != PCP_VERSION)
		return PCP_PARSE_VERSION;
	if ((buf[1] & ~PCP_RESPONSE_BIT) != PCP_OPCODE_MAP)
		return PCP_PARSE_OPCODE;
	return PCP_PARSE_OK;
}

enum pcp_parse pcp_map_response_read(const uint8_t *buf, size_t len,
				     const uint8_t nonce[PCP_NONCE_SIZE],
				     struct pcp_map_response *out)
{
	memset(out, 0, sizeof(*out));
	enum pcp_parse p = pcp_header_read(buf, len, out);
	if (p != PCP_PARSE_OK)
		return p;
	if (len < PCP_MAP_MESSAGE_SIZE)
		return out->result != PCP_SUCCESS ? PCP_PARSE_OK : PCP_PARSE_SHORT;
	const uint8_t *map = buf + PCP_HEADER_SIZE;
	/* Section 11.4: a response whose nonce is not the request's is not
	 * ours (an attacker's, or an old one): ignore it. */
	if (memcmp(map, nonce, PCP_NONCE_SIZE) != 0)
		return PCP_PARSE_NONCE;
	if (!get_mapped(map + 20, &out->external_ip))
		return PCP_PARSE_ADDRESS;
	out->has_map = true;
	out->protocol = map[12];
	out->internal_port = get16(map + 16);
	out->external_port = get16(map + 18);
	return PCP_PARSE_OK; /* options after byte 60 are skipped */
}

size_t natpmp_address_request_write(uint8_t *buf, size_t cap)
{
	if (cap < NATPMP_ADDRESS_REQUEST_SIZE)
		return 0;
	buf[0] = NATPMP_VERSION;
	buf[1] = NATPMP_OPCODE_ADDRESS;
	return NATPMP_ADDRESS_REQUEST_SIZE;
}

size_t natpmp_map_request_write(uint8_t opcode, uint16_t internal_port, uint16_t suggested_port,
				uint32_t lifetime, uint8_t *buf, size_t cap)
{
	if (cap < NATPMP_MAP_REQUEST_SIZE ||
	    (opcode != NATPMP_OPCODE_MAP_UDP && opcode != NATPMP_OPCODE_MAP_TCP))
		return 0;
	buf[0] = NATPMP_VERSION;
	buf[1] = opcode;
	put16(buf + 2, 0); /* reserved */
	put16(buf + 4, internal_port);
	/* 3.4: a deletion's suggested port MUST be 0. */
	put16(buf + 6, lifetime == 0 ? 0 : suggested_port);
	put32(buf + 8, lifetime);
	return NATPMP_MAP_REQUEST_SIZE;
}

enum pcp_parse natpmp_response_read(const uint8_t *buf, size_t len, uint8_t opcode,
				    struct natpmp_response *out)
{
	size_t whole = opcode == NATPMP_OPCODE_ADDRESS ? NATPMP_ADDRESS_RESPONSE_SIZE
						       : NATPMP_MAP_RESPONSE_SIZE;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return PCP_PARSE_SHORT;
	if (buf[0] != NATPMP_VERSION)
		return PCP_PARSE_VERSION; /* a PCP server's UNSUPP_VERSION among others */
	if (!(buf[1] & NATPMP_RESPONSE_BIT))
		return PCP_PARSE_NOT_RESPONSE;
	if (len < NATPMP_ERROR_RESPONSE_SIZE)
		return PCP_PARSE_SHORT;
	out->opcode = buf[1] & ~NATPMP_RESPONSE_BIT;
	out->result = get16(buf + 2);
	out->epoch = get32(buf + 4);
	/* Erratum 3618: Unsupported Version answers with opcode 128 whatever
	 * was asked (the server could not read the request). */
	if (out->opcode != opcode && !(out->result == NATPMP_UNSUPP_VERSION && out->opcode == 0))
		return PCP_PARSE_OPCODE;
	if (len < whole)
		return out->result != NATPMP_SUCCESS ? PCP_PARSE_OK : PCP_PARSE_SHORT;
	out->complete = true;
	if (opcode == NATPMP_OPCODE_ADDRESS) {
		out->external_ip = get32(buf + 8);
		return PCP_PARSE_OK;
	}
	out->internal_port = get16(buf + 8);
	out->external_port = get16(buf + 10);
	out->lifetime = get32(buf + 12);
	return PCP_PARSE_OK;
}

bool pcp_epoch_valid(uint32_t prev_client, uint32_t prev_server, uint32_t curr_client,
		     uint32_t curr_server)
{
	/* Going back by up to a second is rounding, not a reboot (8.5). */
	if ((uint64_t)curr_server + 1 < prev_server)
		return false;
	int64_t client_delta = (int64_t)curr_client - prev_client;
	int64_t server_delta = (int64_t)curr_server - prev_server;
	return !(client_delta + 2 < server_delta - server_delta / 16 ||
		 server_delta + 2 < client_delta - client_delta / 16);
}

#define NS_PER_S 1000000000ull

uint64_t pcp_retransmit_after(unsigned sent, double jitter)
{
	/* 8.1.1: RT = (1 + RAND) * IRT, then (1 + RAND) * 2 * RTprev, at most
	 * (1 + RAND) * MRT; IRT 3 s, MRT 1024 s. */
	uint64_t rt = 3;
	for (unsigned i = 1; i < sent && rt < 1024; i++)
		rt *= 2;
	if (rt > 1024)
		rt = 1024;
	if (jitter < -0.1)
		jitter = -0.1;
	if (jitter > 0.1)
		jitter = 0.1;
	return (uint64_t)((double)(rt * NS_PER_S) * (1.0 + jitter));
}

uint64_t natpmp_retransmit_after(unsigned sent)
{
	/* 3.1: 250 ms, doubling, nine tries: after the last, 64 s. */
	if (sent == 0 || sent > 9)
		return 0;
	return 250000000ull << (sent - 1);
}
