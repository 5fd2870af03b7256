/*
 * fuzz_pcp.c - libFuzzer target: the PCP and NAT-PMP client codec's readers
 * (p2p/pcp.c).
 *
 * The first byte picks the reader (PCP MAP, or NAT-PMP for opcode 0, 1 or
 * 2); the rest is the datagram. Whatever arrives, the reader must not crash
 * or read past it, must say why it refused, and a success it accepts must
 * be whole: a PCP SUCCESS carries the MAP part with our nonce, a NAT-PMP
 * success its whole body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t nonce[PCP_NONCE_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void check_pcp(const uint8_t *buf, size_t len)
{
	struct pcp_map_response r;
	enum pcp_parse p = pcp_map_response_read(buf, len, nonce, &r);

	if (pcp_parse_name(p)[0] == '?')
		abort(); /* every refusal has a name */
	if (p == PCP_PARSE_OK && r.result == PCP_SUCCESS &&
	    (!r.has_map || len < PCP_MAP_MESSAGE_SIZE || memcmp(buf + 24, nonce, 12) != 0))
		abort();
	(void)pcp_result_name(r.result);
}

static void check_natpmp(const uint8_t *buf, size_t len, uint8_t opcode)
{
	struct natpmp_response r;
	enum pcp_parse p = natpmp_response_read(buf, len, opcode, &r);

	if (pcp_parse_name(p)[0] == '?')
		abort();
	if (p == PCP_PARSE_OK && r.result == NATPMP_SUCCESS && !r.complete)
		abort();
	(void)natpmp_result_name(r.result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* An exact-size copy: ASan then sees any read past the datagram. */
	uint8_t *buf = malloc(size - 1 + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] % 4 == 3)
		check_pcp(buf, size - 1);
	else
		check_natpmp(buf, size - 1, data[0] % 4);
	free(buf);
	return 0;
}
