/*
 * stream.c - framing of messages on a TCP byte stream (see stream.h).
 */
#include "stream.h"

#include <string.h>

#include "bytes.h"
#include "stun.h"

#define STUN_HEADER 20

const char *p2p_tcp_close_name(enum p2p_tcp_close why)
{
	switch (why) {
	case P2P_TCP_CLOSED_BY_PEER:
		return "closed by the other end (FIN)";
	case P2P_TCP_REFUSED:
		return "refused (an RST answered the SYN)";
	case P2P_TCP_RESET:
		return "reset (RST)";
	case P2P_TCP_TIMED_OUT:
		return "timed out";
	case P2P_TCP_UNREACHABLE:
		return "unreachable (ICMP error)";
	}
	return "closed";
}

void p2p_stream_init(struct p2p_stream *s, enum p2p_framing framing)
{
	s->framing = framing;
	s->have = 0;
}

/* How long the frame that starts in s->buf is, once enough of it is there
 * to tell: 0 while unknown, SIZE_MAX if it is not a frame of this framing. */
static size_t frame_length(const struct p2p_stream *s)
{
	if (s->framing == P2P_FRAMING_RFC4571) {
		if (s->have < 2)
			return 0;
		size_t n = get16(s->buf);
		/* RFC 4571: a zero length is legal there, but no STUN message is
		 * empty; and a frame must fit what we can hold. */
		return n == 0 || n > P2P_STREAM_MAX_MESSAGE ? SIZE_MAX : n + 2;
	}
	/* RFC 8489 6.2.2 / 5: the top two bits are 0, the length a multiple of 4,
	 * and the cookie (bytes 4-7) is there. Each byte is judged as soon as it
	 * arrives, so garbage is refused early. */
	if (s->have >= 1 && (s->buf[0] & 0xC0) != 0)
		return SIZE_MAX;
	for (size_t i = 4; i < 8 && i < s->have; i++)
		if (s->buf[i] != (uint8_t)(STUN_MAGIC_COOKIE >> (8 * (7 - i))))
			return SIZE_MAX;
	if (s->have < 8)
		return 0;
	size_t n = get16(s->buf + 2);
	return n % 4 != 0 || n + STUN_HEADER > P2P_STREAM_MAX_MESSAGE ? SIZE_MAX : n + STUN_HEADER;
}

enum p2p_stream_result p2p_stream_next(struct p2p_stream *s, const uint8_t **in, size_t *in_len,
				       const uint8_t **msg, size_t *msg_len)
{
	size_t prefix = s->framing == P2P_FRAMING_RFC4571 ? 2 : 0;

	if (s->have == SIZE_MAX) /* broken for good */
		return P2P_STREAM_GARBAGE;
	for (;;) {
		size_t want = frame_length(s);
		if (want == SIZE_MAX) {
			s->have = SIZE_MAX;
			return P2P_STREAM_GARBAGE;
		}
		if (want != 0 && s->have == want) {
			*msg = s->buf + prefix;
			*msg_len = want - prefix;
			s->have = 0;
			return P2P_STREAM_MESSAGE;
		}
		if (*in_len == 0)
			return P2P_STREAM_NEED_MORE;
		/* Byte by byte up to the header, then the rest of the frame at once. */
		size_t take = want == 0 ? 1 : want - s->have;
		if (take > *in_len)
			take = *in_len;
		memcpy(s->buf + s->have, *in, take);
		s->have += take;
		*in += take;
		*in_len -= take;
	}
}

size_t p2p_stream_frame(enum p2p_framing framing, const uint8_t *msg, size_t len, uint8_t *out,
			size_t cap)
{
	size_t prefix = framing == P2P_FRAMING_RFC4571 ? 2 : 0;

	if (len == 0 || len > P2P_STREAM_MAX_MESSAGE || len + prefix > cap)
		return 0;
	if (prefix) {
		out[0] = (uint8_t)(len >> 8);
		out[1] = (uint8_t)len;
	}
	memcpy(out + prefix, msg, len);
	return len + prefix;
}
