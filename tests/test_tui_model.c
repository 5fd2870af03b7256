/*
 * test_tui_model.c - the TUI's view model without a terminal: the default
 * scenario is recorded into a log, and the tests move the cursor and check
 * what each pane would show: NAT mappings appear and disappear with the
 * cursor, pair states follow it, the timeline filter, the packet inspector
 * on a translation and a drop, the packet in flight on its link, firewall
 * hits from drop records, and the what-if preset cycle changing the
 * outcome of a re-run with the same seed. Then the view (app/tui/tui_view.h)
 * at 80x24, the smallest screen the TUI accepts: what each pane keeps, and
 * mouse events driven through it. Predict mode: hidden, no pane's text
 * gives an answer away; shown again, every pane says it all; and the
 * question pane (app/tui/tui_quiz.h) collects answers text key by key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/tui/tui_model.h"
#include "app/tui/tui_quiz.h"
#include "app/tui/tui_view.h"
#include "base/addr6.h"
#include "base/endpoint.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/trace_log.h"
#include "sim/verdict.h"

struct fixture {
	struct diag *d;
	struct scenario *s;
	struct tui_model *m;
	struct tui_lines lines;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->d = diag_new();
	f->s = cli_load_scenario(NULL, f->d); /* the built-in classic */
	assert_non_null(f->s);
	struct tui_model_options o = {.ascii = true, .until_ns = SCENARIO_UNSET};
	f->m = tui_model_new(f->s, &o);
	assert_non_null(f->m);
	assert_int_equal(tui_model_run(f->m, f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tui_lines_fini(&f->lines);
	tui_model_free(f->m);
	scenario_free(f->s);
	diag_free(f->d);
	free(f);
	return 0;
}

/* The index of the first line containing `needle`, or -1. */
static int find_line(const struct tui_lines *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->v[i].text, needle))
			return (int)i;
	return -1;
}

/* The lines of one style joined with spaces, as one text again: word-wrapped
 * rows break only at spaces, so the sentence reads back whole. */
static void join_style(const struct tui_lines *l, enum tui_style style, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n && used < size; i++)
		if (l->v[i].style == style)
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? " " : "",
						 l->v[i].text + strspn(l->v[i].text, " "));
}

/* The first record matching kind (and, for packets, hop), or TUI_NONE. */
static size_t first_record(const struct tui_model *m, enum trace_kind kind, int hop)
{
	for (size_t i = 0; i < tui_model_count(m); i++) {
		const struct trace_record *r = tui_model_record(m, i);
		if (r->kind == kind && (hop < 0 || (int)r->u.packet.hop == hop))
			return i;
	}
	return TUI_NONE;
}

static void test_run_records_the_story(void **state)
{
	struct fixture *f = *state;
	assert_true(tui_model_count(f->m) > 100);
	assert_int_equal(tui_model_cursor(f->m), 0);
	assert_int_equal(tui_model_visible_count(f->m), tui_model_count(f->m));
	assert_non_null(strstr(tui_model_line(f->m, 0), "internet"));
	/* the first NAT is selected: where a student looks first */
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name, "home");
}

static void test_topology(void **state)
{
	struct fixture *f = *state;
	const struct tui_node *home = tui_model_node(f->m, tui_model_find_node(f->m, "home"));
	const struct tui_node *alice = tui_model_node(f->m, tui_model_find_node(f->m, "alice"));
	const struct tui_node *coord = tui_model_node(f->m, tui_model_find_node(f->m, "coord"));
	const struct tui_node *net = tui_model_node(f->m, tui_model_find_node(f->m, "internet"));
	assert_non_null(home);
	assert_non_null(alice);
	assert_non_null(coord);
	assert_non_null(net);
	assert_int_equal(home->role, TUI_ROLE_NAT);
	assert_non_null(strstr(home->behaviour, "port-restricted-cone"));
	assert_non_null(strstr(home->addrs, "203.0.113.7"));
	assert_int_equal(alice->role, TUI_ROLE_HOST);
	assert_string_equal(alice->addrs, "192.168.1.5"); /* not its gateway's */
	assert_string_equal(coord->addrs, "192.0.2.10,192.0.2.11");
	assert_true(alice->firewall);
	assert_string_equal(tui_model_node(f->m, (size_t)alice->parent)->name, "home");
	assert_int_equal(coord->role, TUI_ROLE_COORDINATOR);
	assert_true(coord->relay);
	assert_int_equal(net->role, TUI_ROLE_INTERNET);
	assert_int_equal(net->depth, 0);
	/* tree order: a parent comes before its children */
	for (size_t i = 0; i < tui_model_node_count(f->m); i++) {
		const struct tui_node *n = tui_model_node(f->m, i);
		assert_true(n->parent < (int)i);
	}
}

static void test_mapping_appears_and_goes_back(void **state)
{
	struct fixture *f = *state;
	tui_model_select(f->m, tui_model_find_node(f->m, "home"));
	assert_int_equal(tui_model_mapping_count(f->m, "home"), 0);
	while (tui_model_mapping_count(f->m, "home") == 0)
		assert_true(tui_model_step(f->m));
	const struct trace_record *r = tui_model_record(f->m, tui_model_cursor(f->m));
	assert_int_equal(r->kind, TRACE_MAPPING);
	assert_int_equal(r->u.map.event, TRACE_MAP_CREATED);
	assert_int_equal(tui_model_tables(f->m, "home", 0, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "NAT mappings (1)") >= 0);
	int row = find_line(&f->lines, "192.168.1.5:5000");
	assert_true(row >= 0);
	assert_non_null(strstr(f->lines.v[row].text, "203.0.113.7:5000"));
	assert_non_null(strstr(f->lines.v[row].text, "192.0.2.10:3478")); /* who may come in */

	assert_true(tui_model_back(f->m));
	assert_int_equal(tui_model_mapping_count(f->m, "home"), 0);
	assert_int_equal(tui_model_tables(f->m, "home", 0, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "NAT mappings (0)") >= 0);
	assert_true(find_line(&f->lines, "(no mappings)") >= 0);
	assert_int_equal(find_line(&f->lines, "203.0.113.7:5000"), -1);
}

/* Folding forward step by step and seeking straight back give one answer. */
static void test_back_and_forth_fold_agree(void **state)
{
	struct fixture *f = *state;
	size_t target = tui_model_count(f->m) / 3;
	struct tui_lines other = {0};
	while (tui_model_cursor(f->m) < target)
		tui_model_step(f->m);
	assert_int_equal(tui_model_tables(f->m, "office", 0, 0, &f->lines), 0);
	tui_model_seek(f->m, tui_model_count(f->m));
	tui_model_seek(f->m, target);
	assert_int_equal(tui_model_tables(f->m, "office", 0, 0, &other), 0);
	assert_int_equal(other.n, f->lines.n);
	for (size_t i = 0; i < other.n; i++)
		assert_string_equal(other.v[i].text, f->lines.v[i].text);
	assert_true(tui_model_flow_count(f->m, "office") > 0);
	tui_lines_fini(&other);
}

static size_t first_app_event(const struct tui_model *m, const char *event)
{
	for (size_t i = 0; i < tui_model_count(m); i++) {
		const struct trace_record *r = tui_model_record(m, i);
		if (r->kind == TRACE_APP && strcmp(r->u.app.event, event) == 0)
			return i;
	}
	return TUI_NONE;
}

static void test_pair_states_follow_the_cursor(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(tui_model_pair_count(f->m), 1);
	const struct tui_pair *p = tui_model_pair(f->m, 0);
	assert_string_equal(p->a, "alice");
	assert_string_equal(p->b, "bob");
	assert_int_equal(p->outcome, SCENARIO_PATH_DIRECT);
	assert_int_equal(p->state, TUI_PAIR_REGISTERING);
	size_t punch = first_app_event(f->m, "punching");
	size_t direct = first_app_event(f->m, "direct");
	assert_true(punch != TUI_NONE && direct != TUI_NONE && punch < direct);
	tui_model_seek(f->m, punch);
	assert_int_equal(tui_model_pair(f->m, 0)->state, TUI_PAIR_PUNCHING);
	tui_model_seek(f->m, direct);
	assert_int_equal(tui_model_pair(f->m, 0)->state, TUI_PAIR_DIRECT);
	tui_model_back(f->m);
	assert_int_equal(tui_model_pair(f->m, 0)->state, TUI_PAIR_PUNCHING);
	tui_model_seek(f->m, punch - 1);
	assert_int_equal(tui_model_pair(f->m, 0)->state, TUI_PAIR_REGISTERING);
	assert_string_equal(tui_pair_state_name(TUI_PAIR_RELAYED), "relayed");
}

