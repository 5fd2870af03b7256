/*
 * discovery.c - NAT behaviour discovery (RFC 5780 sections 4.3 and 4.4), sans-I/O.
 *
 * One transaction at a time, in this order:
 *   MAP1     test I: Binding to the primary endpoint (mapped address, OTHER-ADDRESS)
 *   FILTER2  filtering test II: CHANGE-REQUEST ip+port
 *   FILTER3  filtering test III: CHANGE-REQUEST port
 *   MAP2     mapping test II: Binding to (alternate ip, primary port)
 *   MAP3     mapping test III: Binding to (alternate ip, alternate port)
 * The filtering tests run before mapping tests II and III on purpose: once we
 * have sent to the alternate address, an address-dependent filter would let the
 * changed-address answer in and the NAT would look endpoint-independent.
 */
#include "discovery.h"

#include "stun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCOVERY_DEFAULT_RTO (500 * P2P_NS_PER_MS)
#define DISCOVERY_DEFAULT_TRIES 3
/* Requests are padded (RFC 5780 7.6, PADDING) to at least the size of a full
 * answer, so a server that never amplifies (stunsrv.h) still answers in full. */
#define DISCOVERY_REQUEST_SIZE 100

enum step { STEP_IDLE, STEP_MAP1, STEP_FILTER2, STEP_FILTER3, STEP_MAP2, STEP_MAP3, STEP_DONE };

struct discovery {
	struct discovery_config cfg;
	enum step step;
	uint8_t txid[STEP_DONE][STUN_TXID_SIZE];
	unsigned tries;
	uint64_t deadline;
	bool have_out;
	struct p2p_datagram out;
	bool unpadded;               /* the server refused PADDING: classic requests */
	struct p2p_endpoint other;   /* OTHER-ADDRESS (or CHANGED-ADDRESS) from test I */
	struct p2p_endpoint mapped2; /* from mapping test II */
	struct discovery_result result;
	char error[160];  /* result.error points here: valid until discovery_free() */
	uint32_t counter; /* transaction ids when no random source is given */
};

struct discovery *discovery_new(const struct discovery_config *cfg)
{
	struct discovery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	if (d->cfg.rto_ns == 0)
		d->cfg.rto_ns = DISCOVERY_DEFAULT_RTO;
	if (d->cfg.max_tries == 0)
		d->cfg.max_tries = DISCOVERY_DEFAULT_TRIES;
	d->result.classic_name = "unknown";
	return d;
}

void discovery_free(struct discovery *d)
{
	free(d);
}

const char *discovery_behaviour_name(enum discovery_behaviour b)
{
	switch (b) {
	case DISCOVERY_ENDPOINT_INDEPENDENT:
		return "endpoint-independent";
	case DISCOVERY_ADDRESS_DEPENDENT:
		return "address-dependent";
	case DISCOVERY_ADDRESS_AND_PORT_DEPENDENT:
		return "address-and-port-dependent";
	default:
		return "unknown";
	}
}

static void new_txid(struct discovery *d, uint8_t txid[STUN_TXID_SIZE])
{
	/* RFC 8489 6: transaction ids are random; with no source, a counter keeps
	 * them at least distinct. */
	if (d->cfg.random.fill != NULL) {
		d->cfg.random.fill(d->cfg.random.ctx, txid, STUN_TXID_SIZE);
		return;
	}
	memset(txid, 0, STUN_TXID_SIZE);
	d->counter++;
	memcpy(txid, &d->counter, sizeof(d->counter));
}

static void step_target(const struct discovery *d, struct p2p_endpoint *to, uint32_t *change)
{
	*to = d->cfg.server;
	*change = 0;
	switch (d->step) {
	case STEP_FILTER2:
		*change = STUN_CHANGE_IP | STUN_CHANGE_PORT; /* RFC 5780 4.4 test II */
		break;
	case STEP_FILTER3:
		*change = STUN_CHANGE_PORT; /* RFC 5780 4.4 test III */
		break;
	case STEP_MAP2:
		to->ip = d->other.ip; /* RFC 5780 4.3 test II: alternate ip, primary port */
		break;
	case STEP_MAP3:
		*to = d->other; /* RFC 5780 4.3 test III: alternate ip and port */
		break;
	default:
		break;
	}
}

/* Queues the current step's request (the same bytes on every retransmission:
 * RFC 8489 6.2.1 keeps the transaction id). */
static void send_request(struct discovery *d)
{
	struct stun_writer w;
	uint32_t change;
	static const uint8_t zeros[DISCOVERY_REQUEST_SIZE];

	step_target(d, &d->out.to, &change);
	d->out.from = d->cfg.local;
	stun_writer_init(&w, d->out.buf, sizeof(d->out.buf), STUN_METHOD_BINDING,
			 STUN_CLASS_REQUEST, d->txid[d->step]);
	if (change != 0)
		stun_put_u32(&w, STUN_ATTR_CHANGE_REQUEST, change);
	/* PADDING so that header + attributes + FINGERPRINT make DISCOVERY_REQUEST_SIZE. */
	if (!d->unpadded)
		stun_put_raw(&w, STUN_ATTR_PADDING, zeros,
			     (uint16_t)(DISCOVERY_REQUEST_SIZE - w.len - 4 - 8));
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	d->out.len = n > 0 ? (size_t)n : 0;
	d->have_out = n > 0;
}

