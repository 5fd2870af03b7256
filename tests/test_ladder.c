/*
 * test_ladder.c - the ladder diagram (viz/ladder) and golden renders of a
 * fixed run: scenarios/classic.nsim with seed 1 gives byte-identical output
 * every time, so its ladder and its tables (what `natsim run --ladder` and
 * `natsim run --tables` print) are compared with files in tests/golden/.
 *
 * To regenerate the golden files on purpose (after a deliberate change of
 * format or of the models), run this test with NATSIM_REGENERATE_GOLDEN=1:
 *   NATSIM_REGENERATE_GOLDEN=1 ctest --test-dir build -R test_ladder
 * then read the diff (git diff tests/golden) before committing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support.h"

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/world/runner.h"
#include "app/world/simdrive.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace_log.h"
#include "viz/ladder.h"
#include "viz/tables.h"

/* Compare `text` with tests/golden/NAME, or write it there when
 * NATSIM_REGENERATE_GOLDEN is set. */
static void check_golden(const char *name, const char *text, size_t len)
{
	char path[1024], rel[256];
	snprintf(rel, sizeof(rel), "golden/%s", name);
	test_source_path(path, sizeof(path), rel);
	const char *regen = getenv("NATSIM_REGENERATE_GOLDEN");
	if (regen != NULL && regen[0] != '\0' && strcmp(regen, "0") != 0) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		print_message("regenerated %s\n", path);
		return;
	}
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("no golden file %s: run with NATSIM_REGENERATE_GOLDEN=1 to create it",
			 path);
	char *want = malloc(len + 2);
	size_t got = fread(want, 1, len + 1, f);
	fclose(f);
	if (got != len || memcmp(want, text, len) != 0) {
		/* Show the first line that differs. */
		size_t i = 0, line = 1, start = 0;
		while (i < len && i < got && want[i] == text[i]) {
			if (text[i] == '\n') {
				line++;
				start = i + 1;
			}
			i++;
		}
		const char *e = memchr(text + start, '\n', len - start);
		int n = e != NULL ? (int)(e - text - start) : (int)(len - start);
		free(want);
		fail_msg("%s differs from the output at line %zu:\n  got: %.*s\n"
			 "(NATSIM_REGENERATE_GOLDEN=1 rewrites it on purpose)",
			 path, line, n, text + start);
	}
	free(want);
}