static void test_filter(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(tui_model_set_filter(f->m, "dropped"), 0);
	assert_string_equal(tui_model_filter(f->m), "dropped");
	size_t n = tui_model_visible_count(f->m);
	assert_true(n > 0 && n < tui_model_count(f->m));
	for (size_t k = 0; k < n; k++)
		assert_non_null(
		    strstr(tui_model_line(f->m, tui_model_visible_at(f->m, k)), "dropped"));
	/* stepping through the filtered timeline lands on matching records */
	assert_true(tui_model_step_visible(f->m, 1));
	size_t first = tui_model_visible_at(f->m, 0);
	assert_int_equal(tui_model_cursor(f->m), first);
	assert_true(tui_model_step_visible(f->m, 1));
	assert_int_equal(tui_model_cursor(f->m), tui_model_visible_at(f->m, 1));
	assert_true(tui_model_step_visible(f->m, -1));
	assert_int_equal(tui_model_cursor(f->m), first);
	assert_int_equal(tui_model_visible_pos(f->m, first), 0);
	assert_int_equal(tui_model_visible_pos(f->m, 0), TUI_NONE);

	assert_int_equal(tui_model_set_filter(f->m, "no such text anywhere"), 0);
	assert_int_equal(tui_model_visible_count(f->m), 0);
	assert_int_equal(tui_model_set_filter(f->m, ""), 0);
	assert_int_equal(tui_model_visible_count(f->m), tui_model_count(f->m));
}

static void test_inspector_translate_before_after(void **state)
{
	struct fixture *f = *state;
	size_t i = first_record(f->m, TRACE_PACKET, TRACE_HOP_TRANSLATE);
	assert_true(i != TUI_NONE);
	tui_model_seek(f->m, i);
	assert_int_equal(tui_model_inspected(f->m), i);
	assert_int_equal(tui_model_inspect(f->m, i, 80, &f->lines), 0);
	assert_true(find_line(&f->lines, "translate at home") >= 0);
	int head = find_line(&f->lines, "before");
	assert_true(head >= 0);
	assert_non_null(strstr(f->lines.v[head].text, "after"));
	int src = find_line(&f->lines, "ip.src");
	assert_true(src > head);
	assert_non_null(strstr(f->lines.v[src].text, "192.168.1.5"));
	assert_non_null(strstr(f->lines.v[src].text, "203.0.113.7"));
	assert_int_equal(f->lines.v[src].style, TUI_STYLE_CHANGED);
	int dst = find_line(&f->lines, "ip.dst");
	assert_int_equal(f->lines.v[dst].style, TUI_STYLE_PLAIN); /* unchanged */
	assert_true(find_line(&f->lines, "0000  45") >= 0);	  /* the bytes in hex */
}

static void test_inspector_drop_sentence(void **state)
{
	struct fixture *f = *state;
	size_t i = first_record(f->m, TRACE_PACKET, TRACE_HOP_DROP);
	assert_true(i != TUI_NONE);
	tui_model_seek(f->m, i + 1); /* past it: the inspector still shows the last hop */
	if (tui_model_record(f->m, i + 1)->kind == TRACE_PACKET)
		tui_model_seek(f->m, i);
	assert_int_equal(tui_model_inspect(f->m, i, 60, &f->lines), 0);
	int why = find_line(&f->lines, "dropped (");
	assert_true(why >= 0);
	assert_int_equal(f->lines.v[why].style, TUI_STYLE_DROP);
	char joined[2048];
	join_style(&f->lines, TUI_STYLE_DROP, joined, sizeof(joined));
	assert_non_null(strstr(joined, tui_model_record(f->m, i)->u.packet.why));
}

static void test_flight_on_its_link(void **state)
{
	struct fixture *f = *state;
	struct tui_flight fl;
	size_t i = first_record(f->m, TRACE_PACKET, TRACE_HOP_TX);
	const struct trace_record *r = tui_model_record(f->m, i);
	assert_string_equal(r->u.packet.node, "alice");
	tui_model_seek(f->m, i);
	tui_model_flight(f->m, &fl);
	assert_true(fl.active);
	assert_int_equal(fl.packet_id, r->u.packet.packet_id);
	assert_int_equal(fl.child, tui_model_find_node(f->m, "alice"));
	assert_true(fl.up); /* alice -> home */
	tui_model_seek(f->m, 0);
	tui_model_flight(f->m, &fl);
	assert_false(fl.active);
}

static void test_goto_time_and_next_packet(void **state)
{
	struct fixture *f = *state;
	tui_model_goto_time(f->m, 1000000000); /* 1 s */
	assert_true(tui_model_now(f->m) <= 1000000000);
	size_t c = tui_model_cursor(f->m);
	assert_true(tui_model_record(f->m, c + 1)->time > 1000000000);
	assert_true(tui_model_next_packet(f->m));
	assert_int_equal(tui_model_record(f->m, tui_model_cursor(f->m))->kind, TRACE_PACKET);
	assert_false(tui_model_advance_to(f->m, 0)); /* never backwards */
	assert_true(tui_model_advance_to(f->m, 2000000000));
	assert_true(tui_model_now(f->m) <= 2000000000);
}

static void test_ladder_pane(void **state)
{
	struct fixture *f = *state;
	tui_model_seek(f->m, first_record(f->m, TRACE_PACKET, TRACE_HOP_DROP));
	assert_int_equal(tui_model_ladder(f->m, 70, &f->lines), 0);
	assert_true(f->lines.n > 0);
}

static void test_what_if_changes_the_outcome(void **state)
{
	struct fixture *f = *state;
	char msg[300];
	tui_model_goto_time(f->m, 500000000);
	int64_t before = tui_model_now(f->m);
	tui_model_select(f->m, tui_model_find_node(f->m, "bob")); /* bob sits behind office */
	size_t office = tui_model_selected_nat(f->m);
	assert_string_equal(tui_model_node(f->m, office)->name, "office");
	assert_int_equal(tui_model_cycle_preset(f->m, office, msg, sizeof(msg), f->d), 0);
	assert_non_null(strstr(msg, "what-if office: port-restricted-cone -> symmetric"));
	assert_non_null(strstr(msg, "direct -> relayed"));
	assert_string_equal(scenario_find_nat(f->s, "office")->preset, "symmetric");
	const struct tui_pair *p = tui_model_pair(f->m, 0);
	assert_int_equal(p->prev_outcome, SCENARIO_PATH_DIRECT);
	assert_int_equal(p->outcome, SCENARIO_PATH_RELAYED);
	assert_non_null(strstr(tui_model_node(f->m, office)->behaviour, "symmetric"));
	/* the cursor keeps its time, the selection its node */
	assert_true(tui_model_now(f->m) <= before);
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name, "bob");
	tui_model_seek(f->m, tui_model_count(f->m));
	assert_int_equal(tui_model_pair(f->m, 0)->state, TUI_PAIR_RELAYED);
	/* a host that sits behind no NAT has no preset to change */
	assert_int_equal(tui_model_cycle_preset(f->m, tui_model_find_node(f->m, "coord"), msg,
						sizeof(msg), f->d),
			 -1);
}

static void test_preset_cycle_order(void **state)
{
	(void)state;
	assert_string_equal(tui_next_preset("full-cone"), "restricted-cone");
	assert_string_equal(tui_next_preset("restricted-cone"), "port-restricted-cone");
	assert_string_equal(tui_next_preset("port-restricted-cone"), "symmetric");
	assert_string_equal(tui_next_preset("symmetric"), "full-cone");
	assert_string_equal(tui_next_preset("custom"), "full-cone");
}

/* A hand-made log: bob's firewall drops twice by policy, once by rule. The
 * TUI counts hits from the verdict (chain, rule index), not the labels. */
