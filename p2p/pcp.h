/*
 * pcp.h - the client side of the two port-mapping protocols a home router
 * may speak: PCP (RFC 6887, version 2, the MAP opcode) and its predecessor
 * NAT-PMP (RFC 6886, version 0). Both run over UDP to port 5351 of the
 * default gateway; a host asks "map my internal port P for L seconds" and
 * the router answers with the public address and port it opened, its
 * lifetime, and its epoch (seconds since its mapping table was last reset,
 * which tells the client that the router rebooted and forgot its mappings).
 *
 * A pure codec on caller-owned buffers, like stun.h: writers fill a buffer
 * and return the bytes written (0 if it does not fit); readers never read
 * past `len`, never crash, and refuse a datagram with a reason (enum
 * pcp_parse). No socket, no clock, no randomness: the 96-bit mapping nonce
 * is the caller's (RFC 6887 section 11.1 asks for a random one).
 *
 * Addresses are IPv4 in host order; on the PCP wire they travel as
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 6887 section 5), and "no
 * suggestion" as ::ffff:0.0.0.0 (section 11.1).
 *
 * What is left out: the PEER and ANNOUNCE opcodes and all options
 * (THIRD_PARTY, PREFER_FAILURE, FILTER) are neither written nor read; a
 * response's options are skipped.
 */
#ifndef NATSIM_P2P_PCP_H
#define NATSIM_P2P_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCP_SERVER_PORT 5351 /* RFC 6887 section 19.1; NAT-PMP's too (RFC 6886 3.1) */
#define PCP_VERSION 2
#define NATPMP_VERSION 0
#define PCP_NONCE_SIZE 12
#define PCP_HEADER_SIZE 24	  /* common request and response header (sections 7.1, 7.2) */
#define PCP_MAP_SIZE 36		  /* MAP opcode-specific data (section 11.1) */
#define PCP_MAP_MESSAGE_SIZE 60	  /* header + MAP, request and response alike */
#define PCP_MAX_MESSAGE_SIZE 1100 /* section 7 */
#define PCP_RESPONSE_BIT 0x80	  /* the R bit in the opcode byte */
#define NATPMP_ADDRESS_REQUEST_SIZE 2
#define NATPMP_ADDRESS_RESPONSE_SIZE 12
#define NATPMP_MAP_REQUEST_SIZE 12
#define NATPMP_MAP_RESPONSE_SIZE 16
#define NATPMP_ERROR_RESPONSE_SIZE 8 /* version, opcode, result, epoch */
#define NATPMP_RESPONSE_BIT 0x80     /* opcode + 128 (RFC 6886 3.2) */

enum pcp_opcode {
	PCP_OPCODE_ANNOUNCE = 0,
	PCP_OPCODE_MAP = 1,
	PCP_OPCODE_PEER = 2,
};

/* RFC 6887 section 7.4 (IANA "PCP Result Codes"). */
enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};
/* "SUCCESS", "NOT_AUTHORIZED", ... as the RFC spells them; "UNKNOWN" past 13. */
const char *pcp_result_name(uint8_t result);

/* NAT-PMP opcodes (RFC 6886 3.2, 3.3) and result codes (3.5). */
enum natpmp_opcode {
	NATPMP_OPCODE_ADDRESS = 0,
	NATPMP_OPCODE_MAP_UDP = 1,
	NATPMP_OPCODE_MAP_TCP = 2,
};
enum natpmp_result {
	NATPMP_SUCCESS = 0,
	NATPMP_UNSUPP_VERSION = 1,
	NATPMP_NOT_AUTHORIZED = 2, /* "Not Authorized/Refused" */
	NATPMP_NETWORK_FAILURE = 3,
	NATPMP_OUT_OF_RESOURCES = 4,
	NATPMP_UNSUPP_OPCODE = 5,
};
const char *natpmp_result_name(uint16_t result);

/* Why a response was refused. Every reader returns one. */
enum pcp_parse {
	PCP_PARSE_OK = 0,
	PCP_PARSE_SHORT = -1,	     /* shorter than its fixed part */
	PCP_PARSE_LONG = -2,	     /* PCP: over 1100 bytes */
	PCP_PARSE_VERSION = -3,	     /* a version this reader does not speak */
	PCP_PARSE_NOT_RESPONSE = -4, /* R bit (or NAT-PMP's top opcode bit) clear */
	PCP_PARSE_OPCODE = -5,	     /* a response to another opcode than asked */
	PCP_PARSE_NONCE = -6,	     /* PCP MAP: not our nonce (section 11.4: ignore it) */
	PCP_PARSE_ADDRESS = -7,	     /* PCP: an external address that is not IPv4-mapped */
	PCP_PARSE_NATPMP_ONLY = -8,  /* PCP client got a version-0 answer: the server
				      * speaks NAT-PMP only (RFC 6887 section 9) */
	PCP_PARSE_ALIGN = -9,	     /* PCP: not a multiple of 4 bytes (section 7) */
};
/* "short", "too long", "wrong version", ... */
const char *pcp_parse_name(enum pcp_parse p);