static void begin_step(struct discovery *d, enum step step, uint64_t now_ns)
{
	d->step = step;
	d->tries = 1;
	d->deadline = now_ns + d->cfg.rto_ns;
	new_txid(d, d->txid[step]);
	send_request(d);
}

static const char *classic_name(const struct discovery_result *r)
{
	if (!r->behind_nat)
		return r->filtering == DISCOVERY_ENDPOINT_INDEPENDENT ? "open" : "firewall";
	if (r->mapping != DISCOVERY_ENDPOINT_INDEPENDENT)
		return "symmetric";
	switch (r->filtering) {
	case DISCOVERY_ENDPOINT_INDEPENDENT:
		return "full-cone";
	case DISCOVERY_ADDRESS_DEPENDENT:
		return "restricted-cone";
	case DISCOVERY_ADDRESS_AND_PORT_DEPENDENT:
		return "port-restricted-cone";
	default:
		return "unknown";
	}
}

static void finish_ok(struct discovery *d)
{
	d->step = STEP_DONE;
	d->have_out = false;
	d->result.ok = true;
	d->result.error = NULL;
	d->result.classic_name = classic_name(&d->result);
}

/* Ends with ok=false and the sentence "<before><endpoint><after>". */
static void fail(struct discovery *d, const char *before, const struct p2p_endpoint *ep,
		 const char *after)
{
	char s[P2P_ENDPOINT_STRLEN];

	snprintf(d->error, sizeof(d->error), "%s%s%s", before,
		 p2p_endpoint_format(ep, s, sizeof(s)), after);
	d->step = STEP_DONE;
	d->have_out = false;
	d->result.ok = false;
	d->result.error = d->error;
	d->result.classic_name = "unknown";
}

/* After the filtering tests: mapping tests II and III only matter behind a NAT
 * (RFC 5780 4.3: mapped == local means no NAT, so mapping is endpoint-independent). */
static void after_filtering(struct discovery *d, uint64_t now_ns)
{
	if (!d->result.behind_nat) {
		d->result.mapping = DISCOVERY_ENDPOINT_INDEPENDENT;
		finish_ok(d);
		return;
	}
	begin_step(d, STEP_MAP2, now_ns);
}

static int mapped_of(const struct stun_msg *m, struct p2p_endpoint *out)
{
	/* RFC 8489 14.2; fall back on RFC 3489's MAPPED-ADDRESS. */
	if (stun_get_xor_address(m, STUN_ATTR_XOR_MAPPED_ADDRESS, out) == STUN_OK)
		return STUN_OK;
	return stun_get_address(m, STUN_ATTR_MAPPED_ADDRESS, out);
}

static void on_test1(struct discovery *d, const struct stun_msg *m, uint64_t now_ns)
{
	struct discovery_result *r = &d->result;

	if (mapped_of(m, &r->mapped) != STUN_OK) {
		fail(d, "the coordinator at ", &d->cfg.server, " sent no usable mapped address");
		return;
	}
	/* RFC 5780 4.2: without OTHER-ADDRESS the server cannot do behaviour
	 * discovery. An RFC 3489 server (stund) names its alternate in
	 * CHANGED-ADDRESS instead, which RFC 5780 7.3 says OTHER-ADDRESS
	 * replaces: accept either. */
	if (stun_get_address(m, STUN_ATTR_OTHER_ADDRESS, &d->other) != STUN_OK &&
	    stun_get_address(m, STUN_ATTR_CHANGED_ADDRESS, &d->other) != STUN_OK) {
		fail(d, "the coordinator at ", &d->cfg.server,
		     " has no alternate address (no OTHER-ADDRESS), so the NAT's behaviour cannot "
		     "be discovered");
		return;
	}
	r->behind_nat = !p2p_endpoint_equal(&r->mapped, &d->cfg.local);
	begin_step(d, STEP_FILTER2, now_ns);
}