static void emit_drop(struct trace *t, const char *why, const char *rule, int index)
{
	static const uint8_t bytes[28] = {0x45};
	struct node_firewall_facts facts = {
	    .verdict = {FW_DROP, index < 0 ? FW_REASON_POLICY : FW_REASON_RULE, FW_CHAIN_INPUT,
			index, NULL, CONNTRACK_NEW}};
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_DROP,
					   .packet_id = 7,
					   .node = "bob",
					   .iface = "eth0",
					   .bytes = bytes,
					   .len = sizeof(bytes),
					   .reason = TRACE_DROP_FIREWALL,
					   .why = why,
					   .rule = rule,
					   .verdict = {NODE_VERDICT_FIREWALL, &facts}};
	trace_emit(t, &r);
}

/* The topology pane takes addresses, behaviour and firewall from the node
 * record's fields: a detail line that says otherwise changes nothing. */
static void test_node_facts_from_record_fields(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	struct trace_record r = {.kind = TRACE_NODE};

	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	r.u.node = (struct trace_node){.name = "gate",
				       .type = "router",
				       .detail = "NAT full-cone on nowhere 9.9.9.9, firewall on",
				       .n_addrs = 2,
				       .addrs = {IP4(10, 1, 0, 1), IP4(10, 1, 0, 10)},
				       .prefix_lens = {24, 32},
				       .nat = true,
				       .nat_mapping = 2,   /* address-and-port-dependent */
				       .nat_filtering = 2, /* address-and-port-dependent */
				       .nat_public = IP4(10, 1, 0, 10)};
	trace_emit(&t, &r);
	r.u.node = (struct trace_node){.name = "pc",
				       .type = "host",
				       .detail = "10.1.0.99/24 gw 10.1.0.1, firewall on",
				       .behind = "gate",
				       .n_addrs = 1,
				       .addrs = {IP4(10, 1, 0, 5)},
				       .prefix_lens = {24},
				       .gateway = IP4(10, 1, 0, 1)};
	trace_emit(&t, &r);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	const struct tui_node *gate = tui_model_node(f->m, tui_model_find_node(f->m, "gate"));
	const struct tui_node *pc = tui_model_node(f->m, tui_model_find_node(f->m, "pc"));
	assert_non_null(gate);
	assert_non_null(pc);
	assert_int_equal(gate->role, TUI_ROLE_NAT);
	assert_string_equal(gate->behaviour, "symmetric (APDM+APDF)");
	assert_string_equal(gate->addrs, "10.1.0.1,10.1.0.10"); /* the public one once */
	assert_false(gate->firewall);
	assert_string_equal(pc->addrs, "10.1.0.5"); /* not the gateway's, not the detail's */
	assert_false(pc->firewall);
}

static void test_firewall_hits_from_drop_records(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	struct trace_record node = {.kind = TRACE_NODE};
	node.u.node = (struct trace_node){.name = "bob",
					  .type = "host",
					  .detail = "10.0.0.7/24, firewall on",
					  .behind = "office",
					  .conntrack = true,
					  .n_addrs = 1,
					  .addrs = {IP4(10, 0, 0, 7)},
					  .prefix_lens = {24},
					  .firewall = true};
	trace_emit(&t, &node);
	emit_drop(&t, "bob's firewall dropped x: no rule in INPUT matched ...", "INPUT policy", -1);
	emit_drop(&t, "bob's firewall dropped y: no rule in INPUT matched ...", "INPUT policy", -1);
	/* the label is not read: a wrong one counts where the verdict says */
	emit_drop(&t, "bob's firewall dropped z: rule INPUT #1 (-j DROP) dropped it", "?", 0);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	tui_model_seek(f->m, tui_model_count(f->m));
	assert_int_equal(tui_model_tables(f->m, "bob", 0, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "firewall rules (3 dropped so far)") >= 0);
	assert_true(find_line(&f->lines, "    2  INPUT policy drop") >= 0);
	assert_true(find_line(&f->lines, "    1  INPUT #1") >= 0);
	assert_true(find_line(&f->lines, "hits count the drops each rule decided") >= 0);
	tui_model_seek(f->m, 1);
	assert_int_equal(tui_model_tables(f->m, "bob", 0, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "    1  INPUT policy drop") >= 0);
}

/* ICMP in the TUI: an echo's conntrack entry in the compact table (read by
 * id, as conntrack -L keys it), a RELATED record that changes no entry, and
 * an ICMP error's fields in the inspector, the quoted packet's included. */
static void emit_icmp_story(struct trace *t)
{
	static uint8_t err[PACKET_MAX_SIZE], udp[64];
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = "r",
				       .type = "router",
				       .conntrack = true,
				       .n_addrs = 1,
				       .addrs = {IP4(203, 0, 113, 7)},
				       .nat = true};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_MAPPING};
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "r",
					 .id = 1,
					 .proto = 1,
					 .internal = {IP4(10, 0, 0, 7), 1},
					 .external = {IP4(203, 0, 113, 7), 1024},
					 .remote = {IP4(192, 0, 2, 1), 0},
					 .expires_at = SIM_S(30)};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_CONNTRACK};
	r.u.ct =
	    (struct trace_conntrack){.event = TRACE_CT_NEW,
				     .node = "r",
				     .id = 5,
				     .proto = 1,
				     .orig = {IP4(10, 0, 0, 7), IP4(192, 0, 2, 1), 1, 8 << 8},
				     .reply = {IP4(192, 0, 2, 1), IP4(203, 0, 113, 7), 1024, 0},
				     .expires_at = SIM_S(30),
				     .use = 1};
	trace_emit(t, &r);
	r.u.ct.event = TRACE_CT_RELATED;
	r.u.ct.id = 6; /* no such entry: RELATED makes none */
	trace_emit(t, &r);
	size_t un = packet_build_udp(udp, sizeof(udp), &(struct endpoint){IP4(10, 0, 0, 7), 5000},
				     &(struct endpoint){IP4(192, 0, 2, 1), 9}, 64, 1, "x", 1);
	size_t n = packet_build_icmp_error(err, sizeof(err), IP4(192, 0, 2, 1), IP4(10, 0, 0, 7),
					   64, 2, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, udp, un);
	assert_true(n > 0);
	r = (struct trace_record){.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_TX,
					   .packet_id = 9,
					   .node = "r",
					   .iface = "lan",
					   .bytes = err,
					   .len = n};
	trace_emit(t, &r);
}

static void test_icmp_tables_and_inspector(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	emit_icmp_story(&t);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	tui_model_seek(f->m, tui_model_count(f->m));
	assert_int_equal(tui_model_tables(f->m, "r", 80, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "conntrack -L (1 flow)") >= 0);
	assert_true(
	    find_line(&f->lines,
		      "icmp 10.0.0.7 -> 192.0.2.1 id=1 30s [UNREPLIED] as 203.0.113.7 id=1024") >=
	    0);
	/* The echo's mapping by its ids, not as ports (RFC 5508 REQ-1). */
	assert_true(find_line(&f->lines, "10.0.0.7 id=1 -> 203.0.113.7 id=1024") >= 0);
	assert_int_equal(tui_model_inspect(f->m, tui_model_count(f->m) - 1, 100, &f->lines), 0);
	static const char *const fields[] = {
	    "icmp.type",    "icmp.code",       "icmp.checksum",	  "inner.ip.src",
	    "inner.ip.dst", "inner.udp.sport", "inner.udp.dport", "inner.udp.checksum"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (find_line(&f->lines, fields[i]) < 0)
			fail_msg("the inspector shows no %s", fields[i]);
	assert_true(find_line(&f->lines, "3 (port unreachable)") >= 0);
}

/* TCP in the TUI (issue 16): a socket's change of state is a line of the
 * event list, green when a connection is made, red when one fails, found by
 * its node; a segment's TCP fields are in the inspector. */
static void emit_tcp_story(struct trace *t)
{
	static uint8_t syn[PACKET_MAX_SIZE];
	struct tcp_segment seg = {.flags = TCP_SYN, .seq = 1000, .window = 64240};
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){
	    .name = "alice", .type = "host", .n_addrs = 1, .addrs = {IP4(10, 0, 0, 7)}};
	trace_emit(t, &r);
	size_t n = packet_build_tcp(syn, sizeof(syn), &(struct endpoint){IP4(10, 0, 0, 7), 40000},
				    &(struct endpoint){IP4(192, 0, 2, 1), 80}, 64, 1, &seg);
	assert_true(n > 0);
	r = (struct trace_record){.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){
	    .hop = TRACE_HOP_SEND, .packet_id = 1, .node = "alice", .bytes = syn, .len = n};
	trace_emit(t, &r);
	r = (struct trace_record){.kind = TRACE_SOCKET};
	r.u.sock = (struct trace_socket){.node = "alice",
					 .proto = 6,
					 .local = {IP4(10, 0, 0, 7), 40000},
					 .remote = {IP4(192, 0, 2, 1), 80},
					 .old_state = 2, /* SYN-SENT */
					 .new_state = 4, /* ESTABLISHED */
					 .cause = 1,	 /* a segment */
					 .packet_id = 1};
	trace_emit(t, &r);
	r.u.sock.old_state = 4;
	r.u.sock.new_state = 0; /* CLOSED */
	r.u.sock.cause = 2;	/* an RST */
	r.u.sock.packet_id = 0;
	r.u.sock.error = 104; /* ECONNRESET */
	trace_emit(t, &r);
}

