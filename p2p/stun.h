/*
 * stun.h - STUN message codec (RFC 8489), with the RFC 5780 behaviour-discovery
 * attributes and the RFC 3489 ones that classic clients send and expect.
 *
 * A pure codec on caller-owned buffers, in the manner of libjuice's stun.c:
 * stun_decode() reads a byte string into a struct stun_msg whose attribute
 * values point into that byte string (the message borrows the buffer; keep it
 * alive while you read the message); a struct stun_writer builds a message in
 * a caller's buffer (stun_writer_init(), then stun_put_*() for each attribute,
 * then stun_writer_finish()). Decoding any byte string never reads past `len`
 * and never crashes: a malformed message returns a negative enum stun_error.
 *
 * natsim's rendezvous and relay messages (p2p/coord.h) are STUN messages with
 * methods and attributes at code points nobody has registered (IANA's STUN
 * registries; docs/protocol.md "Code points" says how they were chosen), so one
 * codec sees everything on the wire and docs/wireshark/natsim.lua names it.
 */
#ifndef NATSIM_P2P_STUN_H
#define NATSIM_P2P_STUN_H

#include "hmac.h"
#include "p2p.h"

#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_HEADER_SIZE 20
#define STUN_TXID_SIZE 12
#define STUN_MAX_ATTRS 40
#define STUN_FINGERPRINT_XOR 0x5354554Eu

enum stun_class {
	STUN_CLASS_REQUEST = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS = 2,
	STUN_CLASS_ERROR = 3,
};

/* Methods. BINDING is RFC 8489's; the others are natsim's own (p2p/coord.h,
 * docs/protocol.md), unassigned values in RFC 8489 18.3's Expert Review range
 * 0x080-0x0FF: the only range that keeps a STUN packet's first byte in 0-3,
 * which RFC 7983 demultiplexing needs (0x100-0xFFF are reserved for that). */
enum stun_method {
	STUN_METHOD_BINDING = 0x001,
	STUN_METHOD_REGISTER = 0x0C1, /* peer -> coordinator: signed registration */
	STUN_METHOD_CONNECT = 0x0C2,  /* peer -> coordinator: connect me to NAME */
	STUN_METHOD_INTRODUCE =
	    0x0C3,		   /* coordinator -> both peers: the other's candidates and keys */
	STUN_METHOD_RELAY = 0x0C4, /* either way: a sealed datagram through the relay */
	STUN_METHOD_DATA = 0x0C5,  /* peer -> peer direct: a sealed datagram */
};

enum stun_attr_type {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_RESPONSE_ADDRESS = 0x0002, /* RFC 3489, deprecated */
	STUN_ATTR_CHANGE_REQUEST = 0x0003,   /* RFC 5780 (and 3489) */
	STUN_ATTR_SOURCE_ADDRESS = 0x0004,   /* RFC 3489 */
	STUN_ATTR_CHANGED_ADDRESS = 0x0005,  /* RFC 3489 */
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_PRIORITY = 0x0024,	  /* RFC 8445 */
	STUN_ATTR_USE_CANDIDATE = 0x0025, /* RFC 8445 */
	STUN_ATTR_PADDING = 0x0026,	  /* RFC 5780 */
	STUN_ATTR_RESPONSE_PORT = 0x0027, /* RFC 5780 */
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_ICE_CONTROLLED = 0x8029,
	STUN_ATTR_ICE_CONTROLLING = 0x802A,
	STUN_ATTR_RESPONSE_ORIGIN = 0x802B, /* RFC 5780 */
	STUN_ATTR_OTHER_ADDRESS = 0x802C,   /* RFC 5780 */
	/* natsim's attributes: unassigned, in the comprehension-optional Expert
	 * Review range 0xC000-0xFFFF (RFC 8489 18.4), away from every value IANA
	 * or Wireshark knows (0xC000-0xC060 vendors, 0xFF04-0xFF10 Google/MS). */
	STUN_ATTR_NATSIM_NAME = 0xE001,	     /* UTF-8 peer name */
	STUN_ATTR_NATSIM_SIGN_KEY = 0xE002,  /* Ed25519 public key, 32 bytes */
	STUN_ATTR_NATSIM_BOX_KEY = 0xE003,   /* X25519 public key, 32 bytes */
	STUN_ATTR_NATSIM_CANDIDATE = 0xE004, /* XOR-encoded address + 1 byte type, repeatable */
	STUN_ATTR_NATSIM_TIMESTAMP = 0xE005, /* 64-bit ns, replay protection */
	STUN_ATTR_NATSIM_SIGNATURE = 0xE006, /* Ed25519 signature, 64 bytes */
	STUN_ATTR_NATSIM_PAYLOAD = 0xE007,   /* sealed application data */
	STUN_ATTR_NATSIM_PEER = 0xE008,	     /* UTF-8 name of the other peer */
	STUN_ATTR_NATSIM_SESSION = 0xE009,   /* 8-byte session id */
	STUN_ATTR_NATSIM_TRANSPORT = 0xE00A, /* 1 byte: 6 = the candidates are TCP ones */
	STUN_ATTR_NATSIM_MAPPING = 0xE00B,   /* how the peer's NAT assigns ports (coord.h) */
};

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define STUN_CHANGE_IP 0x4u
#define STUN_CHANGE_PORT 0x2u

