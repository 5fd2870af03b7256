/*
 * pcp.c - the words for a NAT's port-mapping server (model/pcp_server.h):
 * what a PCP or NAT-PMP request asked, what the server decided and why,
 * read from the struct trace_pcp a mapping record carries.
 */
#include <stdio.h>

#include "explain/explain.h"

static const char *protocol_word(uint8_t protocol)
{
	return protocol == NAT_ORIGIN_NATPMP ? "NAT-PMP" : "PCP";
}

static const char *proto_word(uint8_t proto)
{
	return proto == 6 ? "TCP" : proto == 17 ? "UDP" : "any protocol";
}

/* Why a refusal, in a student's words, with the RFC that asks for it. */
static const char *refusal_reason(enum pcp_decision d)
{
	switch (d) {
	case PCP_DECISION_UNSUPP_VERSION:
		return "it does not speak that version (RFC 6887 section 9)";
	case PCP_DECISION_MALFORMED:
		return "the request is malformed (RFC 6887 section 8.3)";
	case PCP_DECISION_ADDRESS_MISMATCH:
		return "the client address inside the request is not the packet's source, "
		       "so a NAT sits between them (RFC 6887 section 8.3)";
	case PCP_DECISION_UNSUPP_OPCODE:
		return "it does not serve that opcode";
	case PCP_DECISION_UNSUPP_PROTOCOL:
		return "it maps only UDP and TCP";
	case PCP_DECISION_NONCE_MISMATCH:
		return "the mapping belongs to a request with another nonce, and only its "
		       "owner may renew or delete it (RFC 6887 section 11.3)";
	case PCP_DECISION_NOT_OWNER:
		return "the port is taken by a port forward or by a mapping made with the "
		       "other protocol";
	case PCP_DECISION_NO_RESOURCES:
		return "no external port is left";
	case PCP_DECISION_UNSUPP_OPTION:
		return "it carries a mandatory option this server does not support "
		       "(RFC 6887 section 7.3)";
	case PCP_DECISION_MALFORMED_OPTION:
		return "an option runs past the end of the message";
	case PCP_DECISION_NOT_AUTHORIZED:
		return "natsim's server maps one port at a time, never \"all ports\"";
	default:
		return "it was refused";
	}
}

static int said_refusal(const struct trace_mapping *m, char *out, size_t size)
{
	const struct trace_pcp *f = &m->pcp;
	enum pcp_decision d = (enum pcp_decision)f->decision;
	char client[24];

	endpoint_format(&f->client, client, sizeof(client));
	if (d == PCP_DECISION_IGNORED)
		return snprintf(out, size,
				"port-mapping server ignored a message from %s: too short to "
				"read, or a response, which a server never answers "
				"(RFC 6887 section 8.3)",
				client);
	if (d == PCP_DECISION_NOTHING_TO_DELETE)
		return snprintf(out, size,
				"%s request from %s to delete %s port %u: no explicit mapping "
				"to delete (answered success)",
				protocol_word(f->protocol), client, proto_word(m->proto),
				(unsigned)f->internal_port);
	return snprintf(out, size, "%s request from %s refused (result %u): %s",
			protocol_word(f->protocol), client, (unsigned)f->result, refusal_reason(d));
}

int explain_port_mapping(const struct trace_mapping *m, char *out, size_t size)
{
	const struct trace_pcp *f = &m->pcp;
	char in[24], ex[24];
	const char *what;

	if (m->event == TRACE_MAP_REFUSED)
		return said_refusal(m, out, size);
	endpoint_format(&m->internal, in, sizeof(in));
	endpoint_format(&m->external, ex, sizeof(ex));
	if (m->event == TRACE_MAP_EXPIRED) /* no request made it: the origin says whose */
		return snprintf(out, size,
				"%s mapping %s %s \u2192 %s expired: the lifetime it was "
				"granted ran out with no renewal",
				protocol_word(m->origin), proto_word(m->proto), in, ex);
	if (m->event == TRACE_MAP_DELETED)
		return snprintf(out, size,
				"%s mapping %s %s \u2192 %s deleted by its owner "
				"(lifetime 0)",
				protocol_word(f->protocol), proto_word(m->proto), in, ex);
	if (m->event == TRACE_MAP_CREATED)
		what = "new mapping";
	else if (f->decision == PCP_DECISION_CREATED)
		what = "made the host's existing mapping explicit, keeping its port:";
	else
		what = "renewed mapping";
	return snprintf(out, size,
			"%s %s %s %s \u2192 %s for %u s (asked %u s, at most %u s); it admits "
			"anyone; epoch %u s",
			protocol_word(f->protocol), what, proto_word(m->proto), in, ex,
			(unsigned)f->lifetime, (unsigned)f->requested_lifetime,
			(unsigned)f->max_lifetime, (unsigned)f->epoch);
}

int explain_explicit_filter(uint8_t origin, char *out, size_t size)
{
	return snprintf(out, size, "accepts anyone (%s mapping)", protocol_word(origin));
}
