/*
 * fuzz_nat.c - libFuzzer target: the NAT and conntrack on any bytes
 * (model/nat.c, model/conntrack.c), ICMP above all (RFC 5508).
 *
 * A NAT holds a UDP mapping (192.168.1.5:5000 -> 203.0.113.7:5000, sent to
 * 192.0.2.1:3478), an echo mapping (id 77), a TCP connection in SYN_SENT
 * (192.168.1.5:40000 -> 192.0.2.1:80) and port forwards (UDP 8080 to
 * 192.168.1.5:6000, TCP 2222 to 192.168.1.5:22); a conntrack table holds
 * the same flows. A TCP segment's verdict from conntrack_classify (which
 * runs the state machine and tcp_in_window on a copy) must agree with what
 * conntrack_seen_tcp then does to the entry itself. The bytes are a
 * packet reaching the NAT: conntrack classifies it, and every translation
 * the NAT offers is tried on a copy - outbound, inbound, and the error
 * translations with conntrack's word and without. Whatever the NAT
 * translates must still parse, checksums included (an error's quote too):
 * a NAT that writes bytes it cannot read again is a bug.
 */
#include <stdlib.h>
#include <string.h>

#include "model/conntrack.h"
#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUB 0xCB007107u	   /* 203.0.113.7 */
#define ALICE 0xC0A80105u  /* 192.168.1.5 */
#define SERVER 0xC0000201u /* 192.0.2.1 */

struct rig {
	struct engine *e;
	struct nat *nat;
	struct conntrack *ct;
};

/* Send one packet out through the NAT and confirm its flow in conntrack,
 * as a router's POSTROUTING does. */
static void rig_out(struct rig *r, uint8_t *buf, size_t len)
{
	struct packet_info info;
	struct conntrack_tuple orig, fin, reply;
	struct nat_result res;

	if (packet_parse(buf, len, &info, NULL, 0) != PACKET_OK)
		abort();
	conntrack_tuple_of(&info, &orig);
	nat_translate_outbound(r->nat, buf, len, &info, &res);
	if (res.verdict != NAT_VERDICT_TRANSLATED ||
	    packet_parse(buf, len, &info, NULL, 0) != PACKET_OK)
		abort();
	conntrack_tuple_of(&info, &fin);
	conntrack_tuple_invert(&fin, &reply);
	struct conntrack_entry *e = conntrack_create(r->ct, &orig, &reply);
	if (e != NULL && info.proto == IPPROTO_NUM_TCP &&
	    conntrack_seen_tcp(r->ct, e, CONNTRACK_DIR_ORIGINAL, &info) != CONNTRACK_TCP_TRACKED)
		abort();
}

static int rig_open(struct rig *r)
{
	struct nat_config cfg;
	struct endpoint alice = {ALICE, 5000}, server = {SERVER, 3478}, srv6 = {ALICE, 6000};
	uint8_t buf[128];
	size_t len;

	r->e = engine_new();
	nat_config_default(&cfg);
	cfg.n_public = 1;
	cfg.public_ip[0] = PUB;
	r->nat = r->e != NULL ? nat_new(r->e, "fuzz", &cfg, NULL) : NULL;
	r->ct = r->e != NULL ? conntrack_new(r->e, "fuzz", NULL) : NULL;
	if (r->nat == NULL || r->ct == NULL)
		return -1;
	len = packet_build_udp(buf, sizeof(buf), &alice, &server, 64, 1, "x", 1);
	rig_out(r, buf, len);
	len = packet_build_icmp_echo(buf, sizeof(buf), ALICE, SERVER, 64, 2, ICMP_ECHO_REQUEST, 77,
				     1, NULL, 8);
	rig_out(r, buf, len);
	struct endpoint a40000 = {ALICE, 40000}, web = {SERVER, 80}, ssh = {ALICE, 22};
	struct tcp_options opt;
	tcp_options_linux_syn(&opt, 1);
	len = packet_build_tcp(
	    buf, sizeof(buf), &a40000, &web, 64, 3,
	    &(struct tcp_segment){.flags = TCP_SYN, .seq = 1000, .window = 64240, .opt = &opt});
	rig_out(r, buf, len);
	if (nat_add_forward(r->nat, IPPROTO_NUM_TCP, 2222, &ssh) < 0)
		return -1;
	return nat_add_forward(r->nat, IPPROTO_NUM_UDP, 8080, &srv6);
}

static void rig_close(struct rig *r)
{
	nat_free(r->nat);
	conntrack_free(r->ct);
	engine_free(r->e);
}

/* One translation on a fresh copy; translated bytes must parse. */
static void try_one(struct rig *r, const uint8_t *data, size_t size, int how, bool related)
{
	uint8_t *copy = malloc(size);
	struct packet_info info, after;
	struct nat_result res;

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	if (packet_parse(copy, size, &info, NULL, 0) != PACKET_OK)
		abort();
	if (how == 0)
		nat_translate_outbound(r->nat, copy, size, &info, &res);
	else if (how == 1)
		nat_translate_inbound(r->nat, copy, size, &info, &res);
	else if (how == 2 && info.icmp_error)
		nat_translate_error_outbound(r->nat, copy, size, &info, related, &res);
	else if (how == 3 && info.icmp_error)
		nat_translate_error_inbound(r->nat, copy, size, &info, related, &res);
	else
		res.verdict = NAT_VERDICT_DROP;
	if (res.verdict == NAT_VERDICT_TRANSLATED &&
	    packet_parse(copy, size, &after, NULL, 0) != PACKET_OK)
		abort();
	if (res.verdict == NAT_VERDICT_TRANSLATED && info.icmp_error && res.inner_translated &&
	    after.inner.ip_sum_ok != info.inner.ip_sum_ok)
		abort(); /* a right inner sum stays right, a wrong one stays wrong */
	free(copy);
}

/* The NAT sees only packets that parse; most mutated bytes would not, for
 * their checksums. So the bytes are tried twice: as they are, and with the
 * outer sums made right (packet_fill_checksums), which lets the fuzzer
 * reach the translations with any header, inner or outer. */
static void fuzz_one(const uint8_t *data, size_t size)
{
	struct packet_info info;
	struct conntrack_entry *entry;
	enum conntrack_dir dir;
	struct rig r;

	if (packet_parse(data, size, &info, NULL, 0) != PACKET_OK)
		return;
	if (rig_open(&r) == 0) {
		enum conntrack_state st = conntrack_classify(r.ct, &info, &entry, &dir);
		if ((st == CONNTRACK_RELATED) != (entry != NULL && info.icmp_error))
			abort();
		/* classify's verdict on a copy is what the entry then does */
		if (info.proto == IPPROTO_NUM_TCP && entry != NULL &&
		    !conntrack_tcp_reopens(entry, dir, &info)) {
			enum conntrack_tcp_verdict v = conntrack_seen_tcp(r.ct, entry, dir, &info);
			if ((st == CONNTRACK_INVALID) != (v == CONNTRACK_TCP_INVALID))
				abort();
		}
		for (int how = 0; how < 4; how++)
			try_one(&r, data, size, how, st == CONNTRACK_RELATED);
	}
	rig_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	fuzz_one(data, size);
	fixed = malloc(size);
	if (fixed == NULL)
		return 0;
	memcpy(fixed, data, size);
	packet_fill_checksums(fixed, size);
	fuzz_one(fixed, size);
	free(fixed);
	return 0;
}
