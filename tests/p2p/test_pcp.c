/* test_pcp.c - the PCP (RFC 6887) and NAT-PMP (RFC 6886) client codec:
 * byte-exact requests and responses written out from the RFCs' layouts
 * (offsets cross-checked with miniupnpd's pcpserver.c parsePCPMAP_version2
 * and natpmp.c ProcessIncomingNATPMPPacket), and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/pcp.h"

static const uint8_t nonce[PCP_NONCE_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* 192.168.1.5 asks for UDP 5000 for 7200 s, suggesting 203.0.113.7:6000. */
static const uint8_t map_request[PCP_MAP_MESSAGE_SIZE] = {
    0x02, 0x01, 0x00, 0x00, /* version 2, R=0 MAP, reserved */
    0x00, 0x00, 0x1c, 0x20, /* lifetime 7200 */
    0,	  0,	0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,
    192,  168,	1,    5,				 /* ::ffff:192.168.1.5 */
    1,	  2,	3,    4,    5, 6, 7, 8, 9, 10, 11,   12, /* nonce */
    17,	  0,	0,    0,				 /* UDP, reserved */
    0x13, 0x88, 0x17, 0x70,				 /* internal 5000, suggested 6000 */
    0,	  0,	0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,
    203,  0,	113,  7, /* ::ffff:203.0.113.7 */
};

/* The server's answer: SUCCESS, 3600 s granted, epoch 42, 203.0.113.7:6000. */
static const uint8_t map_response[PCP_MAP_MESSAGE_SIZE] = {
    0x02, 0x81, 0x00, 0x00,				 /* version 2, R=1 MAP, result 0 */
    0x00, 0x00, 0x0e, 0x10,				 /* lifetime 3600 */
    0x00, 0x00, 0x00, 0x2a,				 /* epoch 42 */
    0,	  0,	0,    0,    0, 0, 0, 0, 0, 0,  0,    0,	 /* reserved */
    1,	  2,	3,    4,    5, 6, 7, 8, 9, 10, 11,   12, /* nonce */
    17,	  0,	0,    0,				 /* UDP */
    0x13, 0x88, 0x17, 0x70,				 /* 5000 -> 6000 */
    0,	  0,	0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff, 203, 0, 113, 7, /* assigned address */
};

static void test_map_request_bytes(void **state)
{
	(void)state;
	struct pcp_map_request req = {.client_ip = 0xC0A80105u,
				      .lifetime = 7200,
				      .protocol = 17,
				      .internal_port = 5000,
				      .suggested_port = 6000,
				      .suggested_ip = 0xCB007107u};
	uint8_t buf[64];

	memcpy(req.nonce, nonce, sizeof(nonce));
	assert_int_equal(pcp_map_request_write(&req, buf, sizeof(buf)), PCP_MAP_MESSAGE_SIZE);
	assert_memory_equal(buf, map_request, sizeof(map_request));
	assert_int_equal(pcp_map_request_write(&req, buf, 59), 0);
}

/* No suggestion is ::ffff:0.0.0.0 (RFC 6887 11.1), not ::; a delete is
 * lifetime 0. */
static void test_map_request_delete_no_suggestion(void **state)
{
	(void)state;
	struct pcp_map_request req = {.client_ip = 0x0A000007u, .protocol = 6, .internal_port = 80};
	uint8_t buf[PCP_MAP_MESSAGE_SIZE];
	static const uint8_t none[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};

	assert_int_equal(pcp_map_request_write(&req, buf, sizeof(buf)), PCP_MAP_MESSAGE_SIZE);
	assert_memory_equal(buf + 4, "\0\0\0\0", 4);
	assert_memory_equal(buf + 44, none, sizeof(none));
	assert_int_equal(buf[36], 6);
	assert_int_equal(buf[40] << 8 | buf[41], 80);
}

static void test_map_response_read(void **state)
{
	(void)state;
	struct pcp_map_response r;

	assert_int_equal(pcp_map_response_read(map_response, sizeof(map_response), nonce, &r),
			 PCP_PARSE_OK);
	assert_int_equal(r.result, PCP_SUCCESS);
	assert_int_equal(r.lifetime, 3600);
	assert_int_equal(r.epoch, 42);
	assert_true(r.has_map);
	assert_int_equal(r.protocol, 17);
	assert_int_equal(r.internal_port, 5000);
	assert_int_equal(r.external_port, 6000);
	assert_int_equal(r.external_ip, 0xCB007107u);
}