static void test_tcp_events_and_inspector(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	emit_tcp_story(&t);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	size_t n = tui_model_count(f->m);
	assert_non_null(strstr(tui_model_line(f->m, n - 2), "alice"));
	assert_non_null(
	    strstr(tui_model_line(f->m, n - 2),
		   "TCP 10.0.0.7:40000 -> 192.0.2.1:80: SYN-SENT -> ESTABLISHED (SYN #1)"));
	assert_int_equal(tui_model_line_style(f->m, n - 2), TUI_STYLE_GOOD);
	assert_non_null(
	    strstr(tui_model_line(f->m, n - 1), "ECONNRESET (Connection reset by peer)"));
	assert_int_equal(tui_model_line_style(f->m, n - 1), TUI_STYLE_DROP);
	/* the host's sockets at the cursor, as ss -tan lists them */
	tui_model_seek(f->m, n - 2);
	assert_int_equal(tui_model_tables(f->m, "alice", 80, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "TCP sockets (1), as ss -tan") >= 0);
	assert_true(find_line(&f->lines, " ESTAB      10.0.0.7:40000        192.0.2.1:80") >= 0);
	tui_model_seek(f->m, n - 1);
	assert_int_equal(tui_model_tables(f->m, "alice", 80, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "TCP sockets (0), as ss -tan") >= 0);
	assert_true(find_line(&f->lines, "ESTAB") < 0);
	/* the cursor on a socket's line is at its host */
	assert_int_equal(tui_model_cursor_node(f->m), tui_model_find_node(f->m, "alice"));
	assert_int_equal(tui_model_inspect(f->m, n - 3, 100, &f->lines), 0);
	static const char *const fields[] = {"tcp.sport", "tcp.dport", "tcp.seq",
					     "tcp.ack",	  "tcp.flags", "tcp.window"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (find_line(&f->lines, fields[i]) < 0)
			fail_msg("the inspector shows no %s", fields[i]);
	assert_true(find_line(&f->lines, "[SYN]") >= 0);
}

/* An IPv6 socket in the TUI: the event line and the ss -tan table in
 * RFC 5952 form, keyed by its IPv6 ends (a CLOSED record removes it). */
#define T6ADDR(net, last)                                                                          \
	((struct ip6_addr){{0x20, 0x01, 0x0d, 0xb8, 0, net, 0, 0, 0, 0, 0, 0, 0, 0, 0, last}})

static void test_tcp6_socket_table(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	struct trace_socket6 v6 = {.local = {T6ADDR(1, 5), 40000},
				   .remote = {T6ADDR(0xff, 0x80), 80}};
	struct trace_record r = {.kind = TRACE_NODE};

	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	r.u.node = (struct trace_node){.name = "alice", .type = "host"};
	trace_emit(&t, &r);
	r = (struct trace_record){.kind = TRACE_SOCKET};
	r.u.sock = (struct trace_socket){.node = "alice",
					 .proto = 6,
					 .local = {0, 40000},
					 .remote = {0, 80},
					 .old_state = 2, /* SYN-SENT */
					 .new_state = 4, /* ESTABLISHED */
					 .cause = 1,
					 .v6 = &v6};
	trace_emit(&t, &r);
	r.u.sock.old_state = 4;
	r.u.sock.new_state = 0; /* CLOSED */
	trace_emit(&t, &r);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	size_t n = tui_model_count(f->m);
	assert_non_null(strstr(tui_model_line(f->m, n - 2),
			       "TCP [2001:db8:1::5]:40000 -> [2001:db8:ff::80]:80: SYN-SENT -> "
			       "ESTABLISHED"));
	tui_model_seek(f->m, n - 2);
	assert_int_equal(tui_model_tables(f->m, "alice", 100, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "TCP sockets (1), as ss -tan") >= 0);
	assert_true(
	    find_line(&f->lines, " ESTAB      [2001:db8:1::5]:40000 [2001:db8:ff::80]:80") >= 0);
	tui_model_seek(f->m, n - 1);
	assert_int_equal(tui_model_tables(f->m, "alice", 100, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "TCP sockets (0), as ss -tan") >= 0);
}

/* ---- the view at 80x24 ---- */

static bool all_fit(const struct tui_lines *l, int width)
{
	for (size_t i = 0; i < l->n; i++)
		if (tui_text_cols(l->v[i].text) > width)
			return false;
	return true;
}

static void test_wrap_breaks_at_spaces(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(tui_lines_wrap(&f->lines, TUI_STYLE_DROP,
					"its mapping only accepts replies from 192.0.2.10:3478", 20,
					2),
			 0);
	assert_true(f->lines.n >= 3);
	assert_true(all_fit(&f->lines, 20));
	assert_string_equal(f->lines.v[0].text, "its mapping only");
	assert_int_equal(strncmp(f->lines.v[1].text, "  ", 2), 0); /* indented */
	char joined[200];
	join_style(&f->lines, TUI_STYLE_DROP, joined, sizeof(joined));
	assert_string_equal(joined, "its mapping only accepts replies from 192.0.2.10:3478");
	/* a word longer than a row is cut at the edge and goes on */
	tui_lines_clear(&f->lines);
	assert_int_equal(tui_lines_wrap(&f->lines, TUI_STYLE_PLAIN, "abcdefghij", 4, 0), 0);
	assert_int_equal(f->lines.n, 3);
	assert_string_equal(f->lines.v[2].text, "ij");
	assert_int_equal(tui_text_cols("\u2192x\u2194"), 3); /* arrows are one column */
}

static void test_keybar_keeps_help_and_quit(void **state)
{
	(void)state;
	static const int widths[] = {80, 100, 120, 200};
	char bar[256];
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		tui_keybar(bar, sizeof(bar), widths[i]);
		assert_true(tui_text_cols(bar) <= widths[i]);
		assert_non_null(strstr(bar, "? help"));
		assert_non_null(strstr(bar, "q quit"));
		assert_non_null(strstr(bar, "space step"));
	}
	tui_keybar(bar, sizeof(bar), 80);
	assert_non_null(strstr(bar, "t what-if"));
	assert_non_null(strstr(bar, "/ filter"));
	assert_true(strstr(bar, "? help") < strstr(bar, "q quit")); /* the usual order */
	tui_keybar(bar, sizeof(bar), 200);
	assert_non_null(strstr(bar, "+/- rate"));
	assert_non_null(strstr(bar, "f follow"));
}

static void test_layout_80x24(void **state)
{
	(void)state;
	struct tui_layout l;
	tui_layout_compute(&l, 23, 80, 1);
	assert_true(l.too_small);
	tui_layout_compute(&l, 24, 80, 1);
	assert_false(l.too_small);
	assert_int_equal(l.topo.h, 8); /* a title and 7 rows: pairs and compact nodes */
	assert_int_equal(l.topo.w + 1 + l.tables.w, 80);
	assert_int_equal(l.timeline.y, l.topo.y + l.topo.h);
	assert_int_equal(l.inspect.y, l.timeline.y + l.timeline.h);
	assert_int_equal(l.inspect.y + l.inspect.h, l.status.y);
	assert_int_equal(l.status.y + l.status.h, 24);
	assert_true(l.inspect.h >= 5);
	/* a long message takes rows from the bottom panes, up to four */
	tui_layout_compute(&l, 24, 80, 9);
	assert_int_equal(l.status.h, 4);
	assert_int_equal(l.status.y, 20);
	assert_int_equal(l.inspect.y + l.inspect.h, 20);
	assert_int_equal(l.topo.h, 8);
}

