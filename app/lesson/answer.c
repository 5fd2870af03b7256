/*
 * answer.c - computing an exercise's answers by running its world (answer.h).
 */
#include "app/lesson/answer.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "model/packet.h"
#include "sim/trace_log.h"

static const char *const outcome_choices[] = {"direct", "relayed", "failed", "unconnected", NULL};
static const char *const classify_choices[] = {"full-cone", "restricted-cone",
					       "port-restricted-cone", "symmetric", NULL};
static const char *const yes_no[] = {"yes", "no", NULL};
static const char *const ct_states[] = {"none", "unreplied", "replied", "assured", NULL};
static const char *const axes_choices[] = {"EIM EIF",	"EIM ADF",  "EIM APDF", "ADM EIF",
					   "ADM ADF",	"ADM APDF", "APDM EIF", "APDM ADF",
					   "APDM APDF", NULL};
/* Every reason a packet of these worlds can die for (sim/trace.c's names),
 * offered alike whatever the answer, so the list gives nothing away. */
static const char *const drop_reasons[] = {
    "firewall", "nat-filter", "nat-no-mapping", "nat-exhausted", "hairpin", "no-route",
    "ttl",	"link-loss",  "link-down",	"no-socket",	 NULL};

const char *const *question_choices(enum question_kind k)
{
	switch (k) {
	case QUESTION_OUTCOME:
		return outcome_choices;
	case QUESTION_CLASSIFY:
		return classify_choices;
	case QUESTION_ARRIVES:
	case QUESTION_MAPPING:
		return yes_no;
	case QUESTION_CONNTRACK:
		return ct_states;
	case QUESTION_AXES:
		return axes_choices;
	case QUESTION_DROP:
		return drop_reasons;
	case QUESTION_PORT:
	case QUESTION_TIMEOUT:
	case QUESTION_WHEN:
		break;
	}
	return NULL;
}

/* ---- the world for one student ---- */

/* `expect data at B from A "DATA"` for each arrives question, appended to
 * the scenario so the runner decides whether the message arrived; and a
 * note at each moment a question asks about, so the run lasts that long. */
static char *scenario_with_probes(const struct exercise *x, size_t *len)
{
	size_t cap = x->scenario_len + 2;
	for (size_t i = 0; i < x->n_questions; i++)
		if (x->questions[i].kind == QUESTION_ARRIVES)
			cap += 64 + strlen(x->questions[i].a) + strlen(x->questions[i].b) +
			       2 * x->questions[i].data_len;
		else if (x->questions[i].at_ns > 0)
			cap += 96 + strlen(x->questions[i].id);
	char *text = malloc(cap);
	if (text == NULL)
		return NULL;
	size_t n = x->scenario_len;
	memcpy(text, x->scenario_text, n);
	text[n++] = '\n';
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		/* a question about a moment: the run lasts at least until then */
		if (q->kind != QUESTION_ARRIVES && q->at_ns > 0)
			n += (size_t)sprintf(
			    text + n, "at %lldns note \"question %s asks about this moment\"\n",
			    (long long)q->at_ns, q->id);
		if (q->kind != QUESTION_ARRIVES)
			continue;
		n += (size_t)sprintf(text + n, "expect data at %s from %s \"", q->b, q->a);
		for (size_t k = 0; k < q->data_len; k++) {
			char c = q->data[k];
			if (c == '"' || c == '\\')
				text[n++] = '\\';
			if (c == '\n') {
				text[n++] = '\\';
				c = 'n';
			} else if (c == '\t') {
				text[n++] = '\\';
				c = 't';
			}
			text[n++] = c;
		}
		n += (size_t)sprintf(text + n, "\"\n");
	}
	text[n] = 0;
	*len = n;
	return text;
}

static int apply_variants(const struct exercise *x, const char *student, struct exercise_run *r,
			  struct diag *d)
{
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		size_t pick = exercise_variant_pick(v, student);
		if (i < sizeof(r->variant_pick) / sizeof(r->variant_pick[0]))
			r->variant_pick[i] = pick;
		char set[256];
		snprintf(set, sizeof(set), "%s=%s", v->setting, v->values[pick]);
		if (scenario_set_override(r->scenario, set, d) != 0) {
			struct diag_span at = {x->filename, v->line, v->col, 7, NULL, 0};
			diag_add(d, DIAG_NOTE, &at, "in this variant (value '%s')",
				 v->values[pick]);
			return -1;
		}
	}
	return 0;
}