static enum pcp_parse read_changed(size_t at, uint8_t value, size_t len)
{
	uint8_t buf[PCP_MAP_MESSAGE_SIZE + 4] = {0};
	struct pcp_map_response r;

	memcpy(buf, map_response, sizeof(map_response));
	buf[at] = value;
	return pcp_map_response_read(buf, len, nonce, &r);
}

static void test_map_response_refusals(void **state)
{
	(void)state;
	assert_int_equal(read_changed(0, 2, 0), PCP_PARSE_SHORT);
	assert_int_equal(read_changed(0, 2, 20), PCP_PARSE_SHORT);
	assert_int_equal(read_changed(0, 2, 59), PCP_PARSE_ALIGN);
	assert_int_equal(read_changed(0, 2, 56), PCP_PARSE_SHORT); /* a success must be whole */
	assert_int_equal(read_changed(0, 1, 60), PCP_PARSE_VERSION);
	assert_int_equal(read_changed(0, 0, 60), PCP_PARSE_NATPMP_ONLY);
	assert_int_equal(read_changed(1, 0x01, 60), PCP_PARSE_NOT_RESPONSE);
	assert_int_equal(read_changed(1, 0x82, 60), PCP_PARSE_OPCODE);
	assert_int_equal(read_changed(24 + 11, 99, 60), PCP_PARSE_NONCE);
	assert_int_equal(read_changed(24 + 20, 1, 60), PCP_PARSE_ADDRESS);
	assert_int_equal(read_changed(24 + 30, 0xff, 64), PCP_PARSE_OK); /* an option: skipped */

	uint8_t huge[PCP_MAX_MESSAGE_SIZE + 4] = {0};
	struct pcp_map_response r;
	memcpy(huge, map_response, sizeof(map_response));
	assert_int_equal(pcp_map_response_read(huge, sizeof(huge), nonce, &r), PCP_PARSE_LONG);
}

/* An error may be the header alone; UNSUPP_VERSION names the server's
 * version (RFC 6887 section 9). */
static void test_map_error_header_only(void **state)
{
	(void)state;
	uint8_t buf[PCP_HEADER_SIZE];
	struct pcp_map_response r;

	memcpy(buf, map_response, sizeof(buf));
	buf[3] = PCP_NOT_AUTHORIZED;
	assert_int_equal(pcp_map_response_read(buf, sizeof(buf), nonce, &r), PCP_PARSE_OK);
	assert_int_equal(r.result, PCP_NOT_AUTHORIZED);
	assert_false(r.has_map);
	buf[0] = 3;
	buf[3] = PCP_UNSUPP_VERSION;
	assert_int_equal(pcp_map_response_read(buf, sizeof(buf), nonce, &r), PCP_PARSE_VERSION);
	assert_int_equal(r.result, PCP_UNSUPP_VERSION);
	assert_int_equal(r.version, 3);
	assert_string_equal(pcp_result_name(PCP_NOT_AUTHORIZED), "NOT_AUTHORIZED");
	assert_string_equal(pcp_result_name(200), "UNKNOWN");
}

