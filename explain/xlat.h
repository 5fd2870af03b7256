/*
 * xlat.h - the translators' refusals in words: why RFC 7915 translation
 * (model/xlat.h) failed, and why a router's NPTv6 or NAT64 dropped a
 * packet (NODE_PATH_XLAT, whose facts carry enum xlat_refusal). The models
 * return the codes (sim/verdict.h); only these words are made here.
 */
#ifndef NATSIM_EXPLAIN_XLAT_H
#define NATSIM_EXPLAIN_XLAT_H

#include "sim/verdict.h"

/* "an ICMP type or code with no counterpart in the other family (RFC 7915:
 * dropped silently)", "ok", ... */
const char *explain_xlat_result(enum xlat_result r);

/* The phrase explain/ puts after "<node> dropped <flow>: ", as it does the
 * parser's reason for a malformed packet: "its NAT64 holds no binding for
 * that pool address and port (RFC 6146 3.5.1)". `result` is read only for
 * XLAT_REFUSED_UNTRANSLATABLE. */
const char *explain_xlat_refusal(enum xlat_refusal why, enum xlat_result result);

#endif