/* ---- reading answers off the run ---- */

static const struct run_pair *find_run_pair(const struct run_result *res, const char *a,
					    const char *b)
{
	for (size_t i = 0; i < res->n_pairs; i++) {
		const struct run_pair *p = &res->pairs[i];
		if ((strcmp(p->a, a) == 0 && strcmp(p->b, b) == 0) ||
		    (strcmp(p->a, b) == 0 && strcmp(p->b, a) == 0))
			return p;
	}
	return NULL;
}

/* The address the internet sees `host` at: its own if public, else the
 * first public address of the outermost NAT it sits behind. */
static uint32_t public_address(const struct scenario *s, const char *host)
{
	const struct scenario_host *h = scenario_find_host(s, host);
	if (h == NULL)
		return 0;
	if (h->is_public)
		return h->ip;
	const struct scenario_nat *n = scenario_find_nat(s, h->behind.name);
	for (int depth = 0; n && n->behind.name && depth < 16; depth++)
		n = scenario_find_nat(s, n->behind.name);
	return n ? n->public_ip[0] : 0;
}

static bool same_node(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Where packet `id` ended, from record `from_i` on: "NODE REASON" for a
 * drop, "delivered", or "in flight" when the run ended first. */
static void packet_fate(const struct trace_log *log, size_t from_i, uint64_t id, struct answer *out)
{
	snprintf(out->text, sizeof(out->text), "in flight");
	out->packet = id;
	for (size_t i = from_i, n = trace_log_count(log); i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind != TRACE_PACKET || r->u.packet.packet_id != id)
			continue;
		if (r->u.packet.hop == TRACE_HOP_DROP) {
			snprintf(out->text, sizeof(out->text), "%s %s", r->u.packet.node,
				 trace_drop_reason_name(r->u.packet.reason));
			return;
		}
		if (r->u.packet.hop == TRACE_HOP_DELIVER) {
			snprintf(out->text, sizeof(out->text), "delivered");
			return;
		}
	}
}

/* Is record r a datagram that host `from` sends to address `to`? Not an
 * ICMP message its stack sends on its own (a port unreachable answering a
 * datagram to a closed port): a question about what A sends B is about
 * what the scenario made A send. */
static bool sent_to(const struct trace_record *r, const char *from, uint32_t to)
{
	struct packet_info info;
	return r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
	       same_node(r->u.packet.node, from) &&
	       packet_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0) == 0 &&
	       info.dst == to && info.proto != IPPROTO_NUM_ICMP;
}

/* The first packet `from` sent to address `to`, and where it ended
 * (`delivered_only`: the first of them that was delivered). */
static void answer_drop(const struct trace_log *log, const char *from, uint32_t to,
			bool delivered_only, struct answer *out)
{
	snprintf(out->text, sizeof(out->text), "never sent");
	out->packet = 0;
	for (size_t i = 0, n = trace_log_count(log); i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (!sent_to(r, from, to))
			continue;
		packet_fate(log, i, r->u.packet.packet_id, out);
		if (!delivered_only || strcmp(out->text, "delivered") == 0)
			return;
	}
	if (delivered_only)
		out->packet = 0;
}

static void answer_port(const struct trace_log *log, const struct scenario *s,
			const struct question *q, struct answer *out)
{
	const struct scenario_host *h = scenario_find_host(s, q->host);
	snprintf(out->text, sizeof(out->text), "none");
	for (size_t i = 0, n = trace_log_count(log); h && i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_MAPPING && r->u.map.event == TRACE_MAP_CREATED &&
		    same_node(r->u.map.node, q->node) && r->u.map.internal.ip == h->ip &&
		    r->u.map.internal.port == q->port) {
			snprintf(out->text, sizeof(out->text), "%u",
				 (unsigned)r->u.map.external.port);
			return;
		}
	}
}