static void test_natpmp_requests(void **state)
{
	(void)state;
	uint8_t buf[16];
	static const uint8_t map_tcp[12] = {0, 2, 0, 0, 0x00, 0x50, 0x1f, 0x90, 0, 0, 0x1c, 0x20};
	static const uint8_t del_udp[12] = {0, 1, 0, 0, 0x13, 0x88, 0, 0, 0, 0, 0, 0};

	assert_int_equal(natpmp_address_request_write(buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\0\0", 2);
	assert_int_equal(
	    natpmp_map_request_write(NATPMP_OPCODE_MAP_TCP, 80, 8080, 7200, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, map_tcp, sizeof(map_tcp));
	/* RFC 6886 3.4: deleting sends suggested port 0, whatever was given. */
	assert_int_equal(
	    natpmp_map_request_write(NATPMP_OPCODE_MAP_UDP, 5000, 6000, 0, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, del_udp, sizeof(del_udp));
	assert_int_equal(natpmp_map_request_write(0, 5000, 0, 1, buf, sizeof(buf)), 0);
	assert_int_equal(natpmp_map_request_write(1, 5000, 0, 1, buf, 11), 0);
}

static void test_natpmp_responses(void **state)
{
	(void)state;
	static const uint8_t addr[12] = {0, 128, 0, 0, 0, 0, 0, 42, 203, 0, 113, 7};
	static const uint8_t map[16] = {0,    129,  0,	  0,	0, 0, 1,    0,
					0x13, 0x88, 0x17, 0x70, 0, 0, 0x0e, 0x10};
	static const uint8_t unsupp[8] = {0, 128, 0, 1, 0, 0, 0, 7}; /* erratum 3618 */
	struct natpmp_response r;

	assert_int_equal(natpmp_response_read(addr, sizeof(addr), 0, &r), PCP_PARSE_OK);
	assert_int_equal(r.external_ip, 0xCB007107u);
	assert_int_equal(r.epoch, 42);
	assert_int_equal(natpmp_response_read(map, sizeof(map), 1, &r), PCP_PARSE_OK);
	assert_int_equal(r.epoch, 256);
	assert_int_equal(r.internal_port, 5000);
	assert_int_equal(r.external_port, 6000);
	assert_int_equal(r.lifetime, 3600);
	assert_true(r.complete);
	/* Refusals: short, a success cut short, the wrong opcode, a request. */
	assert_int_equal(natpmp_response_read(map, 1, 1, &r), PCP_PARSE_SHORT);
	assert_int_equal(natpmp_response_read(map, 12, 1, &r), PCP_PARSE_SHORT);
	assert_int_equal(natpmp_response_read(map, sizeof(map), 2, &r), PCP_PARSE_OPCODE);
	assert_int_equal(natpmp_response_read(map_response, 60, 1, &r), PCP_PARSE_VERSION);
	static const uint8_t req[12] = {0, 1};
	assert_int_equal(natpmp_response_read(req, sizeof(req), 1, &r), PCP_PARSE_NOT_RESPONSE);
	/* Unsupported Version: 8 bytes, opcode 128 whatever was asked. */
	assert_int_equal(natpmp_response_read(unsupp, sizeof(unsupp), 2, &r), PCP_PARSE_OK);
	assert_int_equal(r.result, NATPMP_UNSUPP_VERSION);
	assert_false(r.complete);
	assert_string_equal(natpmp_result_name(r.result), "Unsupported Version");
}

/* RFC 6887 8.5: a reboot shows as an epoch that goes back, or that
 * advances far less than the client's clock did. */
static void test_epoch_validity(void **state)
{
	(void)state;
	assert_true(pcp_epoch_valid(1000, 500, 1060, 560)); /* both moved 60 s */
	assert_true(pcp_epoch_valid(1000, 500, 1000, 499)); /* back 1 s: rounding */
	assert_false(pcp_epoch_valid(1000, 500, 1000, 498));
	assert_false(pcp_epoch_valid(1000, 500, 1060, 5)); /* rebooted: epoch restarted */
	/* 1600 s passed for the client; the server may differ by 2 + 100 s. */
	assert_true(pcp_epoch_valid(0, 0, 1600, 1498));
	assert_false(pcp_epoch_valid(0, 0, 1600, 1497));
	assert_false(pcp_epoch_valid(0, 0, 10, 100)); /* the server's clock ran ahead */
}

static void test_retransmission(void **state)
{
	(void)state;
	const uint64_t s = 1000000000ull;
	assert_int_equal(pcp_retransmit_after(1, 0.0), 3 * s);
	assert_int_equal(pcp_retransmit_after(2, 0.0), 6 * s);
	assert_int_equal(pcp_retransmit_after(9, 0.0), 768 * s);
	assert_int_equal(pcp_retransmit_after(10, 0.0), 1024 * s);
	assert_int_equal(pcp_retransmit_after(50, 0.0), 1024 * s);
	assert_int_equal(pcp_retransmit_after(1, 0.1), 3300000000ull);
	assert_int_equal(pcp_retransmit_after(1, -5.0), 2700000000ull); /* jitter clamped */
	assert_int_equal(natpmp_retransmit_after(1), 250000000ull);
	assert_int_equal(natpmp_retransmit_after(9), 64 * s);
	assert_int_equal(natpmp_retransmit_after(10), 0);
	assert_int_equal(natpmp_retransmit_after(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_request_bytes),
	    cmocka_unit_test(test_map_request_delete_no_suggestion),
	    cmocka_unit_test(test_map_response_read),
	    cmocka_unit_test(test_map_response_refusals),
	    cmocka_unit_test(test_map_error_header_only),
	    cmocka_unit_test(test_natpmp_requests),
	    cmocka_unit_test(test_natpmp_responses),
	    cmocka_unit_test(test_epoch_validity),
	    cmocka_unit_test(test_retransmission),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
