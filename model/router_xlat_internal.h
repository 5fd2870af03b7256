/*
 * router_xlat_internal.h - the hooks model/router.c and model/router6.c
 * call (model/router_xlat.c implements them), private to model/. Each is
 * entered only on a router that has NPTv6 or a NAT64, so a router without
 * them runs exactly as before.
 */
#ifndef NATSIM_MODEL_ROUTER_XLAT_INTERNAL_H
#define NATSIM_MODEL_ROUTER_XLAT_INTERNAL_H

#include "model/packet.h"
#include "model/packet6.h"
#include "model/router_xlat.h"

struct router_xlat;

/* router6.c holds the state (in struct router6, freed with it). The slot,
 * or NULL where the router has no IPv6 side and `make` is false (or it
 * could not be made). */
struct router_xlat **router6_xlat_slot(struct router *r, bool make);
void router_xlat_free(struct router_xlat *x);

/* An IPv6 packet arrived (info: its parse): DNPT on the outside, or NAT64
 * for the prefix. True: the packet was taken (translated onward to IPv4,
 * or dropped); false: continue, with p and *info as they now are. */
bool router_xlat_prerouting6(struct router *r, struct router_xlat *x, struct iface *in,
			     struct packet *p, struct packet6_info *info);
/* An IPv6 packet about to leave by `out`: SNPT. True: dropped. */
bool router_xlat_postrouting6(struct router *r, struct router_xlat *x, struct iface *out,
			      struct packet *p);
/* An IPv4 packet for one of r's own addresses: NAT64 if it is a pool
 * address. True: taken (translated onward to IPv6, or dropped). */
bool router_xlat_receive4(struct router *r, struct iface *in, struct packet *p);

#endif