/* The NAT's RFC 4787 behaviours: its preset's, overridden by explicit ones. */
static void nat_axes(const struct scenario *s, const char *nat, int *mapping, int *filtering)
{
	const struct scenario_nat *n = scenario_find_nat(s, nat);
	*mapping = *filtering = SCENARIO_EI;
	if (n && n->preset)
		scenario_preset_behaviour(n->preset, mapping, filtering);
	if (n && n->has_mapping)
		*mapping = n->mapping;
	if (n && n->has_filtering)
		*filtering = n->filtering;
}

/* RFC 4787's words, abbreviated as the scenario language writes them. */
static void answer_axes(const struct scenario *s, const char *nat, struct answer *out)
{
	static const char *const m[] = {"EIM", "ADM", "APDM"}, *const f[] = {"EIF", "ADF", "APDF"};
	int mapping, filtering;
	nat_axes(s, nat, &mapping, &filtering);
	snprintf(out->text, sizeof(out->text), "%s %s", m[mapping % 3], f[filtering % 3]);
}

/* RFC 3489's names: a mapping that is not endpoint-independent is
 * "symmetric"; otherwise the filtering names the cone. */
static void answer_classify(const struct scenario *s, const char *nat, struct answer *out)
{
	int mapping, filtering;
	nat_axes(s, nat, &mapping, &filtering);
	const char *name = mapping != SCENARIO_EI     ? "symmetric"
			   : filtering == SCENARIO_EI ? "full-cone"
			   : filtering == SCENARIO_AD ? "restricted-cone"
						      : "port-restricted-cone";
	snprintf(out->text, sizeof(out->text), "%s", name);
}

/* Seconds as a student writes them: "22", "1.083" - cut to the
 * millisecond, as every time natsim shows is (viz/text.c text_seconds), so
 * the answer is the number the timeline printed. */
static void seconds_text(int64_t ns, char *out, size_t size)
{
	int64_t ms = ns / 1000000;
	snprintf(out, size, "%lld.%03lld", (long long)(ms / 1000), (long long)llabs(ms % 1000));
	char *end = out + strlen(out) - 1;
	while (*end == '0')
		*end-- = 0;
	if (*end == '.')
		*end = 0;
}

/* The mapping NAT holds for HOST:PORT at q->at_ns, read from the records up
 * to then: *live, and its deadline. */
static void mapping_at(const struct trace_log *log, const struct scenario *s,
		       const struct question *q, bool *live, int64_t *expires_at)
{
	const struct scenario_host *h = scenario_find_host(s, q->host);
	uint32_t id = 0;
	*live = false;
	for (size_t i = 0, n = trace_log_count(log); h && i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->time > q->at_ns)
			break;
		if (r->kind != TRACE_MAPPING || !same_node(r->u.map.node, q->node))
			continue;
		const struct trace_mapping *m = &r->u.map;
		if (m->event == TRACE_MAP_CREATED && m->internal.ip == h->ip &&
		    m->internal.port == q->port) {
			*live = true;
			id = m->id;
		}
		if (!*live || m->id != id)
			continue;
		if (m->event == TRACE_MAP_EXPIRED || m->event == TRACE_MAP_CLEARED ||
		    m->event == TRACE_MAP_DELETED)
			*live = false;
		else if (m->expires_at > 0) /* created, refreshed, a remote added or removed */
			*expires_at = m->expires_at;
	}
}

static void answer_mapping(const struct trace_log *log, const struct scenario *s,
			   const struct question *q, struct answer *out)
{
	bool live;
	int64_t expires_at = 0;
	mapping_at(log, s, q, &live, &expires_at);
	if (q->kind == QUESTION_MAPPING)
		snprintf(out->text, sizeof(out->text), "%s", live ? "yes" : "no");
	else if (!live)
		snprintf(out->text, sizeof(out->text), "none");
	else
		seconds_text(expires_at - q->at_ns, out->text, sizeof(out->text));
}

/* The address a flow to `name` has at `node`: the coordinator's, or the
 * host's public one (what a NAT's or a host's own conntrack sees). */
