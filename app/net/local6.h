/*
 * local6.h - this machine's IPv6 addresses that may be host candidates
 * (RFC 8445 5.1.1.1), read from the kernel's address list as
 * /proc/net/if_inet6 shows it (`ip -6 addr` shows the same list).
 *
 * Why not getifaddrs(3) alone, as for IPv4: glibc's getifaddrs reads the
 * addresses over netlink but drops each one's flags (IFA_F_*), and the flags
 * are what say an address is tentative (duplicate address detection not
 * finished: RFC 4862 5.4, the kernel refuses to send from it) or deprecated
 * (its preferred lifetime is over: RFC 4862 5.5.4, new flows should not use
 * it). getifaddrs still says which interfaces are up.
 *
 * Left out, and why (net_addr6_usable says which rule an address falls to):
 *   - loopback ::1 unless asked: RFC 8445 5.1.1.1 ("MUST NOT be included");
 *   - link-local fe80::/10: meaningful only with a zone (the interface), and
 *     RFC 8445 5.1.1.1 leaves them out once a privacy address is gathered;
 *     a peer elsewhere never shares our link, and natsim models no scope;
 *   - site-local fec0::/10 (deprecated, RFC 3879) and IPv4-compatible
 *     ::a.b.c.d (deprecated, RFC 4291 2.5.5.1): RFC 8445 5.1.1.1 MUST NOT;
 *   - IPv4-mapped ::ffff:a.b.c.d: RFC 8445 5.1.1.1 SHOULD NOT (the IPv4
 *     socket has that address already); multicast and :: are no interface's;
 *   - tentative (not optimistic: RFC 4429 lets an optimistic address be
 *     used during DAD), DAD failed, deprecated: as above.
 * Unique local addresses (fc00::/7) are kept: two peers in one site meet
 * through them directly, and RFC 6724 only ranks them below global ones.
 */
#ifndef NATSIM_APP_NET_LOCAL6_H
#define NATSIM_APP_NET_LOCAL6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The kernel's address flags (include/uapi/linux/if_addr.h), as the fifth
 * column of /proc/net/if_inet6 prints their low byte (if6_seq_show). */
#define NET_IFA_F_OPTIMISTIC 0x04u
#define NET_IFA_F_DADFAILED 0x08u
#define NET_IFA_F_DEPRECATED 0x20u
#define NET_IFA_F_TENTATIVE 0x40u

/* Why an address is or is not a host candidate. */
enum net_addr6_use {
	NET_ADDR6_USABLE = 0,
	NET_ADDR6_UNSPECIFIED, /* :: */
	NET_ADDR6_LOOPBACK,
	NET_ADDR6_LINK_LOCAL,
	NET_ADDR6_SITE_LOCAL,
	NET_ADDR6_MULTICAST,
	NET_ADDR6_V4_MAPPED,	 /* ::ffff:a.b.c.d */
	NET_ADDR6_V4_COMPATIBLE, /* ::a.b.c.d */
	NET_ADDR6_TENTATIVE,
	NET_ADDR6_DAD_FAILED,
	NET_ADDR6_DEPRECATED,
};

/* Which rule `addr` (network order, 16 bytes) with kernel flags `flags`
 * falls to; loopback is usable only if include_loopback. */
enum net_addr6_use net_addr6_usable(const uint8_t addr[16], unsigned flags, bool include_loopback);

/* "link-local (fe80::/10)", "deprecated", ...: for messages and docs. */
const char *net_addr6_use_str(enum net_addr6_use use);

/* The usable addresses of a table in /proc/net/if_inet6's format, in its
 * order, at most max into out; is_up(ifname, ctx) (NULL: every interface)
 * leaves out those of interfaces that are down. Returns how many. */
size_t net_local_addresses6_from(FILE *table, uint8_t (*out)[16], size_t max, bool include_loopback,
				 bool (*is_up)(const char *ifname, void *ctx), void *ctx);

/* The same for this machine (/proc/net/if_inet6, interfaces up per
 * getifaddrs). -1 if the table cannot be read (no IPv6 here). */
int net_local_addresses6(uint8_t (*out)[16], size_t max, bool include_loopback);

#endif