/* ---- PCP MAP (RFC 6887 section 11) -------------------------------------- */

struct pcp_map_request {
	uint32_t client_ip; /* the client's own address, as its packets leave it */
	uint32_t lifetime;  /* seconds; 0 deletes the mapping (section 15) */
	uint8_t nonce[PCP_NONCE_SIZE];
	uint8_t protocol;	 /* IANA protocol number: 17 UDP, 6 TCP */
	uint16_t internal_port;	 /* nonzero: natsim never asks for "all ports" */
	uint16_t suggested_port; /* 0: no suggestion */
	uint32_t suggested_ip;	 /* 0: no suggestion (::ffff:0.0.0.0) */
};

/* The 60-byte MAP request: version 2, R clear, opcode MAP, the header's
 * client address and lifetime, then nonce, protocol, internal port,
 * suggested external port and address. Returns 60, or 0 if cap < 60. */
size_t pcp_map_request_write(const struct pcp_map_request *req, uint8_t *buf, size_t cap);

struct pcp_map_response {
	uint8_t result;	   /* enum pcp_result */
	uint32_t lifetime; /* granted seconds; for an error, how long it holds */
	uint32_t epoch;	   /* the server's epoch time (section 8.5) */
	bool has_map;	   /* the MAP fields below were present */
	uint8_t protocol;
	uint16_t internal_port;
	uint16_t external_port; /* assigned */
	uint32_t external_ip;	/* assigned */
	uint8_t version;	/* as received: UNSUPP_VERSION names the server's */
};

/* Read a response to a MAP request that carried `nonce`. A success must
 * carry the whole MAP part with that nonce; an error response may be the
 * 24-byte header alone (a server that could not read our request has no
 * nonce to echo), and then has_map is false. An UNSUPP_VERSION answer in
 * another version fills `out` (result, version) and returns
 * PCP_PARSE_VERSION; a NAT-PMP answer returns PCP_PARSE_NATPMP_ONLY. */
enum pcp_parse pcp_map_response_read(const uint8_t *buf, size_t len,
				     const uint8_t nonce[PCP_NONCE_SIZE],
				     struct pcp_map_response *out);

/* ---- NAT-PMP (RFC 6886 section 3) --------------------------------------- */

/* The 2-byte external address request (3.2). Returns 2, or 0. */
size_t natpmp_address_request_write(uint8_t *buf, size_t cap);

/* The 12-byte map request (3.3): `opcode` NATPMP_OPCODE_MAP_UDP or _TCP, a
 * lifetime of 0 deletes (3.4; the suggested port must then be 0). Returns
 * 12, or 0 if it does not fit or the opcode is not a map opcode. */
size_t natpmp_map_request_write(uint8_t opcode, uint16_t internal_port, uint16_t suggested_port,
				uint32_t lifetime, uint8_t *buf, size_t cap);

struct natpmp_response {
	uint8_t opcode;		/* the request's opcode (the top bit taken off) */
	uint16_t result;	/* enum natpmp_result */
	uint32_t epoch;		/* seconds since start of epoch */
	uint32_t external_ip;	/* address response */
	uint16_t internal_port; /* map response */
	uint16_t external_port;
	uint32_t lifetime;
	bool complete; /* the opcode's whole body was there (an error may be 8 bytes) */
};

/* Read a response to a request with `opcode`. An error may come as the
 * 8-byte header alone (RFC 6886 3.5, erratum 3618: the Unsupported Version
 * answer), with complete false; a success must be whole. */
enum pcp_parse natpmp_response_read(const uint8_t *buf, size_t len, uint8_t opcode,
				    struct natpmp_response *out);

/* ---- what a client does with the answers --------------------------------- */

/* Did the server lose its mappings since its previous answer? RFC 6887
 * section 8.5 (and RFC 6886 3.6, the same rule): with the client's own
 * clock (seconds) and the server's epoch at the previous answer and now,
 * the epoch is invalid - the server rebooted, and every mapping must be
 * asked for again - if it went back by more than a second, or if the two
 * clocks advanced by amounts that differ by more than 2 s plus 1/16 of
 * the elapsed time. True: still valid. */
bool pcp_epoch_valid(uint32_t prev_client, uint32_t prev_server, uint32_t curr_client,
		     uint32_t curr_server);

/* How long to wait for an answer after the `sent`-th transmission of a
 * request (1: the first) before sending it again, in nanoseconds. PCP
 * (RFC 6887 8.1.1): 3 s, doubling up to 1024 s, each scaled by
 * 1 + `jitter`, which the caller draws uniformly from [-0.1, 0.1]; a
 * client retries forever. NAT-PMP (RFC 6886 3.1): 250 ms, doubling, for
 * 9 transmissions: after the 9th, 64 s, and then the client gives up; 0
 * past that (and for 0). */
uint64_t pcp_retransmit_after(unsigned sent, double jitter);
uint64_t natpmp_retransmit_after(unsigned sent);

#endif
