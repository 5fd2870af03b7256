/*
 * overrides.c - `--set NAME.KEY=VALUE`: change one setting of a parsed
 * scenario from the command line, read with the same value readers
 * (values.c) and the same messages as the file.
 */
#include "app/lang/scenario_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- --set */

static const char *const nat_keys[] = {
    "preset",
    "mapping",
    "filtering",
    "ports",
    "timeout",
    "hairpinning",
    "inbound-refresh",
    "pooling",
    "input",
    "forwards",
    "icmp-inner",
    "icmp-errors",
    "icmp-timeout",
    "tcp-established-timeout",
    "tcp-transitory-timeout",
    "tcp-unsolicited",
    "pcp",
    "nat-pmp",
    "firewall6",
    "filtering6",
    "reject6",
};
/* A home's IPv6 side (`ipv6 PREFIX`): on a `nat` line, keys 18-20 above;
 * on a `router` line, these alone. */
static const char *const v6side_keys[] = {"firewall6", "filtering6", "reject6"};
static const char *const host_keys[] = {
    "firewall", "keepalive", "host-candidates",	  "techniques",	      "probe-rate",
    "probes",	"sockets",   "prediction-window", "mapping-lifetime",
};
static const char *const internet_keys[] = {"latency", "jitter", "loss"};

/* Index of key in keys, or -1 with an "unknown key" message. */
static int override_key(const char *key, size_t klen, const char *const *keys, size_t n,
			const char *owner, char *msg)
{
	char list[400];
	int i = word_index(key, klen, keys, n);

	if (i >= 0)
		return i;
	join_names(keys, n, list, sizeof(list));
	snprintf(msg, MSG_SIZE, "unknown key '%s' for %s", show(key, klen).s, owner);
	add_suggestion(msg, key, klen, keys, n);
	size_t used = strlen(msg);
	snprintf(msg + used, MSG_SIZE - used, " (the keys are %s)", list);
	return -1;
}

/* `--set NAT.forwards=off`: the world without the NAT's port forwards (the
 * one way to show that a lesson's forward is what lets a packet in). */
static int override_forwards(struct scenario *s, const struct scenario_nat *n, const char *v,
			     size_t vlen, char *msg)
{
	static const char *const off[] = {"off"};
	int unused;
	size_t kept = 0;

	if (val_choice(v, vlen, off, 1, "'off'", &unused, msg) < 0)
		return -1;
	for (size_t i = 0; i < s->n_forwards; i++)
		if (strcmp(s->forwards[i].nat.name, n->name) != 0)
			s->forwards[kept++] = s->forwards[i];
	s->n_forwards = kept;
	return 0;
}

/* The RFC 5382 keys (13 and up in nat_keys), as the file writes them. */
static int override_nat_tcp(struct scenario_nat *n, int key, const char *v, size_t vlen, char *msg)
{
	int64_t timeout;

	if (key == 15)
		return val_choice(v, vlen, nat_tcp_unsolicited_words, 3, "'drop', 'rst' or 'icmp'",
				  &n->tcp_unsolicited, msg);
	if (val_setting(&scenario_tcp_timeout_setting, v, vlen, &timeout, msg) < 0)
		return -1;
	if (key == 13)
		n->tcp_established_timeout_ns = timeout;
	else
		n->tcp_transitory_timeout_ns = timeout;
	return 0;
}

/* firewall6, filtering6, reject6 (k 0-2) of a home's IPv6 side, as the
 * `nat` and `router` lines read them. */
static int override_v6side(struct scenario_v6side *side, const char *owner, int k, const char *v,
			   size_t vlen, char *msg)
{
	static const char *const fw6_words[] = {"off", "rfc6092"};

	if (!side->present) {
		snprintf(msg, MSG_SIZE,
			 "%s has no IPv6 side to change: its line gives no 'ipv6 PREFIX'", owner);
		return -1;
	}
	switch (k) {
	case 0:
		return val_choice(v, vlen, fw6_words, 2, "'rfc6092' or 'off'", &side->firewall,
				  msg);
	case 1:
		return val_behaviour(v, vlen, true, &side->filtering, msg);
	case 2:
		return val_on_off(v, vlen, &side->reject, msg);
	}
	return -1;
}

static int override_router(struct scenario_router *r, const char *key, size_t klen, const char *v,
			   size_t vlen, char *msg)
{
	char owner[96];

	snprintf(owner, sizeof(owner), "router '%s'", r->name);
	int k = override_key(key, klen, v6side_keys, COUNT(v6side_keys), owner, msg);
	return k < 0 ? -1 : override_v6side(&r->v6, owner, k, v, vlen, msg);
}

