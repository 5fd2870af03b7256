/*
 * filter6.c - PLACEHOLDER until the v6ct branch lands (docs/ipv6.md steps
 * 3-4): accepts every packet without tracking it. Only the interface in
 * filter6.h is settled.
 */
#include "model/filter6.h"

#include <stdlib.h>

struct filter6 {
	struct firewall *fw;
};

struct filter6 *filter6_new(struct engine *e, const char *node_name)
{
	struct filter6 *f = calloc(1, sizeof(*f));

	(void)e;
	if (f == NULL)
		return NULL;
	f->fw = firewall_new(node_name);
	if (f->fw == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

void filter6_free(struct filter6 *f)
{
	if (f == NULL)
		return;
	firewall_free(f->fw);
	free(f);
}

struct firewall *filter6_firewall(struct filter6 *f)
{
	return f->fw;
}

bool filter6_packet(struct filter6 *f, enum fw_chain chain, const struct packet6_info *info,
		    size_t len, struct fw_verdict *out)
{
	(void)info;
	(void)len;
	*out = (struct fw_verdict){.action = firewall_policy(f->fw, chain),
				   .reason = FW_REASON_POLICY,
				   .chain = chain,
				   .rule = -1,
				   .state = CONNTRACK_NEW};
	return out->action == FW_ACCEPT;
}

int filter6_make_rfc6092(struct filter6 *f, const struct ip6_addr *inside, uint8_t len,
			 enum nat_behaviour filtering, bool reject)
{
	(void)inside;
	(void)len;
	(void)filtering;
	(void)reject;
	firewall_set_policy(f->fw, FW_CHAIN_FORWARD, FW_DROP);
	return 0;
}

int filter6_make_stateful_host(struct filter6 *f)
{
	firewall_set_policy(f->fw, FW_CHAIN_INPUT, FW_DROP);
	return 0;
}