static void test_help_fits_80x24(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	tui_view_init(&v, true);
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	/* the overlay is at most 78 wide with a margin of 2: 74 columns inside,
	 * and 24 - 4 rows: no line cut, nothing to scroll */
	assert_true(all_fit(&v.help_text, 72));
	assert_true(v.help_text.n <= 20);
	assert_true(find_line(&v.help_text, "q           quit") >= 0);
	assert_true(find_line(&v.help_text, "what-if") >= 0);
	assert_true(find_line(&v.help_text, "Home / End  first / last record") >= 0);
	tui_view_fini(&v);
}

static size_t cell_of(const struct tui_view *v, size_t node)
{
	for (size_t i = 0; i < v->topo.n; i++)
		if (v->topo.v[i].node == node)
			return i;
	return TUI_NONE;
}

static void check_topology_shows_all(const struct tui_view *v, const struct tui_model *m)
{
	for (size_t i = 0; i < tui_model_node_count(m); i++) {
		const struct tui_node *n = tui_model_node(m, i);
		size_t c = cell_of(v, i);
		assert_true(c != TUI_NONE);
		const struct tui_topo_cell *cell = &v->topo.v[c];
		char first[48]; /* an IPv6 address: up to 39 characters */
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(n->addrs, ","), n->addrs);
		assert_non_null(strstr(cell->info, first));
		assert_true(cell->col + cell->cols <= v->lay.topo.w);
		assert_true(cell->row - v->topo_top >= 0 && cell->row - v->topo_top < v->topo_rows);
	}
}

static void test_topology_every_node_at_80x24(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	tui_view_init(&v, true);
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true(v.topo.compact); /* 8 nodes do not fit as a tree in 7 rows */
	assert_true(v.topo.rows <= v.topo_rows);
	check_topology_shows_all(&v, f->m);
	/* alice sits on home's row, after it */
	const struct tui_topo_cell *home =
	    &v.topo.v[cell_of(&v, tui_model_find_node(f->m, "home"))];
	const struct tui_topo_cell *alice =
	    &v.topo.v[cell_of(&v, tui_model_find_node(f->m, "alice"))];
	assert_int_equal(alice->row, home->row);
	assert_true(alice->col > home->col);
	/* with room, the tree: a row per node with its role, and every address
	 * when the row is wide enough */
	assert_int_equal(tui_view_update(&v, f->m, 40, 120, NULL), 0);
	assert_false(v.topo.compact);
	check_topology_shows_all(&v, f->m);
	assert_int_equal(tui_view_update(&v, f->m, 48, 160, NULL), 0);
	home = &v.topo.v[cell_of(&v, tui_model_find_node(f->m, "home"))];
	assert_non_null(strstr(home->info, "NAT port-restricted-cone 203.0.113.7,192.168.1.1"));
	tui_view_fini(&v);
}

/* IPv6 in the topology pane (issue 18): a node's IPv6 addresses after its
 * IPv4 ones, an IPv6-only host's alone (no "0.0.0.0"), and a 39-character
 * address shown whole where it fits and left out (never cut) where not. */
static void emit_host6(struct trace *t, const char *name, uint32_t ip4, const char *ip6,
		       struct trace_node6 *v6)
{
	struct trace_record r = {.kind = TRACE_NODE};

	memset(v6, 0, sizeof(*v6));
	assert_int_equal(ip6_parse(ip6, &v6->addrs[0], NULL), IP6_OK);
	v6->prefix_lens[0] = 64;
	r.u.node = (struct trace_node){.name = name,
				       .type = "host",
				       .detail = "",
				       .behind = "gate",
				       .n_addrs = 1,
				       .addrs = {ip4},
				       .prefix_lens = {ip4 != 0 ? 24 : 0},
				       .v6 = v6};
	trace_emit(t, &r);
}

static void test_ipv6_addresses_in_topology(void **state)
{
	static const char *const long6 = "2001:db8:1234:5678:9abc:def0:1234:5678";
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	struct trace_record r = {.kind = TRACE_NODE};
	struct trace_node6 dual6, only6;
	struct tui_view v;

	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	r.u.node = (struct trace_node){.name = "gate",
				       .type = "router",
				       .n_addrs = 1,
				       .addrs = {IP4(203, 0, 113, 7)},
				       .prefix_lens = {24}};
	trace_emit(&t, &r);
	emit_host6(&t, "dual", IP4(192, 168, 1, 5), "2001:db8:1::5", &dual6);
	emit_host6(&t, "only6", 0, long6, &only6);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	assert_string_equal(tui_model_node(f->m, tui_model_find_node(f->m, "dual"))->addrs,
			    "192.168.1.5,2001:db8:1::5");
	assert_string_equal(tui_model_node(f->m, tui_model_find_node(f->m, "only6"))->addrs, long6);
	tui_view_init(&v, true);
	/* at 80x24 the pane is narrower than name and address: the address is
	 * left out rather than cut, and every cell fits */
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true(v.lay.topo.w < (int)strlen("  only6 ") + (int)strlen(long6));
	for (size_t i = 0; i < v.topo.n; i++) {
		assert_true(v.topo.v[i].col + v.topo.v[i].cols <= v.lay.topo.w);
		assert_null(strstr(v.topo.v[i].info, "2001:db8:1234"));
	}
	assert_int_equal(tui_view_update(&v, f->m, 48, 160, NULL), 0);
	check_topology_shows_all(&v, f->m);
	assert_non_null(
	    strstr(v.topo.v[cell_of(&v, tui_model_find_node(f->m, "only6"))].info, long6));
	assert_non_null(strstr(v.topo.v[cell_of(&v, tui_model_find_node(f->m, "dual"))].info,
			       "192.168.1.5,2001:db8:1::5"));
	tui_view_fini(&v);
}

/* The inspector of an IPv6 translate hop: NAT64 (IPv6 before, IPv4 after)
 * lists each side whole in its family rather than facing ipv6.* fields
 * with ip.* ones; an IPv6 rewrite (NPTv6: the prefix changes, no mapping)
 * shows each changed address whole, and neither says "by mapping" of
 * zeros. */
static void emit_translate(struct trace *t, int64_t *clock, const uint8_t *before,
			   size_t before_len, const uint8_t *after, size_t after_len)
{
	struct trace_record r = {.kind = TRACE_PACKET};

	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_TRANSLATE,
					   .packet_id = 1,
					   .node = "xlat",
					   .iface = "wan",
					   .bytes = after,
					   .len = after_len,
					   .before = before,
					   .before_len = before_len};
	*clock += SIM_MS(1);
	trace_emit(t, &r);
}