/* A NAT timeout (the UDP mapping's, k 4, or ICMP's, k 12). */
static int val_nat_timeout(const char *v, size_t vlen, int64_t *out, char *msg)
{
	int64_t timeout;

	if (val_setting(&scenario_nat_timeout_setting, v, vlen, &timeout, msg) < 0)
		return -1;
	*out = timeout;
	return 0;
}

/* preset, mapping, filtering, ports (k 0-3): how the NAT maps, each
 * remembered as given so the world builder lets it override the preset. */
static int override_nat_mapping(struct scenario_nat *n, int k, const char *v, size_t vlen,
				char *msg)
{
	int rc = -1;

	switch (k) {
	case 0:
		rc = val_preset(v, vlen, &n->preset, msg);
		/* A preset replaces the behaviour the file spelled out. */
		if (rc == 0)
			n->has_mapping = n->has_filtering = false;
		return rc;
	case 1:
		rc = val_behaviour(v, vlen, false, &n->mapping, msg);
		n->has_mapping |= rc == 0;
		return rc;
	case 2:
		rc = val_behaviour(v, vlen, true, &n->filtering, msg);
		n->has_filtering |= rc == 0;
		return rc;
	case 3:
		rc = val_ports(v, vlen, &n->ports, msg);
		n->has_ports |= rc == 0;
		return rc;
	}
	return -1;
}

static int override_nat(struct scenario *s, struct scenario_nat *n, const char *key, size_t klen,
			const char *v, size_t vlen, char *msg)
{
	char owner[96];

	snprintf(owner, sizeof(owner), "NAT '%s'", n->name);
	int k = override_key(key, klen, nat_keys, COUNT(nat_keys), owner, msg);
	if (k >= 18)
		return override_v6side(&n->v6, owner, k - 18, v, vlen, msg);
	if (k == 16) /* the port-mapping servers (model/pcp_server.h) */
		return val_on_off(v, vlen, &n->pcp, msg);
	if (k == 17)
		return val_on_off(v, vlen, &n->natpmp, msg);
	if (k >= 13)
		return override_nat_tcp(n, k, v, vlen, msg);
	switch (k) {
	case 0:
	case 1:
	case 2:
	case 3:
		return override_nat_mapping(n, k, v, vlen, msg);
	case 4:
		return val_nat_timeout(v, vlen, &n->timeout_ns, msg);
	case 5:
		return val_on_off(v, vlen, &n->hairpinning, msg);
	case 6:
		return val_on_off(v, vlen, &n->inbound_refresh, msg);
	case 7:
		return val_choice(v, vlen, nat_pooling_words, 2, "'paired' or 'arbitrary'",
				  &n->pooling, msg);
	case 8:
		return val_choice(v, vlen, nat_input_words, 2, "'drop' or 'accept'", &n->input,
				  msg);
	case 9:
		return override_forwards(s, n, v, vlen, msg);
	case 10:
		return val_on_off(v, vlen, &n->icmp_inner, msg);
	case 11:
		return val_on_off(v, vlen, &n->icmp_errors, msg);
	case 12:
		return val_nat_timeout(v, vlen, &n->icmp_timeout_ns, msg);
	}
	return -1;
}

static int override_host(struct scenario_host *h, const char *key, size_t klen, const char *v,
			 size_t vlen, char *msg)
{
	char owner[96];

	snprintf(owner, sizeof(owner), "host '%s'", h->name);
	switch (override_key(key, klen, host_keys, COUNT(host_keys), owner, msg)) {
	case 0:
		return val_on_off(v, vlen, &h->firewall, msg);
	case 1:
		return val_keepalive(v, vlen, &h->keepalive_ns, msg);
	case 2:
		return val_on_off(v, vlen, &h->host_candidates, msg);
	case 3:
		return val_techniques(v, vlen, &h->techniques, msg);
	case 4:
		return val_rate(v, vlen, 1, SCENARIO_PROBE_RATE_MAX, "a probe rate", &h->probe_rate,
				msg);
	case 5:
		return val_count(v, vlen, 1, SCENARIO_PROBES_MAX, "a number of probes", &h->probes,
				 msg);
	case 6:
		return val_count(v, vlen, 1, SCENARIO_SOCKETS_MAX, "a number of sockets",
				 &h->sockets, msg);
	case 7:
		return val_count(v, vlen, 1, SCENARIO_PREDICTION_WINDOW_MAX, "a prediction window",
				 &h->prediction_window, msg);
	case 8:
		return val_setting(&scenario_mapping_lifetime_setting, v, vlen,
				   &h->mapping_lifetime_ns, msg);
	}
	return -1;
}