enum stun_error {
	STUN_OK = 0,
	STUN_ERR_TRUNCATED = -1,  /* shorter than the header or than its length field says */
	STUN_ERR_NOT_STUN = -2,	  /* top two bits not zero */
	STUN_ERR_BAD_LENGTH = -3, /* length not a multiple of 4 / attribute overruns */
	STUN_ERR_BAD_COOKIE = -4, /* no magic cookie and classic (3489) decoding not allowed */
	STUN_ERR_TOO_MANY_ATTRS = -5,
	STUN_ERR_BAD_FINGERPRINT = -6,
	STUN_ERR_BAD_ATTRIBUTE = -7, /* an attribute's value is malformed for its type */
	STUN_ERR_NO_SPACE = -8,	     /* writer: output buffer too small */
	STUN_ERR_NOT_FOUND = -9,     /* getter: attribute absent */
	STUN_ERR_INTEGRITY = -10,    /* MESSAGE-INTEGRITY(-SHA256) does not verify */
};

/* Short sentence for an error ("message shorter than its header"). */
const char *stun_error_str(int err);

struct stun_attr {
	uint16_t type;
	uint16_t len;	      /* value length, without padding */
	const uint8_t *value; /* points into the decoded buffer */
	size_t offset;	      /* byte offset of the attribute header within the message */
};

struct stun_msg {
	uint16_t method;
	enum stun_class cls;
	bool classic;		      /* RFC 3489: no magic cookie, 16-byte transaction id */
	uint8_t txid[STUN_TXID_SIZE]; /* for classic messages, the last 12 of 16 bytes ... */
	uint8_t classic_txid_head[4]; /* ... and these are the first 4 (where the cookie goes) */
	size_t n_attrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
	bool has_fingerprint; /* set by decode when a valid FINGERPRINT was present */
};

/* True if the bytes look like STUN (first two bits zero, length plausible,
 * cookie present) - a cheap demultiplexing test, as RFC 8489 section 7 says. */
bool stun_is_message(const uint8_t *buf, size_t len);

/* Decode. With allow_classic, a message without the magic cookie is decoded as
 * RFC 3489 (classic) instead of rejected. FINGERPRINT, if present, must be last
 * and correct. Returns STUN_OK or a negative enum stun_error. */
int stun_decode(const uint8_t *buf, size_t len, bool allow_classic, struct stun_msg *out);

/* Builder: start a message, add attributes, finish. Attribute values are
 * copied into `buf` as they are added; the builder never writes past `cap`. */
struct stun_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* first error, sticky: check once at the end */
	bool classic;
};

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
		      enum stun_class cls, const uint8_t txid[STUN_TXID_SIZE]);
/* Classic (RFC 3489) header: 16-byte transaction id, no cookie. */
void stun_writer_init_classic(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
			      enum stun_class cls, const uint8_t txid16[16]);
void stun_put_raw(struct stun_writer *w, uint16_t type, const void *value, uint16_t len);
void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v);
void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v);
/* MAPPED-ADDRESS style (also RESPONSE-ORIGIN, OTHER-ADDRESS, CHANGED-ADDRESS,
 * SOURCE-ADDRESS), family 0x01 or 0x02 as the endpoint's (RFC 8489 14.1). */
