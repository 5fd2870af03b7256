/*
 * local6.c - this machine's IPv6 host candidates (local6.h).
 *
 * /proc/net/if_inet6 (net/ipv6/addrconf.c, if6_seq_show) prints one line
 * per address: the address as 32 hex digits, the interface index, the
 * prefix length, the scope and the flags' low byte (each %02x), then the
 * interface name.
 */
#include "app/net/local6.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The address itself (RFC 4291 2.4, 2.5.5, RFC 3879). */
static enum net_addr6_use kind_of(const uint8_t a[16], bool include_loopback)
{
	if (a[0] == 0xff)
		return NET_ADDR6_MULTICAST;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return NET_ADDR6_LINK_LOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return NET_ADDR6_SITE_LOCAL;
	if (!all_zero(a, 10))
		return NET_ADDR6_USABLE;
	if (a[10] == 0xff && a[11] == 0xff)
		return NET_ADDR6_V4_MAPPED;
	if (a[10] != 0 || a[11] != 0)
		return NET_ADDR6_USABLE;
	if (all_zero(a + 12, 4))
		return NET_ADDR6_UNSPECIFIED;
	if (all_zero(a + 12, 3) && a[15] == 1)
		return include_loopback ? NET_ADDR6_USABLE : NET_ADDR6_LOOPBACK;
	return NET_ADDR6_V4_COMPATIBLE;
}

enum net_addr6_use net_addr6_usable(const uint8_t addr[16], unsigned flags, bool include_loopback)
{
	enum net_addr6_use use = kind_of(addr, include_loopback);
	if (use != NET_ADDR6_USABLE)
		return use;
	if (flags & NET_IFA_F_DADFAILED)
		return NET_ADDR6_DAD_FAILED;
	/* RFC 4429 3.1: an optimistic address may be used while DAD runs. */
	if ((flags & NET_IFA_F_TENTATIVE) && !(flags & NET_IFA_F_OPTIMISTIC))
		return NET_ADDR6_TENTATIVE;
	if (flags & NET_IFA_F_DEPRECATED)
		return NET_ADDR6_DEPRECATED;
	return NET_ADDR6_USABLE;
}

const char *net_addr6_use_str(enum net_addr6_use use)
{
	switch (use) {
	case NET_ADDR6_USABLE:
		return "usable";
	case NET_ADDR6_UNSPECIFIED:
		return "unspecified (::)";
	case NET_ADDR6_LOOPBACK:
		return "loopback (::1)";
	case NET_ADDR6_LINK_LOCAL:
		return "link-local (fe80::/10)";
	case NET_ADDR6_SITE_LOCAL:
		return "site-local (fec0::/10, deprecated by RFC 3879)";
	case NET_ADDR6_MULTICAST:
		return "multicast (ff00::/8)";
	case NET_ADDR6_V4_MAPPED:
		return "IPv4-mapped (::ffff:0:0/96)";
	case NET_ADDR6_V4_COMPATIBLE:
		return "IPv4-compatible (::/96, deprecated by RFC 4291)";
	case NET_ADDR6_TENTATIVE:
		return "tentative (duplicate address detection not finished)";
	case NET_ADDR6_DAD_FAILED:
		return "duplicate (duplicate address detection failed)";
	case NET_ADDR6_DEPRECATED:
		return "deprecated (preferred lifetime over)";
	}
	return "?";
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 32 hex digits into 16 bytes; -1 if it is not that. */
static int parse_hex_addr(const char *text, uint8_t out[16])
{
	if (strlen(text) != 32)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

size_t net_local_addresses6_from(FILE *table, uint8_t (*out)[16], size_t max, bool include_loopback,
				 bool (*is_up)(const char *ifname, void *ctx), void *ctx)
{
	char line[256], hex[40], ifname[IF_NAMESIZE + 1];
	unsigned ifindex, plen, scope, flags;
	size_t n = 0;

	while (n < max && fgets(line, sizeof(line), table) != NULL) {
		uint8_t addr[16];
		if (sscanf(line, "%39s %x %x %x %x %16s", hex, &ifindex, &plen, &scope, &flags,
			   ifname) != 6 ||
		    parse_hex_addr(hex, addr) < 0)
			continue;
		if (net_addr6_usable(addr, flags, include_loopback) != NET_ADDR6_USABLE)
			continue;
		if (is_up != NULL && !is_up(ifname, ctx))
			continue;
		memcpy(out[n++], addr, 16);
	}
	return n;
}

/* Whether interface `ifname` is up, from getifaddrs' list (ctx). */
static bool listed_up(const char *ifname, void *ctx)
{
	for (const struct ifaddrs *i = ctx; i != NULL; i = i->ifa_next)
		if (i->ifa_name != NULL && strcmp(i->ifa_name, ifname) == 0 &&
		    (i->ifa_flags & IFF_UP))
			return true;
	return false;
}

int net_local_addresses6(uint8_t (*out)[16], size_t max, bool include_loopback)
{
	struct ifaddrs *ifs = NULL;
	FILE *f = fopen("/proc/net/if_inet6", "r");
	if (f == NULL)
		return -1;
	if (getifaddrs(&ifs) < 0) {
		fclose(f);
		return -1;
	}
	size_t n = net_local_addresses6_from(f, out, max, include_loopback, listed_up, ifs);
	freeifaddrs(ifs);
	fclose(f);
	return (int)n;
}