static uint32_t remote_address(const struct scenario *s, const char *name)
{
	if (s->coordinator && strcmp(s->coordinator->name, name) == 0)
		return s->coordinator->ip;
	return public_address(s, name);
}

static void answer_conntrack(const struct trace_log *log, const struct scenario *s,
			     const struct question *q, struct answer *out)
{
	const struct scenario_host *h = scenario_find_host(s, q->host);
	uint32_t dst = remote_address(s, q->remote), id = 0;
	const char *state = "none";
	for (size_t i = 0, n = trace_log_count(log); h && i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->time > q->at_ns)
			break;
		if (r->kind != TRACE_CONNTRACK || !same_node(r->u.ct.node, q->node))
			continue;
		const struct trace_conntrack *c = &r->u.ct;
		bool flow = c->orig.src == h->ip && c->orig.sport == q->port &&
			    c->orig.dst == dst &&
			    (q->remote_port < 0 || c->orig.dport == q->remote_port);
		if (c->event == TRACE_CT_NEW && flow)
			id = c->id;
		if (id == 0 || c->id != id)
			continue;
		state = c->event == TRACE_CT_DESTROY ? "none"
			: c->assured		     ? "assured"
			: c->seen_reply		     ? "replied"
						     : "unreplied";
		if (c->event == TRACE_CT_DESTROY)
			id = 0;
	}
	snprintf(out->text, sizeof(out->text), "%s", state);
}

static void answer_when(const struct exercise_run *r, const struct question *q, struct answer *out)
{
	const struct run_pair *p = find_run_pair(&r->result, q->a, q->b);
	enum run_step_kind want = q->path == 0 ? RUN_STEP_DIRECT : RUN_STEP_RELAYED;
	snprintf(out->text, sizeof(out->text), "never");
	for (size_t i = 0; p && i < p->n_steps && i < RUN_HISTORY_MAX; i++)
		if (p->steps[i].kind == want) {
			seconds_text(p->steps[i].at, out->text, sizeof(out->text));
			return;
		}
}

/* The verdict of expectation k (a hidden `expect data` probe). */
static bool probe_passed(const struct exercise_run *r, size_t k)
{
	for (size_t i = 0; i < r->result.n_verdicts; i++)
		if (r->result.verdicts[i].expect == &r->scenario->expects[k])
			return r->result.verdicts[i].passed;
	return false;
}

static void answer_outcome(const struct exercise_run *r, const struct question *q,
			   struct answer *out)
{
	const struct run_pair *p = find_run_pair(&r->result, q->a, q->b);
	const char *end = p ? run_pair_end_name(p) : "unconnected";
	/* "lost" (consent expired, no relay yet) ends the run unconnected */
	snprintf(out->text, sizeof(out->text), "%s",
		 strcmp(end, "lost") == 0 ? "unconnected" : end);
	/* The decisive packet, from a to b's public address: the first that got
	 * through on a direct path, else the first (which died on the way). */
	struct answer first;
	bool direct = strcmp(out->text, "direct") == 0;
	answer_drop(r->log, q->a, public_address(r->scenario, q->b), direct, &first);
	if (direct && first.packet == 0) /* b's side got through first */
		answer_drop(r->log, q->b, public_address(r->scenario, q->a), true, &first);
	out->packet = first.packet;
}

static void compute_answers(const struct exercise *x, struct exercise_run *r)
{
	size_t probe = r->scenario->n_expects;
	for (size_t i = 0; i < x->n_questions; i++)
		if (x->questions[i].kind == QUESTION_ARRIVES)
			probe--;
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		struct answer *a = &r->answers[i];
		switch (q->kind) {
		case QUESTION_OUTCOME:
			answer_outcome(r, q, a);
			break;
		case QUESTION_DROP:
			answer_drop(r->log, q->a, public_address(r->scenario, q->b), false, a);
			break;
		case QUESTION_PORT:
			answer_port(r->log, r->scenario, q, a);
			break;
		case QUESTION_CLASSIFY:
			answer_classify(r->scenario, q->node, a);
			break;
		case QUESTION_ARRIVES:
			snprintf(a->text, sizeof(a->text), "%s",
				 probe_passed(r, probe++) ? "yes" : "no");
			break;
		case QUESTION_MAPPING:
		case QUESTION_TIMEOUT:
			answer_mapping(r->log, r->scenario, q, a);
			break;
		case QUESTION_CONNTRACK:
			answer_conntrack(r->log, r->scenario, q, a);
			break;
		case QUESTION_WHEN:
			answer_when(r, q, a);
			break;
		case QUESTION_AXES:
			answer_axes(r->scenario, q->node, a);
			break;
		}
	}
}