static void test_inspector_ipv6_translations(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	struct endpoint6 a6 = {.port = 5000}, b6 = {.port = 3478}, c6 = {.port = 5000};
	struct endpoint a4 = {IP4(203, 0, 113, 7), 2000}, b4 = {IP4(192, 0, 2, 10), 3478};
	uint8_t v6[128], v4[128], npt[128];
	size_t n6, n4, nn;

	assert_int_equal(ip6_parse("2001:db8:1234:5678:9abc:def0:1234:5678", &a6.ip, NULL), IP6_OK);
	assert_int_equal(ip6_parse("64:ff9b::c000:20a", &b6.ip, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:ffff:5678:9abc:def0:1234:5678", &c6.ip, NULL), IP6_OK);
	n6 = packet6_build_udp(v6, sizeof(v6), &a6, &b6, 64, 0, "hi", 2);
	n4 = packet_build_udp(v4, sizeof(v4), &a4, &b4, 63, 1, "hi", 2);
	nn = packet6_build_udp(npt, sizeof(npt), &c6, &b6, 64, 0, "hi", 2);
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	emit_translate(&t, &clock, v6, n6, v4, n4);
	emit_translate(&t, &clock, v6, n6, npt, nn);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	assert_int_equal(tui_model_inspect(f->m, 0, 80, &f->lines), 0);
	assert_true(find_line(&f->lines, "before, IPv6") >= 0);
	assert_true(find_line(&f->lines, "after, IPv4") >= 0);
	assert_true(find_line(&f->lines, "2001:db8:1234:5678:9abc:def0:1234:5678") >= 0);
	assert_true(find_line(&f->lines, "192.0.2.10") >= 0);
	assert_true(find_line(&f->lines, "by mapping") < 0);
	assert_int_equal(tui_model_inspect(f->m, 1, 80, &f->lines), 0);
	assert_true(find_line(&f->lines, "before, IPv6") < 0);
	/* wrapped at 80 columns, each address whole on its line */
	assert_true(
	    find_line(&f->lines, "ipv6.src       2001:db8:1234:5678:9abc:def0:1234:5678 ->") >= 0);
	assert_true(find_line(&f->lines, "2001:db8:ffff:5678:9abc:def0:1234:5678 *") >= 0);
	assert_true(find_line(&f->lines, "by mapping") < 0);
}

static void emit_router(struct trace *t, const char *name)
{
	struct trace_record r = {.kind = TRACE_NODE};

	r.u.node = (struct trace_node){.name = name, .type = "router", .conntrack = true};
	trace_emit(t, &r);
}

/* A node's IPv6 conntrack entry and its IPv4 one of the same id (each
 * table numbers from 1): both listed, the IPv6 one in RFC 5952 text. */
static void test_conntrack_both_families(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	int64_t clock = 0;
	struct trace_log *log = trace_log_new();
	struct trace_record r = {.kind = TRACE_CONNTRACK};
	struct trace_ct_tuples6 six;

	assert_int_equal(ip6_parse("2001:db8:1::5", &six.orig.src, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:2::1", &six.orig.dst, NULL), IP6_OK);
	six.orig.sport = six.reply.dport = 5000;
	six.orig.dport = six.reply.sport = 3478;
	six.reply.src = six.orig.dst;
	six.reply.dst = six.orig.src;
	trace_init(&t, &clock);
	trace_log_attach(log, &t);
	emit_router(&t, "gw");
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_NEW,
					  .node = "gw",
					  .id = 1,
					  .proto = 17,
					  .expires_at = SIM_S(30),
					  .use = 1,
					  .family = 6,
					  .tuples6 = &six};
	trace_emit(&t, &r);
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_NEW,
					  .node = "gw",
					  .id = 1,
					  .proto = 17,
					  .expires_at = SIM_S(30),
					  .use = 1,
					  .orig = {IP4(10, 0, 0, 7), IP4(192, 0, 2, 1), 6000, 53},
					  .reply = {IP4(192, 0, 2, 1), IP4(10, 0, 0, 7), 53, 6000}};
	trace_emit(&t, &r);
	assert_int_equal(tui_model_adopt_log(f->m, log), 0);
	tui_model_seek(f->m, tui_model_count(f->m));
	assert_int_equal(tui_model_tables(f->m, "gw", 70, 0, &f->lines), 0);
	assert_true(find_line(&f->lines, "conntrack -L (2 flows)") >= 0);
	assert_true(find_line(&f->lines,
			      "udp [2001:db8:1::5]:5000 -> [2001:db8:2::1]:3478 30s [UNREPLIED]") >=
		    0);
	assert_true(find_line(&f->lines, "udp 10.0.0.7:6000 -> 192.0.2.1:53 30s [UNREPLIED]") >= 0);
}

/* The first drop whose timeline line is wider than 80 columns. */
static size_t long_drop(const struct tui_model *m)
{
	for (size_t i = 0; i < tui_model_count(m); i++) {
		const struct trace_record *r = tui_model_record(m, i);
		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
		    tui_text_cols(tui_model_line(m, i)) > 160)
			return i;
	}
	return TUI_NONE;
}

static void test_timeline_wraps_the_cursor_line(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	char joined[2048] = "";
	size_t used = 0, drop = long_drop(f->m);
	assert_true(drop != TUI_NONE);
	tui_view_init(&v, true);
	tui_model_seek(f->m, drop);
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true((int)v.tl.n <= v.lay.timeline.h - 1);
	assert_true(all_fit(&v.tl, 80));
	int rows = 0;
	for (size_t r = 0; r < v.tl.n; r++) {
		if (v.tl_rec[r] == drop) {
			rows++;
			used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s",
						 used ? " " : "",
						 v.tl.v[r].text + strspn(v.tl.v[r].text, " "));
		} else if (tui_text_cols(tui_model_line(f->m, v.tl_rec[r])) > 80) {
			/* other long lines say they are cut */
			const char *t = v.tl.v[r].text;
			assert_string_equal(t + strlen(t) - 3, "...");
		}
	}
	assert_true(rows >= 2);
	/* every word of the record's line, the reason included (the sentence
	 * after the endpoints, which the timeline prints in ASCII here) */
	const char *why = tui_model_record(f->m, drop)->u.packet.why;
	assert_non_null(strstr(joined, strstr(why, ": ") + 2));
	tui_view_fini(&v);
}

static void test_inspector_reason_visible_at_80x24(void **state)
{
	struct fixture *f = *state;
	static const int sizes[][2] = {{24, 80}, {48, 160}};
	size_t drop = long_drop(f->m);
	tui_model_seek(f->m, drop);
	for (size_t k = 0; k < 2; k++) {
		struct tui_layout l;
		char joined[2048];
		tui_layout_compute(&l, sizes[k][0], sizes[k][1], 1);
		assert_int_equal(tui_model_inspect(f->m, drop, l.inspect.w, &f->lines), 0);
		assert_true(all_fit(&f->lines, l.inspect.w));
		join_style(&f->lines, TUI_STYLE_DROP, joined, sizeof(joined));
		assert_non_null(strstr(joined, tui_model_record(f->m, drop)->u.packet.why));
		int last = -1;
		for (size_t i = 0; i < f->lines.n; i++)
			if (f->lines.v[i].style == TUI_STYLE_DROP)
				last = (int)i;
		assert_true(last >= 0 && last < l.inspect.h - 1); /* on screen, no scrolling */
	}
}

static void test_what_if_message_is_not_cut(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	char msg[400], joined[512];
	tui_view_init(&v, true);
	tui_model_select(f->m, tui_model_find_node(f->m, "office"));
	assert_int_equal(
	    tui_model_cycle_preset(f->m, tui_model_selected_nat(f->m), msg, sizeof(msg), f->d), 0);
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, msg), 0);
	assert_true(v.status.n >= 2);
	assert_int_equal(v.lay.status.h, (int)v.status.n);
	assert_true(all_fit(&v.status, 80));
	join_style(&v.status, TUI_STYLE_NOTE, joined, sizeof(joined));
	assert_non_null(strstr(joined, "alice <-> bob: direct -> relayed"));
	assert_non_null(strstr(joined, "what-if office: port-restricted-cone -> symmetric"));
	/* the pair line in the topology wraps too */
	join_style(&v.pairs, TUI_STYLE_PLAIN, joined, sizeof(joined));
	assert_non_null(strstr(joined, "(ends relayed, was direct)"));
	assert_true(all_fit(&v.pairs, v.lay.topo.w));
	tui_view_fini(&v);
}

static void test_tables_follow_the_packet(void **state)
{
	struct fixture *f = *state;
	struct tui_layout l;
	assert_true(tui_model_follow(f->m));
	size_t drop = long_drop(f->m);
	const char *at = tui_model_record(f->m, drop)->u.packet.node;
	tui_model_seek(f->m, drop);
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name, at);
	/* every record at a node moves the selection there */
	size_t tx = first_record(f->m, TRACE_PACKET, TRACE_HOP_TX);
	tui_model_seek(f->m, tx);
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name,
			    tui_model_record(f->m, tx)->u.packet.node);
	/* a student's choice pins it; f follows again */
	tui_model_select(f->m, tui_model_find_node(f->m, "bob"));
	assert_false(tui_model_follow(f->m));
	tui_model_seek(f->m, drop);
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name, "bob");
	tui_model_set_follow(f->m, true);
	assert_string_equal(tui_model_node(f->m, tui_model_selected(f->m))->name, at);
	/* the 39-column pane needs no sideways scrolling */
	tui_layout_compute(&l, 24, 80, 1);
	while (tui_model_mapping_count(f->m, "home") == 0)
		assert_true(tui_model_step(f->m));
	assert_int_equal(tui_model_tables(f->m, "home", l.tables.w, 0, &f->lines), 0);
	assert_true(all_fit(&f->lines, l.tables.w));
	int row = find_line(&f->lines, "192.168.1.5:5000 -> 203.0.113.7:5000");
	assert_true(row >= 0 && row < l.tables.h - 1); /* the mapping shows without scrolling */
	assert_true(find_line(&f->lines, "accepts 192.0.2.10:3478") >= 0);
	/* asked for the rows a pane shows, it stops there (about: a wrapped
	 * entry finishes) */
	size_t all = f->lines.n;
	assert_int_equal(tui_model_tables(f->m, "home", l.tables.w, 2, &f->lines), 0);
	assert_true(f->lines.n >= 2 && f->lines.n <= 3 && f->lines.n < all);
	assert_true(find_line(&f->lines, "NAT mappings (1)") == 0);
}