void stun_put_address(struct stun_writer *w, uint16_t type, const struct p2p_endpoint *ep);
/* XOR-MAPPED-ADDRESS style (RFC 8489 14.2: XOR with the cookie; an IPv6
 * address with the cookie and the writer's transaction ID). A classic
 * (RFC 3489) writer refuses an IPv6 one (STUN_ERR_BAD_ATTRIBUTE). */
void stun_put_xor_address(struct stun_writer *w, uint16_t type, const struct p2p_endpoint *ep);
void stun_put_error(struct stun_writer *w, int code, const char *reason);
void stun_put_unknown(struct stun_writer *w, const uint16_t *types, size_t n);
void stun_put_string(struct stun_writer *w, uint16_t type, const char *s);
/* MESSAGE-INTEGRITY-SHA256 over the message so far (RFC 8489 14.6), key of any length. */
void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key, size_t key_len);

/* An HMAC-SHA256 key with its padded key blocks already hashed (RFC 2104
 * section 4 suggests it): two of the five SHA-256 blocks a connectivity
 * check's HMAC costs, saved for a key that signs or checks many messages. */
struct stun_integrity_key {
	struct hmac_sha256_key hmac; /* p2p/hmac.h */
};
void stun_integrity_key_init(struct stun_integrity_key *k, const uint8_t *key, size_t key_len);
void stun_put_integrity_sha256_key(struct stun_writer *w, const struct stun_integrity_key *k);
/* FINGERPRINT (RFC 8489 14.7): must be the last attribute. */
void stun_put_fingerprint(struct stun_writer *w);
/* Returns the message length (>0) or a negative enum stun_error. */
int stun_writer_finish(struct stun_writer *w);

/* Getters. Return STUN_OK, STUN_ERR_NOT_FOUND, or STUN_ERR_BAD_ATTRIBUTE. */
const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type);
/* An address attribute of either family: 0x01 (IPv4, 8 bytes) or 0x02
 * (IPv6, 20 bytes; RFC 8489 14.1-14.2, the XOR form XORed with the magic
 * cookie and the transaction ID). Any other family or length, or an IPv6
 * XOR form in a classic (RFC 3489) message, is STUN_ERR_BAD_ATTRIBUTE. */
int stun_get_address(const struct stun_msg *m, uint16_t type, struct p2p_endpoint *out);
int stun_get_xor_address(const struct stun_msg *m, uint16_t type, struct p2p_endpoint *out);
/* The value of an address attribute alone (RFC 8489 14.1; with txid, the
 * 14.2 XOR form for a message with that transaction ID; NULL: plain), for
 * attributes of natsim's that carry one (NATSIM-CANDIDATE). encode writes 8
 * or 20 bytes and returns how many; decode refuses any other family or
 * length (STUN_ERR_BAD_ATTRIBUTE). */
size_t stun_address_encode(const struct p2p_endpoint *ep, const uint8_t *txid, uint8_t out[20]);
int stun_address_decode(const uint8_t *v, size_t len, const uint8_t *txid,
			struct p2p_endpoint *out);
int stun_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out);
int stun_get_u64(const struct stun_msg *m, uint16_t type, uint64_t *out);
int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *reason_len);
/* Copies a string attribute into out (NUL-terminated, truncated to size-1). */
int stun_get_string(const struct stun_msg *m, uint16_t type, char *out, size_t size);
/* Verifies MESSAGE-INTEGRITY-SHA256 of the decoded message `buf`. */
int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *buf, size_t len,
				const uint8_t *key, size_t key_len);
int stun_check_integrity_sha256_key(const struct stun_msg *m, const uint8_t *buf, size_t len,
				    const struct stun_integrity_key *k);

/* Human-readable names, for dissectors and traces ("Binding", "XOR-MAPPED-ADDRESS"). */
const char *stun_method_name(uint16_t method);
const char *stun_class_name(enum stun_class cls);
const char *stun_attr_name(uint16_t type);

/* One-line summary, e.g. "STUN Binding Success tx=1a2b3c4d xor-mapped=203.0.113.7:61000". */
int stun_summary(const uint8_t *buf, size_t len, char *out, size_t size);

#endif