static int apply_sets(const struct exercise_options *opt, struct scenario *s, struct diag *d)
{
	for (size_t i = 0; i < opt->n_sets; i++)
		if (scenario_set_override(s, opt->sets[i], d) != 0)
			return -1;
	return 0;
}

int exercise_run(const struct exercise *x, const struct exercise_options *opt,
		 struct exercise_run *out, struct diag *d)
{
	const char *student = opt->student;
	memset(out, 0, sizeof(*out));
	out->student = student;
	size_t len = 0;
	char *text = scenario_with_probes(x, &len);
	if (text == NULL)
		return -1;
	out->scenario = scenario_parse(text, len, x->filename, d);
	free(text);
	if (out->scenario == NULL || exercise_check(x, out->scenario, d) != 0 ||
	    apply_variants(x, student, out, d) != 0 || apply_sets(opt, out->scenario, d) != 0)
		return -1;
	out->log = trace_log_new();
	out->answers = calloc(x->n_questions ? x->n_questions : 1, sizeof(*out->answers));
	if (out->log == NULL || out->answers == NULL)
		return -1;
	struct run_options ro = {.has_seed = opt->has_seed, .seed = opt->seed, .n_observers = 1};
	ro.until_ns = SCENARIO_UNSET;
	ro.observers[0].fn = trace_log_observe;
	ro.observers[0].ctx = out->log;
	if (runner_run(out->scenario, &ro, &out->result, d) != 0)
		return -1;
	if (trace_log_failed(out->log))
		return -1;
	compute_answers(x, out);
	return 0;
}

void exercise_run_free(struct exercise_run *r)
{
	if (r->scenario && r->result.pairs)
		run_result_free(&r->result);
	trace_log_free(r->log);
	scenario_free(r->scenario);
	free(r->answers);
	memset(r, 0, sizeof(*r));
}

/* ---- marking ---- */

/* Lower-case copy without surrounding blanks, inner runs of blanks as one. */
static void normalise(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;
	while (*in && isspace((unsigned char)*in))
		in++;
	for (; *in && n + 1 < size; in++) {
		if (isspace((unsigned char)*in)) {
			space = true;
			continue;
		}
		if (space && n > 0 && n + 2 < size)
			out[n++] = ' ';
		space = false;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = 0;
}

bool answer_matches(const struct question *q, const char *right, const char *given)
{
	char a[200], b[200];
	normalise(right, a, sizeof(a));
	normalise(given, b, sizeof(b));
	if (q->kind == QUESTION_AXES) { /* "EIM+APDF", "eim, apdf": the same answer */
		char g[200];
		snprintf(g, sizeof(g), "%s", given);
		for (char *c = g; *c; c++)
			if (*c == '+' || *c == ',' || *c == '/')
				*c = ' ';
		normalise(g, b, sizeof(b));
	}
	if (q->kind == QUESTION_TIMEOUT || q->kind == QUESTION_WHEN) {
		/* a number of seconds ("22", "22.5", "22.5s"), within the tolerance */
		char *end;
		double want = strtod(a, &end);
		if (*end != 0) /* "none", "never": words, compared as words */
			return strcmp(a, b) == 0;
		double got = strtod(b, &end);
		if (end == b || (*end != 0 && strcmp(end, "s") != 0))
			return false;
		double diff = got > want ? got - want : want - got;
		return diff <= (double)q->tolerance_ns / 1e9 + 1e-9;
	}
	if (q->kind == QUESTION_PORT) {
		char *end;
		long n = strtol(b, &end, 10);
		return *b && *end == 0 && n >= 0 && strcmp(a, "none") != 0 &&
		       n == strtol(a, NULL, 10);
	}
	return strcmp(a, b) == 0;
}