static void test_mouse_selects_nodes_and_records(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	tui_view_init(&v, true);
	tui_model_seek(f->m, long_drop(f->m));
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	/* bob shares office's row at 80x24: the column decides */
	size_t bob = tui_model_find_node(f->m, "bob"), office = tui_model_find_node(f->m, "office");
	const struct tui_topo_cell *cb = &v.topo.v[cell_of(&v, bob)];
	const struct tui_topo_cell *co = &v.topo.v[cell_of(&v, office)];
	int y = v.topo_y0 + cb->row - v.topo_top;
	assert_int_equal(cb->row, co->row);
	assert_true(
	    tui_view_mouse(&v, f->m, y, v.lay.topo.x + cb->col + cb->cols - 1, TUI_MOUSE_CLICK));
	assert_int_equal(tui_model_selected(f->m), bob);
	assert_false(tui_model_follow(f->m)); /* the click pins the tables */
	assert_int_equal(v.focus, TUI_FOCUS_TOPOLOGY);
	assert_true(tui_view_mouse(&v, f->m, y, v.lay.topo.x + co->col + 1, TUI_MOUSE_CLICK));
	assert_int_equal(tui_model_selected(f->m), office);
	/* past the last cell of a row: nothing new is selected */
	assert_true(tui_view_mouse(&v, f->m, y, v.lay.topo.w - 1, TUI_MOUSE_CLICK));
	assert_int_equal(tui_model_selected(f->m), office);
	/* a click on a timeline row moves the cursor to its record */
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true(v.tl.n >= 2);
	size_t target = v.tl_rec[0];
	assert_true(target != tui_model_cursor(f->m));
	assert_true(tui_view_mouse(&v, f->m, v.tl_y0, 5, TUI_MOUSE_CLICK));
	assert_int_equal(tui_model_cursor(f->m), target);
	assert_int_equal(v.focus, TUI_FOCUS_TIMELINE);
	/* the wheel over the timeline steps through it */
	assert_true(tui_view_mouse(&v, f->m, v.tl_y0 + 1, 5, TUI_MOUSE_WHEEL_DOWN));
	assert_int_equal(tui_model_cursor(f->m), target + 1);
	assert_true(tui_view_mouse(&v, f->m, v.tl_y0 + 1, 5, TUI_MOUSE_WHEEL_UP));
	assert_int_equal(tui_model_cursor(f->m), target);
	/* a tree at 120x40: anywhere on a node's row selects it */
	assert_int_equal(tui_view_update(&v, f->m, 40, 120, NULL), 0);
	cb = &v.topo.v[cell_of(&v, bob)];
	assert_true(tui_view_mouse(&v, f->m, v.topo_y0 + cb->row - v.topo_top, v.lay.topo.w - 2,
				   TUI_MOUSE_CLICK));
	assert_int_equal(tui_model_selected(f->m), bob);
	/* the help overlay takes no clicks; nor does a screen that is too small */
	v.help = true;
	assert_false(tui_view_mouse(&v, f->m, v.tl_y0, 5, TUI_MOUSE_CLICK));
	v.help = false;
	assert_int_equal(tui_view_update(&v, f->m, 20, 70, NULL), 0);
	assert_false(tui_view_mouse(&v, f->m, v.tl_y0, 5, TUI_MOUSE_CLICK));
	tui_view_fini(&v);
}

/* ---- predict mode ---- */

/* Words that answer an exercise's questions: how a pair ends, a drop's
 * reason, a NAT's kind. */
static const char *const spoilers[] = {"direct",    "relayed", "nat-filter", "cone",
				       "symmetric", "ends ",   "EIM",	     "drop"};

/* Everything the model and the view give the panes at the cursor, one text. */
static void all_pane_text(struct fixture *f, struct tui_view *v, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
#define ADD(s) used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s\n", (s))
	assert_int_equal(tui_view_update(v, f->m, 24, 80, NULL), 0);
	for (size_t i = 0; i < v->pairs.n; i++)
		ADD(v->pairs.v[i].text);
	for (size_t i = 0; i < v->topo.n; i++)
		ADD(v->topo.v[i].info);
	for (size_t i = 0; i < v->tl.n; i++)
		ADD(v->tl.v[i].text);
	for (size_t i = 0; i < tui_model_node_count(f->m); i++) {
		ADD(tui_model_node(f->m, i)->detail);
		ADD(tui_model_node(f->m, i)->behaviour);
		assert_int_equal(
		    tui_model_tables(f->m, tui_model_node(f->m, i)->name, 0, 0, &f->lines), 0);
		for (size_t k = 0; k < f->lines.n; k++)
			ADD(f->lines.v[k].text);
	}
	assert_int_equal(tui_model_inspect(f->m, tui_model_inspected(f->m), 80, &f->lines), 0);
	for (size_t k = 0; k < f->lines.n; k++)
		ADD(f->lines.v[k].text);
	assert_int_equal(tui_model_ladder(f->m, 40, &f->lines), 0);
	for (size_t k = 0; k < f->lines.n; k++)
		ADD(f->lines.v[k].text);
	for (size_t i = 0; i < tui_model_count(f->m); i += 97)
		ADD(tui_model_line(f->m, i));
#undef ADD
	assert_true(used < size);
}

static void test_predict_hides_every_answer(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	static char text[1 << 16];
	tui_view_init(&v, true);
	assert_int_equal(tui_model_set_hidden(f->m, true), 0);
	assert_true(tui_model_hidden(f->m));
	/* at the start and at the drop's moment alike: hidden is hidden */
	size_t at[] = {0, tui_model_count(f->m) / 3, tui_model_count(f->m) - 1};
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(tui_model_seek(f->m, at[k]), 0);
		all_pane_text(f, &v, text, sizeof(text));
		for (size_t w = 0; w < sizeof(spoilers) / sizeof(spoilers[0]); w++)
			if (strstr(text, spoilers[w]))
				fail_msg("hidden, yet '%s' is shown:\n%s", spoilers[w], text);
		assert_int_equal(tui_model_visible_count(f->m), 0);
		struct tui_flight fl;
		tui_model_flight(f->m, &fl);
		assert_false(fl.active);
	}
	/* names and addresses stay: the world is still there to think about */
	assert_non_null(strstr(text, "alice <-> bob: ?"));
	assert_non_null(strstr(text, "203.0.113.7"));
	assert_non_null(strstr(text, TUI_HIDDEN_TEXT));
	tui_view_fini(&v);
}

static void test_predict_shown_again_tells_all(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	static char text[1 << 16];
	tui_view_init(&v, true);
	assert_int_equal(tui_model_set_hidden(f->m, true), 0);
	assert_int_equal(tui_model_set_hidden(f->m, false), 0);
	assert_false(tui_model_hidden(f->m));
	assert_int_equal(tui_model_visible_count(f->m), tui_model_count(f->m));
	assert_int_equal(tui_model_seek(f->m, tui_model_count(f->m) - 1), 0);
	all_pane_text(f, &v, text, sizeof(text));
	assert_non_null(strstr(text, "alice <-> bob: direct (ends direct)"));
	assert_non_null(strstr(text, "port-restricted"));
	assert_int_equal(tui_model_pair(f->m, 0)->outcome, SCENARIO_PATH_DIRECT);
	/* the filter the student set survives hiding and showing */
	assert_int_equal(tui_model_set_filter(f->m, "nat-filter"), 0);
	size_t n = tui_model_visible_count(f->m);
	assert_true(n > 0);
	assert_int_equal(tui_model_set_hidden(f->m, true), 0);
	assert_int_equal(tui_model_visible_count(f->m), 0);
	assert_int_equal(tui_model_set_hidden(f->m, false), 0);
	assert_int_equal(tui_model_visible_count(f->m), n);
	assert_string_equal(tui_model_filter(f->m), "nat-filter");
	tui_view_fini(&v);
}