struct membuf {
	char *s;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct membuf *m)
{
	m->s = NULL;
	m->len = 0;
	m->f = open_memstream(&m->s, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static void mem_close(struct membuf *m)
{
	assert_int_equal(fclose(m->f), 0);
}

/* ---- golden renders of classic, seed 1 ---- */

static int setup_classic(void **state)
{
	*state = test_run_scenario("../scenarios/classic.nsim", 1, SCENARIO_UNSET);
	return 0;
}

static int teardown_log(void **state)
{
	trace_log_free(*state);
	return 0;
}

static void test_golden_ladder_pair(void **state)
{
	struct membuf m;
	struct ladder_options o;
	ladder_options_default(&o);
	o.pair_a = "alice";
	o.pair_b = "bob";
	o.from_ns = SIM_S(1);
	o.to_ns = SIM_MS(1500);
	o.width = 120;
	o.payload = simdrive_payload_summary;
	assert_int_equal(ladder_render(mem_open(&m), *state, &o), 0);
	mem_close(&m);
	check_golden("ladder_classic_alice_bob.txt", m.s, m.len);
	free(m.s);
}

static void test_golden_ladder_all_ascii(void **state)
{
	struct membuf m;
	struct ladder_options o;
	ladder_options_default(&o);
	o.ascii = true;
	o.to_ns = SIM_MS(200);
	assert_int_equal(ladder_render(mem_open(&m), *state, &o), 0);
	mem_close(&m);
	for (size_t i = 0; i < m.len; i++)
		assert_true((unsigned char)m.s[i] < 0x80);
	check_golden("ladder_classic_start_ascii.txt", m.s, m.len);
	free(m.s);
}

static void render_tables(const struct trace_log *log, int64_t at, struct membuf *m)
{
	struct tables *t = tables_fold(log, at);
	assert_non_null(t);
	FILE *f = mem_open(m);
	assert_int_equal(tables_render_conntrack(f, NULL, t, NULL, false), 0);
	fputc('\n', f);
	assert_int_equal(tables_render_mappings(f, t, NULL, false), 0);
	mem_close(m);
	tables_free(t);
}

static void test_golden_tables(void **state)
{
	struct membuf m;
	render_tables(*state, SIM_S(5), &m);
	check_golden("tables_classic_5s.txt", m.s, m.len);
	free(m.s);
	render_tables(*state, SIM_MS(1100), &m);
	check_golden("tables_classic_1.1s.txt", m.s, m.len);
	free(m.s);
}

/* ---- --at: an entry before its expiry and not after ---- */

static void test_at_shows_entry_until_expiry(void **state)
{
	(void)state;
	/* keepalive.nsim: alice and bob send nothing after 3 s or so; their
	 * 30 s mappings at office are gone by 50 s. */
	struct trace_log *log = test_run_scenario("../scenarios/keepalive.nsim", 8, SCENARIO_UNSET);
	struct membuf m;
	render_tables(log, SIM_S(10), &m);
	assert_non_null(strstr(m.s, "── office: conntrack ──"));
	assert_non_null(strstr(m.s, "src=10.0.0.7 dst=192.0.2.10 sport=5000 dport=3478"));
	assert_non_null(strstr(m.s, "10.0.0.7:5000"));
	free(m.s);
	render_tables(log, SIM_S(45), &m);
	assert_null(strstr(m.s, "src=10.0.0.7 dst=192.0.2.10 sport=5000 dport=3478"));
	free(m.s);
	trace_log_free(log);
}

/* ---- the diagram on a small hand-made log ---- */

struct fixture {
	struct trace trace;
	int64_t clock;
	struct trace_log *log;
	uint8_t bytes[2][128];
	size_t len[2];
};

static const struct endpoint a_lan = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint a_pub = {IP4(203, 0, 113, 7), 5000};
static const struct endpoint srv = {IP4(192, 0, 2, 10), 3478};

static void emit(struct fixture *f, int64_t at, struct trace_record *r)
{
	f->clock = at;
	trace_emit(&f->trace, r);
}

static void emit_node(struct fixture *f, const char *name, const char *type, const char *behind)
{
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = name, .type = type, .detail = "", .behind = behind};
	emit(f, 0, &r);
}

static void emit_link(struct fixture *f, const char *a, const char *ai, const char *b,
		      const char *bi)
{
	struct trace_record r = {.kind = TRACE_LINK};
	r.u.link = (struct trace_link){
	    .event = TRACE_LINK_ADDED, .name = "l", .a = a, .a_iface = ai, .b = b, .b_iface = bi};
	emit(f, 0, &r);
}

static void emit_hop(struct fixture *f, int64_t at, enum trace_hop hop, const char *node,
		     const char *iface, int which, const char *why)
{
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){.hop = hop,
					   .packet_id = 7,
					   .node = node,
					   .iface = iface,
					   .bytes = f->bytes[which],
					   .len = f->len[which],
					   .why = why};
	if (hop == TRACE_HOP_TRANSLATE) {
		r.u.packet.before = f->bytes[0];
		r.u.packet.before_len = f->len[0];
		r.u.packet.map_internal = a_lan;
		r.u.packet.map_external = a_pub;
	}
	if (hop == TRACE_HOP_DROP)
		r.u.packet.reason = TRACE_DROP_FIREWALL;
	emit(f, at, &r);
}

static int setup_small(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	trace_init(&f->trace, &f->clock);
	f->log = trace_log_new();
	trace_log_attach(f->log, &f->trace);
	f->len[0] = packet_build_udp(f->bytes[0], 128, &a_lan, &srv, 64, 1, "hi", 2);
	f->len[1] = packet_build_udp(f->bytes[1], 128, &a_pub, &srv, 63, 1, "hi", 2);
	emit_node(f, "internet", "router", NULL);
	emit_node(f, "home", "nat", NULL);
	emit_node(f, "alice", "host", "home");
	emit_link(f, "home", "lan", "alice", "eth0");
	emit_link(f, "internet", "if1", "home", "wan");
	emit_hop(f, SIM_MS(1), TRACE_HOP_SEND, "alice", NULL, 0, NULL);
	emit_hop(f, SIM_MS(1), TRACE_HOP_TX, "alice", "eth0", 0, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_RX, "home", "lan", 0, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TRANSLATE, "home", NULL, 1, NULL);
	emit_hop(f, SIM_MS(2), TRACE_HOP_TX, "home", "wan", 1, NULL);
	emit_hop(f, SIM_MS(12), TRACE_HOP_RX, "internet", "if1", 1, NULL);
	emit_hop(f, SIM_MS(12), TRACE_HOP_DROP, "internet", "if1", 1,
		 "internet dropped it: a rule said so, and this sentence is long enough to wrap "
		 "over more than one line when the diagram is narrow");
	*state = f;
	return 0;
}

static int teardown_small(void **state)
{
	struct fixture *f = *state;
	trace_log_free(f->log);
	free(f);
	return 0;
}