static void on_success(struct discovery *d, const struct stun_msg *m, uint64_t now_ns)
{
	struct p2p_endpoint mapped;

	switch (d->step) {
	case STEP_MAP1:
		on_test1(d, m, now_ns);
		return;
	case STEP_FILTER2: /* RFC 5780 4.4: an answer to test II means endpoint-independent */
		d->result.filtering = DISCOVERY_ENDPOINT_INDEPENDENT;
		after_filtering(d, now_ns);
		return;
	case STEP_FILTER3: /* ... to test III (and not II), address-dependent */
		d->result.filtering = DISCOVERY_ADDRESS_DEPENDENT;
		after_filtering(d, now_ns);
		return;
	default:
		break;
	}
	if (mapped_of(m, &mapped) != STUN_OK) {
		fail(d, "the coordinator at ", &d->out.to, " sent no usable mapped address");
		return;
	}
	if (d->step == STEP_MAP2) {
		/* RFC 5780 4.3: same mapping as test I means endpoint-independent. */
		d->mapped2 = mapped;
		if (p2p_endpoint_equal(&mapped, &d->result.mapped)) {
			d->result.mapping = DISCOVERY_ENDPOINT_INDEPENDENT;
			finish_ok(d);
		} else {
			begin_step(d, STEP_MAP3, now_ns);
		}
		return;
	}
	/* Test III: same as test II means address-dependent, else address-and-port. */
	d->result.mapping = p2p_endpoint_equal(&mapped, &d->mapped2)
				? DISCOVERY_ADDRESS_DEPENDENT
				: DISCOVERY_ADDRESS_AND_PORT_DEPENDENT;
	finish_ok(d);
}

/* Test I failed with PADDING: RFC 3489 servers such as stund drop (or
 * refuse with 420) a request carrying an attribute they do not know, and
 * PADDING is comprehension-required. Try once more without it; a server
 * that never amplifies may then answer with less, which is all test I and
 * the filtering tests need. */
static bool retry_unpadded(struct discovery *d, uint64_t now_ns)
{
	if (d->unpadded || d->step != STEP_MAP1)
		return false;
	d->unpadded = true;
	begin_step(d, STEP_MAP1, now_ns);
	return true;
}

static void on_timeout(struct discovery *d, uint64_t now_ns)
{
	switch (d->step) {
	case STEP_MAP1:
		if (!retry_unpadded(d, now_ns))
			fail(d, "no answer from the coordinator at ", &d->cfg.server, "");
		break;
	case STEP_FILTER2: /* RFC 5780 4.4: no answer to test II, so try test III */
		begin_step(d, STEP_FILTER3, now_ns);
		break;
	case STEP_FILTER3: /* no answer to either: address-and-port-dependent filtering */
		d->result.filtering = DISCOVERY_ADDRESS_AND_PORT_DEPENDENT;
		after_filtering(d, now_ns);
		break;
	default:
		fail(d, "no answer from the coordinator's alternate address ", &d->out.to, "");
		break;
	}
}

void discovery_start(struct discovery *d, uint64_t now_ns)
{
	memset(&d->result, 0, sizeof(d->result));
	d->unpadded = false;
	d->result.classic_name = "unknown";
	begin_step(d, STEP_MAP1, now_ns);
}

bool discovery_input(struct discovery *d, uint64_t now_ns, const struct p2p_endpoint *from,
		     const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	int code = 0;

	(void)from; /* filtering answers come from the alternate endpoints: match by txid */
	if (stun_decode(buf, len, false, &m) != STUN_OK || m.method != STUN_METHOD_BINDING ||
	    (m.cls != STUN_CLASS_SUCCESS && m.cls != STUN_CLASS_ERROR))
		return false;
	bool ours = false;
	for (int s = STEP_MAP1; s < STEP_DONE; s++)
		ours = ours || memcmp(m.txid, d->txid[s], STUN_TXID_SIZE) == 0;
	if (!ours)
		return false;
	if (d->step == STEP_IDLE || d->step == STEP_DONE ||
	    memcmp(m.txid, d->txid[d->step], STUN_TXID_SIZE) != 0)
		return true; /* a late duplicate of a finished transaction */
	if (m.cls == STUN_CLASS_ERROR) {
		char what[64];
		(void)stun_get_error(&m, &code, NULL, NULL);
		if (code == 420 && retry_unpadded(d, now_ns))
			return true;
		snprintf(what, sizeof(what), " answered a discovery test with error %d", code);
		fail(d, "the coordinator at ", &d->out.to, what);
		return true;
	}
	on_success(d, &m, now_ns);
	return true;
}

void discovery_tick(struct discovery *d, uint64_t now_ns)
{
	if (d->step == STEP_IDLE || d->step == STEP_DONE || now_ns < d->deadline)
		return;
	if (d->tries < d->cfg.max_tries) {
		/* Fixed interval rather than RFC 8489 6.2.1's doubling: discovery is
		 * short and the header promises retransmission "at rto_ns". */
		d->tries++;
		d->deadline = now_ns + d->cfg.rto_ns;
		send_request(d);
		return;
	}
	on_timeout(d, now_ns);
}

uint64_t discovery_next_deadline(const struct discovery *d)
{
	if (d->step == STEP_IDLE || d->step == STEP_DONE)
		return P2P_NO_DEADLINE;
	return d->deadline;
}

bool discovery_pop_datagram(struct discovery *d, struct p2p_datagram *out)
{
	if (!d->have_out)
		return false;
	*out = d->out;
	d->have_out = false;
	return true;
}

bool discovery_result(const struct discovery *d, struct discovery_result *out)
{
	if (d->step != STEP_DONE)
		return false;
	*out = d->result;
	return true;
}