static int override_internet(struct scenario_internet *in, const char *key, size_t klen,
			     const char *v, size_t vlen, char *msg)
{
	int rc = -1;

	switch (override_key(key, klen, internet_keys, COUNT(internet_keys), "'internet'", msg)) {
	case 0:
		rc = val_setting(&scenario_latency_setting, v, vlen, &in->latency_ns, msg);
		break;
	case 1:
		rc = val_setting(&scenario_jitter_setting, v, vlen, &in->jitter_ns, msg);
		break;
	case 2:
		rc = val_percent(v, vlen, &in->loss, msg);
		break;
	}
	in->present |= rc == 0;
	return rc;
}

static void unknown_override_name(const struct scenario *s, const char *name, size_t len, char *msg)
{
	size_t n = s->n_nats + s->n_hosts + 2, k = 0;
	const char **names = malloc(n * sizeof(*names));

	if (s->coordinator && word_is(name, len, s->coordinator->name)) {
		snprintf(msg, MSG_SIZE, "the coordinator '%s' has no settings --set can change",
			 s->coordinator->name);
		free(names);
		return;
	}
	snprintf(msg, MSG_SIZE,
		 "no NAT or host is named '%s' (expected NAME.KEY=VALUE with "
		 "the name of a NAT or host, 'internet', or seed=N)",
		 show(name, len).s);
	if (!names)
		return;
	for (size_t i = 0; i < s->n_nats; i++)
		names[k++] = s->nats[i].name;
	for (size_t i = 0; i < s->n_hosts; i++)
		names[k++] = s->hosts[i].name;
	names[k++] = "internet";
	names[k++] = "seed";
	const char *best = suggest_n(name, len, names, k);
	if (best)
		snprintf(msg, MSG_SIZE, "no NAT or host is named '%s'; did you mean '%s'?",
			 show(name, len).s, best);
	free(names);
}

static int override_apply(struct scenario *s, const char *arg, size_t klen, const char *v,
			  char *msg)
{
	size_t vlen = strlen(v);
	const char *dot = memchr(arg, '.', klen);

	if (word_is(arg, klen, "seed")) {
		if (val_u64(v, vlen, UINT64_MAX, "a seed", &s->seed, msg) < 0)
			return -1;
		s->has_seed = true;
		return 0;
	}
	if (!dot) {
		snprintf(msg, MSG_SIZE,
			 "expected NAME.KEY=VALUE (e.g. home.preset=symmetric) or "
			 "seed=N");
		return -1;
	}
	size_t nlen = (size_t)(dot - arg);
	const char *key = dot + 1;
	klen -= nlen + 1;
	if (word_is(arg, nlen, "internet"))
		return override_internet(&s->internet, key, klen, v, vlen, msg);
	for (size_t i = 0; i < s->n_nats; i++)
		if (word_is(arg, nlen, s->nats[i].name))
			return override_nat(s, &s->nats[i], key, klen, v, vlen, msg);
	for (size_t i = 0; i < s->n_hosts; i++)
		if (word_is(arg, nlen, s->hosts[i].name))
			return override_host(&s->hosts[i], key, klen, v, vlen, msg);
	for (size_t i = 0; i < s->n_routers; i++)
		if (word_is(arg, nlen, s->routers[i].name))
			return override_router(&s->routers[i], key, klen, v, vlen, msg);
	unknown_override_name(s, arg, nlen, msg);
	return -1;
}

int scenario_set_override(struct scenario *s, const char *name_dot_key_eq_value, struct diag *diags)
{
	const char *arg = name_dot_key_eq_value ? name_dot_key_eq_value : "";
	const char *eq = strchr(arg, '=');
	char msg[MSG_SIZE];

	if (!s)
		return -1;
	if (!eq)
		snprintf(msg, MSG_SIZE, "expected NAME.KEY=VALUE (e.g. home.preset=symmetric)");
	else if (override_apply(s, arg, (size_t)(eq - arg), eq + 1, msg) == 0)
		return 0;
	diag_add(diags, DIAG_ERROR, NULL, "--set '%s': %s", show(arg, strlen(arg)).s, msg);
	return -1;
}