static char *render_small(struct fixture *f, const struct ladder_options *o)
{
	struct membuf m;
	assert_int_equal(ladder_render(mem_open(&m), f->log, o), 0);
	mem_close(&m);
	return m.s;
}

static void test_lanes_arrows_rewrite_drop(void **state)
{
	struct ladder_options o;
	ladder_options_default(&o);
	o.width = 200; /* names side by side on one header line */
	char *s = render_small(*state, &o);
	/* lanes: host outermost, its NAT inside, the internet in the middle */
	const char *a = strstr(s, "alice"), *h = strstr(s, "home"), *i = strstr(s, "internet");
	assert_true(a != NULL && h != NULL && i != NULL && a < h && h < i);
	assert_non_null(strstr(s, "├──"));
	assert_non_null(strstr(s, "──▶│"));
	assert_non_null(strstr(s, "#7 192.168.1.5:5000 → 192.0.2.10:3478 len=2"));
	assert_non_null(strstr(s, "◆"));
	assert_non_null(strstr(s, "#7 home rewrites source 192.168.1.5:5000 → 203.0.113.7:5000"));
	assert_non_null(strstr(s, "✗"));
	assert_non_null(strstr(s, "internet dropped it"));
	free(s);
}

/* Display columns of a UTF-8 line. */
static size_t columns(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void test_fits_width_and_wraps(void **state)
{
	struct ladder_options o;
	ladder_options_default(&o);
	o.width = 60;
	char *s = render_small(*state, &o);
	size_t lines = 0;
	for (char *p = s, *e; *p != '\0'; p = e + 1, lines++) {
		e = strchr(p, '\n');
		assert_non_null(e);
		assert_true(columns(p, (size_t)(e - p)) <= 60);
	}
	assert_true(lines >= 7); /* header, 4 rows, and the drop wrapped */
	assert_non_null(strstr(s, "…"));
	free(s);
}

static void test_ascii(void **state)
{
	struct ladder_options o;
	ladder_options_default(&o);
	o.ascii = true;
	char *s = render_small(*state, &o);
	for (const char *p = s; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(s, "+--"));
	assert_non_null(strstr(s, "-->|"));
	assert_non_null(strstr(s, "192.168.1.5:5000 -> 192.0.2.10:3478"));
	free(s);
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	struct ladder_options o;
	ladder_options_default(&o);
	o.node = "internet";
	char *s = render_small(f, &o);
	assert_null(strstr(s, "alice")); /* alice's lane is not on a shown row */
	assert_non_null(strstr(s, "├─"));
	free(s);
	ladder_options_default(&o);
	o.from_ns = SIM_MS(5);
	s = render_small(f, &o);
	assert_null(strstr(s, "rewrites"));
	assert_non_null(strstr(s, "dropped"));
	free(s);
	ladder_options_default(&o);
	o.from_ns = SIM_S(5);
	s = render_small(f, &o);
	assert_string_equal(s, "(no packets in this time window)\n");
	free(s);
	assert_true(ladder_node_known(f->log, "home"));
	assert_false(ladder_node_known(f->log, "nobody"));
}

static void test_view(void **state)
{
	struct fixture *f = *state;
	struct ladder_view *v = ladder_view_build(f->log, NULL);
	assert_non_null(v);
	assert_int_equal(v->n_lanes, 3);
	assert_string_equal(v->lanes[0], "alice");
	assert_int_equal(v->n_rows, 4);
	assert_int_equal(v->rows[0].kind, LADDER_ARROW);
	assert_int_equal(v->rows[0].from, 0);
	assert_int_equal(v->rows[0].to, 1);
	assert_int_equal(v->rows[1].kind, LADDER_REWRITE);
	assert_int_equal(v->rows[2].to, 2);
	assert_int_equal(v->rows[3].kind, LADDER_DROP);
	assert_int_equal(v->rows[3].packet_id, 7);
	ladder_view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_golden_ladder_pair, setup_classic, teardown_log),
	    cmocka_unit_test_setup_teardown(test_golden_ladder_all_ascii, setup_classic,
					    teardown_log),
	    cmocka_unit_test_setup_teardown(test_golden_tables, setup_classic, teardown_log),
	    cmocka_unit_test(test_at_shows_entry_until_expiry),
	    cmocka_unit_test_setup_teardown(test_lanes_arrows_rewrite_drop, setup_small,
					    teardown_small),
	    cmocka_unit_test_setup_teardown(test_fits_width_and_wraps, setup_small, teardown_small),
	    cmocka_unit_test_setup_teardown(test_ascii, setup_small, teardown_small),
	    cmocka_unit_test_setup_teardown(test_filters, setup_small, teardown_small),
	    cmocka_unit_test_setup_teardown(test_view, setup_small, teardown_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
