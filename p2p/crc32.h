/*
 * crc32.h - CRC-32/ISO-HDLC (the IEEE 802.3 CRC: reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), for STUN's
 * FINGERPRINT (RFC 8489 section 14.7, p2p/stun.c).
 *
 * Why not zlib's crc32(): every STUN message is fingerprinted by its sender
 * and checked by its receiver, and messages are short (60 to 250 bytes),
 * where zlib's crc32() takes about 90 to 140 ns a message. On x86-64 with
 * PCLMULQDQ this module folds 16 bytes with each pair of carry-less
 * multiplies and ends with a Barrett reduction (Intel, "Fast CRC Computation
 * for Generic Polynomials Using PCLMULQDQ Instruction", 2009), five to
 * fifteen times faster than zlib at these sizes. Elsewhere, and for inputs
 * under 16 bytes, it uses portable slicing-by-8 tables, still about twice as
 * fast as zlib. tests/p2p/test_crc32.c checks both against zlib.
 *
 * Nothing here allocates or keeps global state except the choice of
 * implementation, made once on first use.
 */
#ifndef NATSIM_P2P_CRC32_H
#define NATSIM_P2P_CRC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The CRC of n bytes at p, continuing from crc, with exactly the semantics of
 * zlib's crc32(): crc32_ieee(0, p, n) is the CRC of those bytes alone, and
 * crc32_ieee(crc32_ieee(0, a, na), b, nb) is the CRC of a followed by b.
 * The check value of "123456789" is 0xCBF43926. p may be NULL when n is 0,
 * and then crc comes back unchanged (zlib instead returns 0 for a NULL p). */
uint32_t crc32_ieee(uint32_t crc, const uint8_t *p, size_t n);

/* Whether PCLMULQDQ is in use. crc32_use_pclmul(false) forces the portable
 * code (tests compare the two); true uses PCLMULQDQ again if the CPU has it.
 * Returns whether it is now in use. */
bool crc32_pclmul(void);
bool crc32_use_pclmul(bool on);

#endif