static void test_predict_limit_stops_the_run(void **state)
{
	struct fixture *f = *state;
	struct tui_view v;
	tui_view_init(&v, true);
	size_t limit = tui_model_count(f->m) / 4;
	assert_int_equal(tui_model_limit(f->m), TUI_NONE);
	assert_int_equal(tui_model_set_limit(f->m, limit), 0);
	/* every way forward stops at the limit */
	assert_int_equal(tui_model_seek(f->m, tui_model_count(f->m)), 0);
	assert_int_equal(tui_model_cursor(f->m), limit);
	assert_true(tui_model_at_end(f->m));
	assert_false(tui_model_step(f->m));
	assert_false(tui_model_next_packet(f->m));
	tui_model_goto_time(f->m, INT64_MAX);
	assert_int_equal(tui_model_cursor(f->m), limit);
	/* the future is neither visible nor given; the pair has no outcome */
	assert_int_equal(tui_model_visible_count(f->m), limit + 1);
	assert_string_equal(tui_model_line(f->m, limit + 1), TUI_HIDDEN_TEXT);
	assert_string_not_equal(tui_model_line(f->m, limit), TUI_HIDDEN_TEXT);
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true(find_line(&v.pairs, "alice <-> bob: ") >= 0);
	assert_true(find_line(&v.pairs, "(ends ") < 0);
	/* a limit behind the cursor brings it back; none lifts it */
	assert_int_equal(tui_model_set_limit(f->m, 3), 0);
	assert_int_equal(tui_model_cursor(f->m), 3);
	assert_int_equal(tui_model_set_limit(f->m, TUI_NONE), 0);
	assert_int_equal(tui_model_visible_count(f->m), tui_model_count(f->m));
	assert_true(tui_model_step(f->m));
	assert_int_equal(tui_view_update(&v, f->m, 24, 80, NULL), 0);
	assert_true(find_line(&v.pairs, "(ends direct)") >= 0);
	tui_view_fini(&v);
}

struct fake_marker {
	int calls;
	char got[512];
};

static int fake_mark(void *ctx, const char *answers, size_t len, struct tui_lines *out,
		     char *summary, size_t size)
{
	struct fake_marker *fm = ctx;
	fm->calls++;
	snprintf(fm->got, sizeof(fm->got), "%.*s", (int)len, answers);
	snprintf(summary, size, "Score: 7/20");
	return tui_lines_addf(out, TUI_STYLE_GOOD, "q1 right");
}

static void type(struct tui_quiz *z, const char *s)
{
	for (; *s; s++)
		tui_quiz_key(z, (unsigned char)*s);
}

static void test_quiz_collects_answers_and_hints(void **state)
{
	(void)state;
	static const char *const hints[] = {"look at the ports", "and at who sent first"};
	const struct tui_quiz_question q[] = {
	    {"q1", "How do they end up talking?", "answer one of: a b", hints, 2, TUI_NONE},
	    {"q2", "Which port?", "answer: a port number", NULL, 0, TUI_NONE},
	    {"q3", "Skipped?", NULL, NULL, 0, TUI_NONE},
	};
	struct fake_marker fm = {0};
	struct tui_quiz z;
	struct tui_lines out = {0};
	tui_quiz_init(&z, q, 3, fake_mark, &fm);
	assert_int_equal(tui_quiz_lines(&z, 60, &out), 0);
	assert_true(find_line(&out, "Question 1 of 3 (q1)") >= 0);
	assert_true(find_line(&out, "(? for a hint") >= 0);
	type(&z, "?");
	assert_int_equal(tui_quiz_lines(&z, 60, &out), 0);
	assert_true(find_line(&out, "hint 1: look at the ports") >= 0);
	/* '?' inside an answer is typed, '#' never (it would start a comment) */
	type(&z, " dirx#");
	tui_quiz_key(&z, TUI_QUIZ_BACKSPACE);
	type(&z, "ect? ");
	assert_string_equal(z.edit, " direct? ");
	tui_quiz_key(&z, TUI_QUIZ_ENTER);
	assert_false(tui_quiz_key(&z, '?')); /* q2 has no hint to open */
	type(&z, "5000\n");
	assert_false(tui_quiz_done(&z));
	assert_int_equal(fm.calls, 0);
	tui_quiz_key(&z, TUI_QUIZ_ENTER); /* q3 left unanswered */
	assert_true(tui_quiz_done(&z));
	assert_int_equal(fm.calls, 1);
	assert_string_equal(fm.got, "hint q1\nq1 = direct?\nq2 = 5000\n");
	assert_false(tui_quiz_key(&z, 'x')); /* done: keys are the TUI's again */
	assert_int_equal(tui_quiz_lines(&z, 60, &out), 0);
	assert_true(find_line(&out, "q1 right") >= 0);
	assert_true(find_line(&out, "Score: 7/20") >= 0);
	tui_lines_fini(&out);
	tui_quiz_fini(&z);
}

static void test_quiz_asks_at_the_moment(void **state)
{
	(void)state;
	const struct tui_quiz_question q[] = {
	    {"q1", "Before the run?", NULL, NULL, 0, TUI_NONE},
	    {"q2", "At record 40?", NULL, NULL, 0, 40},
	    {"q3", "At record 40 too?", NULL, NULL, 0, 40},
	};
	struct fake_marker fm = {0};
	struct tui_quiz z;
	tui_quiz_init(&z, q, 3, fake_mark, &fm);
	assert_true(tui_quiz_asking(&z));
	assert_int_equal(tui_quiz_limit(&z), TUI_NONE); /* nothing shown yet */
	type(&z, "a\n");
	/* stepping towards q2's moment: keys are not the editor's */
	assert_false(tui_quiz_asking(&z));
	assert_int_equal(tui_quiz_limit(&z), 40);
	assert_false(tui_quiz_key(&z, 'x'));
	tui_quiz_arrive(&z);
	assert_true(tui_quiz_asking(&z));
	type(&z, "b\n");
	assert_false(tui_quiz_asking(&z)); /* q3: the front end arrives again */
	assert_int_equal(tui_quiz_limit(&z), 40);
	tui_quiz_arrive(&z);
	type(&z, "c\n");
	assert_true(tui_quiz_done(&z));
	assert_int_equal(tui_quiz_limit(&z), TUI_NONE);
	assert_string_equal(fm.got, "q1 = a\nq2 = b\nq3 = c\n");
	tui_quiz_fini(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_run_records_the_story, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_topology, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapping_appears_and_goes_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_back_and_forth_fold_agree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pair_states_follow_the_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inspector_translate_before_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inspector_drop_sentence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flight_on_its_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_goto_time_and_next_packet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ladder_pane, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_what_if_changes_the_outcome, setup, teardown),
	    cmocka_unit_test(test_preset_cycle_order),
	    cmocka_unit_test_setup_teardown(test_firewall_hits_from_drop_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_facts_from_record_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrap_breaks_at_spaces, setup, teardown),
	    cmocka_unit_test(test_keybar_keeps_help_and_quit),
	    cmocka_unit_test(test_layout_80x24),
	    cmocka_unit_test_setup_teardown(test_help_fits_80x24, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_topology_every_node_at_80x24, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_addresses_in_topology, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inspector_ipv6_translations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conntrack_both_families, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeline_wraps_the_cursor_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inspector_reason_visible_at_80x24, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_what_if_message_is_not_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tables_follow_the_packet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mouse_selects_nodes_and_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_predict_hides_every_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_predict_shown_again_tells_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_predict_limit_stops_the_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_tables_and_inspector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_events_and_inspector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp6_socket_table, setup, teardown),
	    cmocka_unit_test(test_quiz_collects_answers_and_hints),
	    cmocka_unit_test(test_quiz_asks_at_the_moment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
