/*
 * test_conntrack.c - connection tracking: Linux 6.1 UDP states and timeouts,
 * the `conntrack -L` line format, exact expiry in virtual time, lazy re-arm.
 *
 * Time moves only through engine_run_until(); nothing sleeps. Expected lines
 * are literals taken from the format conntrack-tools prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h" /* conntrack_format_record */
#include "model/conntrack.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace.h"

#define MAX_RECS 256

/* A trace observer that keeps conntrack records. The strings they point to
 * (node name, why) are literals here or in conntrack.c, so copies are safe. */
struct recs {
	size_t n;
	struct trace_record r[MAX_RECS];
};

struct fx {
	struct engine *e;
	struct conntrack *ct;
	struct recs recs;
};

static void keep_record(const struct trace_record *r, void *ctx)
{
	struct recs *recs = ctx;
	if (r->kind == TRACE_CONNTRACK && recs->n < MAX_RECS)
		recs->r[recs->n++] = *r;
}

static struct fx *fx_new(const struct conntrack_config *cfg)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	assert_non_null(f);
	f->e = engine_new();
	assert_non_null(f->e);
	struct conntrack_config def;
	conntrack_config_default(&def);
	f->ct = conntrack_new(f->e, "fw", cfg != NULL ? cfg : &def);
	assert_non_null(f->ct);
	assert_int_equal(trace_subscribe(engine_trace(f->e), keep_record, &f->recs), 0);
	return f;
}

static int setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	conntrack_free(f->ct);
	engine_free(f->e);
	test_free(f);
	return 0;
}

static struct conntrack_tuple tuple(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	return (struct conntrack_tuple){
	    .proto = IPPROTO_NUM_UDP, .src = src, .dst = dst, .sport = sport, .dport = dport};
}

/* The STUN flow of the header's example: 10.0.0.2:27769 -> 203.0.113.10:3478,
 * NATed to 203.0.113.1:27769. */
static struct conntrack_entry *stun_flow(struct fx *f)
{
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 2), 27769, IP4(203, 0, 113, 10), 3478);
	struct conntrack_tuple r = tuple(IP4(203, 0, 113, 10), 3478, IP4(203, 0, 113, 1), 27769);
	struct conntrack_entry *ent = conntrack_create(f->ct, &o, &r);
	assert_non_null(ent);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 48);
	return ent;
}

/* The line the live table prints for `ent` now. */
static const char *line_of(struct fx *f, const struct conntrack_entry *ent)
{
	static char buf[256];
	struct trace_conntrack rec;
	conntrack_entry_record(f->ct, ent, &rec);
	int n = conntrack_format_record(&rec, engine_now(f->e), buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	return buf;
}

static void test_new_entry_is_unreplied(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);

	assert_false(ent->seen_reply);
	assert_false(ent->assured);
	assert_int_equal(ent->expires_at, SIM_S(30));
	assert_string_equal(line_of(f, ent),
			    "udp      17 30 src=10.0.0.2 dst=203.0.113.10 sport=27769 dport=3478 "
			    "[UNREPLIED] src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=27769 "
			    "mark=0 use=1");
	engine_run_until(f->e, SIM_MS(2500));
	assert_string_equal(line_of(f, ent),
			    "udp      17 28 src=10.0.0.2 dst=203.0.113.10 sport=27769 dport=3478 "
			    "[UNREPLIED] src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=27769 "
			    "mark=0 use=1");
	assert_int_equal(ent->packets[CONNTRACK_DIR_ORIGINAL], 1);
	assert_int_equal(ent->bytes[CONNTRACK_DIR_ORIGINAL], 48);
}

static void test_remaining_seconds_round_up(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);
	static const struct {
		int64_t at;
		const char *secs;
	} rows[] = {
	    {SIM_MS(500), "udp      17 30 "},  {SIM_S(1), "udp      17 29 "},
	    {SIM_MS(1001), "udp      17 29 "}, {SIM_MS(29500), "udp      17 1 "},
	    {SIM_S(30) - 1, "udp      17 1 "},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		engine_run_until(f->e, rows[i].at);
		assert_memory_equal(line_of(f, ent), rows[i].secs, strlen(rows[i].secs));
	}
	/* A record folded from the trace after its deadline never goes negative. */
	struct trace_conntrack rec;
	char buf[256];
	conntrack_entry_record(f->ct, ent, &rec);
	conntrack_format_record(&rec, SIM_S(99), buf, sizeof(buf));
	assert_memory_equal(buf, "udp      17 0 src=", 18);
}

static void test_reply_clears_unreplied(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);

	engine_run_until(f->e, SIM_S(1));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 60);
	assert_true(ent->seen_reply);
	assert_false(ent->assured);
	/* The first reply still gets the unreplied timeout. */
	assert_int_equal(ent->expires_at, SIM_S(31));
	assert_string_equal(line_of(f, ent),
			    "udp      17 30 src=10.0.0.2 dst=203.0.113.10 sport=27769 dport=3478 "
			    "src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=27769 mark=0 use=1");
	assert_int_equal(ent->packets[CONNTRACK_DIR_REPLY], 1);
	assert_int_equal(ent->bytes[CONNTRACK_DIR_REPLY], 60);
}

static struct conntrack_entry *game_flow(struct fx *f)
{
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 2), 5000, IP4(192, 0, 2, 1), 5000);
	struct conntrack_tuple r = tuple(IP4(192, 0, 2, 1), 5000, IP4(203, 0, 113, 1), 61000);
	struct conntrack_entry *ent = conntrack_create(f->ct, &o, &r);
	assert_non_null(ent);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);
	return ent;
}

static void test_assured_after_two_seconds(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = game_flow(f);

	engine_run_until(f->e, SIM_S(1));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 100);
	/* Exactly 2 s after creation is not yet "after" (time_after is strict). */
	engine_run_until(f->e, SIM_S(2));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);
	assert_false(ent->assured);
	assert_int_equal(ent->expires_at, SIM_S(32));
	engine_run_until(f->e, SIM_S(3));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);
	assert_true(ent->assured);
	assert_int_equal(ent->expires_at, SIM_S(123));
	engine_run_until(f->e, SIM_S(6));
	assert_string_equal(line_of(f, ent),
			    "udp      17 117 src=10.0.0.2 dst=192.0.2.1 sport=5000 dport=5000 "
			    "src=192.0.2.1 dst=203.0.113.1 sport=5000 dport=61000 [ASSURED] "
			    "mark=0 use=1");
	/* Every later packet pushes the stream timeout again. */
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 100);
	assert_int_equal(ent->expires_at, SIM_S(126));
}

static void test_late_first_reply_is_not_assured(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = game_flow(f);

	/* IPS_SEEN_REPLY is set after the UDP handler ran, so the first reply
	 * cannot assure the flow even when it comes late. */
	engine_run_until(f->e, SIM_S(5));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 100);
	assert_true(ent->seen_reply);
	assert_false(ent->assured);
	assert_int_equal(ent->expires_at, SIM_S(35));
	engine_run_until(f->e, SIM_S(6));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);
	assert_true(ent->assured);
	assert_int_equal(ent->expires_at, SIM_S(126));
}

static void test_trace_events(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = game_flow(f);

	engine_run_until(f->e, SIM_S(1));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 100);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 100);
	engine_run_until(f->e, SIM_S(3));
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 100);

	/* The creating packet is told by NEW alone (see test_first_packet_only_creates). */
	static const enum trace_ct_event want[] = {
	    TRACE_CT_NEW, TRACE_CT_UPDATE, TRACE_CT_REFRESH, TRACE_CT_UPDATE, TRACE_CT_REFRESH,
	};
	assert_int_equal(f->recs.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < f->recs.n; i++)
		assert_int_equal(f->recs.r[i].u.ct.event, want[i]);
	const struct trace_conntrack *nw = &f->recs.r[0].u.ct;
	assert_string_equal(nw->node, "fw");
	assert_int_equal(nw->id, ent->id);
	assert_int_equal(nw->proto, 17);
	assert_false(nw->seen_reply);
	assert_int_equal(nw->expires_at, SIM_S(30));
	assert_true(f->recs.r[1].u.ct.seen_reply);
	assert_false(f->recs.r[1].u.ct.assured);
	assert_true(f->recs.r[3].u.ct.assured);
	assert_int_equal(f->recs.r[3].u.ct.expires_at, SIM_S(123));
	assert_int_equal(f->recs.r[3].time, SIM_S(3));
}

/* The packet that creates an entry is counted, and its NEW record is the only
 * record it makes: the entry was not "refreshed" by the packet that made it
 * (Linux's conntrack -E likewise shows one [NEW] event for it). The next
 * packet, even at the same instant, refreshes. */
static void test_first_packet_only_creates(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f); /* create + seen, as host and router do */

	assert_int_equal(f->recs.n, 1);
	assert_int_equal(f->recs.r[0].u.ct.event, TRACE_CT_NEW);
	assert_int_equal(f->recs.r[0].u.ct.expires_at, SIM_S(30));
	assert_int_equal(ent->packets[CONNTRACK_DIR_ORIGINAL], 1);
	assert_int_equal(ent->bytes[CONNTRACK_DIR_ORIGINAL], 48);

	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 48);
	assert_int_equal(f->recs.n, 2);
	assert_int_equal(f->recs.r[1].u.ct.event, TRACE_CT_REFRESH);
	assert_int_equal(ent->packets[CONNTRACK_DIR_ORIGINAL], 2);

	/* With a binding's deadline (a NAT's flow) likewise. */
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 3), 4000, IP4(203, 0, 113, 10), 3478);
	struct conntrack_tuple r = tuple(IP4(203, 0, 113, 10), 3478, IP4(203, 0, 113, 1), 4000);
	struct conntrack_entry *nat = conntrack_create_until(f->ct, &o, &r, SIM_S(120));
	assert_non_null(nat);
	conntrack_seen_until(f->ct, nat, CONNTRACK_DIR_ORIGINAL, 48, SIM_S(120));
	assert_int_equal(f->recs.n, 3);
	assert_int_equal(f->recs.r[2].u.ct.event, TRACE_CT_NEW);
	assert_int_equal(f->recs.r[2].u.ct.expires_at, SIM_S(120));
}

static void test_expires_at_exact_nanosecond(void **state)
{
	struct fx *f = *state;
	stun_flow(f);

	engine_run_until(f->e, SIM_S(30) - 1);
	assert_int_equal(conntrack_count(f->ct), 1);
	engine_run_until(f->e, SIM_S(30));
	assert_int_equal(conntrack_count(f->ct), 0);
	assert_int_equal(engine_pending(f->e), 0);
	const struct trace_record *last = &f->recs.r[f->recs.n - 1];
	assert_int_equal(last->u.ct.event, TRACE_CT_DESTROY);
	assert_int_equal(last->time, SIM_S(30));
	assert_string_equal(last->u.ct.why, "timed out");
}

static void test_refresh_pushes_expiry_lazily(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);
	struct conntrack_entry *other = game_flow(f);
	(void)other;

	assert_int_equal(engine_pending(f->e), 2);
	/* 100 packets, one every 100 ms: still one pending event per entry. */
	for (int i = 1; i <= 100; i++) {
		engine_run_until(f->e, SIM_MS(100) * i);
		conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 48);
		assert_int_equal(engine_pending(f->e), 2);
	}
	assert_int_equal(ent->expires_at, SIM_S(40));
	engine_run_until(f->e, SIM_S(30));
	assert_int_equal(conntrack_count(f->ct), 1); /* the idle one went */
	assert_int_equal(engine_pending(f->e), 1);   /* re-armed once at 40 s */
	engine_run_until(f->e, SIM_S(40) - 1);
	assert_int_equal(conntrack_count(f->ct), 1);
	engine_run_until(f->e, SIM_S(40));
	assert_int_equal(conntrack_count(f->ct), 0);
	const struct trace_record *last = &f->recs.r[f->recs.n - 1];
	assert_int_equal(last->u.ct.event, TRACE_CT_DESTROY);
	assert_int_equal(last->time, SIM_S(40));
}

static void test_lookup_both_ways(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 2), 27769, IP4(203, 0, 113, 10), 3478);
	struct conntrack_tuple r = tuple(IP4(203, 0, 113, 10), 3478, IP4(203, 0, 113, 1), 27769);
	struct conntrack_tuple x = tuple(IP4(203, 0, 113, 10), 3478, IP4(10, 0, 0, 2), 27769);
	enum conntrack_dir dir = CONNTRACK_DIR_REPLY;

	assert_ptr_equal(conntrack_lookup(f->ct, &o, &dir), ent);
	assert_int_equal(dir, CONNTRACK_DIR_ORIGINAL);
	assert_ptr_equal(conntrack_lookup(f->ct, &r, &dir), ent);
	assert_int_equal(dir, CONNTRACK_DIR_REPLY);
	/* The un-NATed reverse of the original is not the reply tuple. */
	assert_null(conntrack_lookup(f->ct, &x, &dir));
	o.proto = IPPROTO_NUM_TCP;
	assert_null(conntrack_lookup(f->ct, &o, NULL));
}

static void test_state_of(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);

	assert_int_equal(conntrack_state_of(NULL, CONNTRACK_DIR_ORIGINAL), CONNTRACK_NEW);
	assert_int_equal(conntrack_state_of(ent, CONNTRACK_DIR_ORIGINAL), CONNTRACK_NEW);
	assert_int_equal(conntrack_state_of(ent, CONNTRACK_DIR_REPLY), CONNTRACK_ESTABLISHED);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_REPLY, 10);
	assert_int_equal(conntrack_state_of(ent, CONNTRACK_DIR_ORIGINAL), CONNTRACK_ESTABLISHED);
}

static void test_many_entries_lookup(void **state)
{
	struct fx *f = *state;

	/* Enough to grow the hash several times. */
	for (uint16_t i = 0; i < 1000; i++) {
		struct conntrack_tuple o =
		    tuple(IP4(10, 0, 0, 2), 10000 + i, IP4(192, 0, 2, 1), 53);
		struct conntrack_tuple r =
		    tuple(IP4(192, 0, 2, 1), 53, IP4(203, 0, 113, 1), 20000 + i);
		assert_non_null(conntrack_create(f->ct, &o, &r));
	}
	assert_int_equal(conntrack_count(f->ct), 1000);
	for (uint16_t i = 0; i < 1000; i++) {
		struct conntrack_tuple o =
		    tuple(IP4(10, 0, 0, 2), 10000 + i, IP4(192, 0, 2, 1), 53);
		struct conntrack_tuple r =
		    tuple(IP4(192, 0, 2, 1), 53, IP4(203, 0, 113, 1), 20000 + i);
		enum conntrack_dir dir;
		struct conntrack_entry *a = conntrack_lookup(f->ct, &o, &dir);
		assert_non_null(a);
		assert_int_equal(dir, CONNTRACK_DIR_ORIGINAL);
		assert_ptr_equal(conntrack_lookup(f->ct, &r, &dir), a);
		assert_int_equal(dir, CONNTRACK_DIR_REPLY);
		assert_int_equal(a->orig.sport, 10000 + i);
	}
	engine_run_until(f->e, SIM_S(30));
	assert_int_equal(conntrack_count(f->ct), 0);
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	stun_flow(f);
	game_flow(f);
	assert_int_equal(engine_pending(f->e), 2);
	size_t before = f->recs.n;

	conntrack_flush(f->ct, "flushed (reboot)");
	assert_int_equal(conntrack_count(f->ct), 0);
	assert_int_equal(engine_pending(f->e), 0);
	assert_int_equal(f->recs.n, before + 2);
	for (size_t i = before; i < f->recs.n; i++) {
		assert_int_equal(f->recs.r[i].u.ct.event, TRACE_CT_DESTROY);
		assert_string_equal(f->recs.r[i].u.ct.why, "flushed (reboot)");
	}
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 2), 27769, IP4(203, 0, 113, 10), 3478);
	assert_null(conntrack_lookup(f->ct, &o, NULL));
	/* Nothing left to fire. */
	engine_run_until(f->e, SIM_S(200));
	assert_int_equal(f->recs.n, before + 2);
}

static void test_table_full(void **state)
{
	(void)state;
	struct conntrack_config cfg;
	conntrack_config_default(&cfg);
	cfg.max_entries = 2;
	struct fx *f = fx_new(&cfg);

	stun_flow(f);
	engine_run_until(f->e, SIM_S(10));
	game_flow(f);
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 3), 1, IP4(192, 0, 2, 1), 2);
	struct conntrack_tuple r = tuple(IP4(192, 0, 2, 1), 2, IP4(203, 0, 113, 1), 1);
	assert_null(conntrack_create(f->ct, &o, &r));
	assert_int_equal(conntrack_count(f->ct), 2);
	/* Once the first flow times out there is room again. */
	engine_run_until(f->e, SIM_S(30));
	assert_non_null(conntrack_create(f->ct, &o, &r));
	assert_int_equal(conntrack_count(f->ct), 2);
	void *p = f;
	teardown(&p);
}

static void test_custom_timeouts(void **state)
{
	(void)state;
	struct conntrack_config cfg;
	conntrack_config_default(&cfg);
	assert_int_equal(cfg.udp_timeout, SIM_S(30));
	assert_int_equal(cfg.udp_timeout_stream, SIM_S(120));
	assert_int_equal(cfg.udp_stream_after, SIM_S(2));
	assert_int_equal(cfg.max_entries, 65536);
	cfg.udp_timeout = SIM_S(10);
	struct fx *f = fx_new(&cfg);

	struct conntrack_entry *ent = stun_flow(f);
	assert_int_equal(ent->expires_at, SIM_S(10));
	engine_run_until(f->e, SIM_S(10));
	assert_int_equal(conntrack_count(f->ct), 0);
	void *p = f;
	teardown(&p);
}

static void test_footer(void **state)
{
	(void)state;
	char buf[128];

	const char *want = "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.";

	assert_int_equal(conntrack_format_footer(3, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	conntrack_format_footer(1, buf, sizeof(buf));
	assert_string_equal(buf,
			    "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.");
	conntrack_format_footer(0, buf, sizeof(buf));
	assert_string_equal(buf,
			    "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.");
}

struct ids {
	size_t n, stop_after;
	uint32_t id[8];
};

static bool collect(const struct conntrack_entry *e, void *ctx)
{
	struct ids *ids = ctx;
	ids->id[ids->n++] = e->id;
	return ids->n < ids->stop_after;
}

static void test_foreach_creation_order(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *a = game_flow(f);
	engine_run_until(f->e, SIM_S(1));
	struct conntrack_entry *b = stun_flow(f);
	struct conntrack_tuple o = tuple(IP4(10, 0, 0, 9), 1234, IP4(192, 0, 2, 1), 53);
	struct conntrack_tuple r = tuple(IP4(192, 0, 2, 1), 53, IP4(203, 0, 113, 1), 1234);
	struct conntrack_entry *c = conntrack_create(f->ct, &o, &r);
	struct ids ids = {.stop_after = 8};

	conntrack_foreach(f->ct, collect, &ids);
	assert_int_equal(ids.n, 3);
	assert_int_equal(ids.id[0], a->id);
	assert_int_equal(ids.id[1], b->id);
	assert_int_equal(ids.id[2], c->id);
	assert_true(a->id < b->id && b->id < c->id);
	/* The oldest timing out keeps the order of the rest. */
	engine_run_until(f->e, SIM_S(30));
	ids = (struct ids){.stop_after = 8};
	conntrack_foreach(f->ct, collect, &ids);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], b->id);
	assert_int_equal(ids.id[1], c->id);
	/* Stopping early. */
	ids = (struct ids){.stop_after = 1};
	conntrack_foreach(f->ct, collect, &ids);
	assert_int_equal(ids.n, 1);
}

static void test_format_truncates_like_snprintf(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f);
	struct trace_conntrack rec;
	char small[16];

	conntrack_entry_record(f->ct, ent, &rec);
	assert_int_equal(rec.use, 1);
	assert_int_equal(rec.mark, 0);
	const char *full = "udp      17 30 src=10.0.0.2 dst=203.0.113.10 sport=27769 dport=3478 "
			   "[UNREPLIED] src=203.0.113.10 dst=203.0.113.1 sport=3478 dport=27769 "
			   "mark=0 use=1";
	int n = conntrack_format_record(&rec, 0, small, sizeof(small));
	assert_int_equal(n, (int)strlen(full));
	assert_string_equal(small, "udp      17 30 ");
}

/* A NAT binding's deadline (conntrack_seen_until) replaces the UDP timeouts,
 * later or earlier, exactly; the flags still follow Linux; the destroy hook
 * sees each entry go, already out of the table. */
struct gone {
	struct conntrack *ct;
	size_t n;
	uint32_t last_id;
	size_t count_then;
};

static void on_gone(const struct conntrack_entry *e, void *ctx)
{
	struct gone *g = ctx;
	g->n++;
	g->last_id = e->id;
	g->count_then = conntrack_count(g->ct);
}

static void test_binding_deadline_and_destroy_hook(void **state)
{
	struct fx *f = *state;
	struct gone g = {.ct = f->ct};
	conntrack_set_destroy_hook(f->ct, on_gone, &g);
	struct conntrack_entry *e = stun_flow(f);
	uint32_t id = e->id;

	conntrack_seen_until(f->ct, e, CONNTRACK_DIR_ORIGINAL, 100, SIM_S(20));
	assert_int_equal(e->expires_at, SIM_S(20));
	engine_run_until(f->e, SIM_S(3));
	/* A reply after 2 s makes a stream ([ASSURED]) but not 120 s. */
	conntrack_seen_until(f->ct, e, CONNTRACK_DIR_REPLY, 100, SIM_S(20));
	conntrack_seen_until(f->ct, e, CONNTRACK_DIR_ORIGINAL, 100, SIM_S(23));
	assert_true(e->seen_reply);
	assert_true(e->assured);
	assert_int_equal(e->expires_at, SIM_S(23));
	/* Earlier than the pending event: honoured to the nanosecond. */
	conntrack_seen_until(f->ct, e, CONNTRACK_DIR_ORIGINAL, 100, SIM_S(5));
	engine_run_until(f->e, SIM_S(5) - 1);
	assert_int_equal(conntrack_count(f->ct), 1);
	assert_int_equal(g.n, 0);
	engine_run_until(f->e, SIM_S(5));
	assert_int_equal(conntrack_count(f->ct), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.last_id, id);
	assert_int_equal(g.count_then, 0);
	/* Flushed entries go through the hook too. */
	stun_flow(f);
	conntrack_flush(f->ct, "flushed (reboot)");
	assert_int_equal(g.n, 2);
}

/* ---- ICMP (nf_conntrack_proto_icmp.c) ------------------------------------ */

/* A parsed echo as packet_parse leaves it (ids play ports: packet.h). */
static struct packet_info echo_info(uint32_t src, uint32_t dst, uint8_t type, uint16_t id)
{
	struct packet_info i = {.proto = IPPROTO_NUM_ICMP, .src = src, .dst = dst};

	i.icmp_type = type;
	i.icmp_id = id;
	i.sport = type == ICMP_ECHO_REQUEST ? id : 0;
	i.dport = type == ICMP_ECHO_REQUEST ? 0 : id;
	return i;
}

/* An error from `src` to `dst` quoting a UDP packet isrc:isp -> idst:idp. */
static struct packet_info error_info(uint32_t src, uint32_t dst, uint32_t isrc, uint16_t isp,
				     uint32_t idst, uint16_t idp)
{
	struct packet_info i = {.proto = IPPROTO_NUM_ICMP, .src = src, .dst = dst};

	i.icmp_type = ICMP_DEST_UNREACH;
	i.icmp_code = ICMP_PORT_UNREACH;
	i.icmp_error = true;
	i.inner.proto = IPPROTO_NUM_UDP;
	i.inner.src = isrc;
	i.inner.sport = isp;
	i.inner.dst = idst;
	i.inner.dport = idp;
	return i;
}

static void test_icmp_tuple_and_invert(void **state)
{
	(void)state;
	struct packet_info req = echo_info(IP4(10, 0, 0, 7), IP4(192, 0, 2, 1), 8, 0x1234);
	struct conntrack_tuple t, r, back;

	conntrack_tuple_of(&req, &t);
	assert_int_equal(t.sport, 0x1234);
	assert_int_equal(t.dport, 8 << 8);
	assert_true(conntrack_tuple_invert(&t, &r));
	assert_int_equal(r.src, IP4(192, 0, 2, 1));
	assert_int_equal(r.dst, IP4(10, 0, 0, 7));
	assert_int_equal(r.sport, 0x1234); /* the id stays on the same side */
	assert_int_equal(r.dport, 0 << 8); /* echo reply */
	assert_true(conntrack_tuple_invert(&r, &back));
	assert_memory_equal(&back, &t, sizeof(t));
	/* The reply a host sends is the entry's reply tuple. */
	struct packet_info rep = echo_info(IP4(192, 0, 2, 1), IP4(10, 0, 0, 7), 0, 0x1234);
	conntrack_tuple_of(&rep, &back);
	assert_memory_equal(&back, &r, sizeof(r));
	/* Timestamp 13 <-> 14; an error type has no inverse. */
	t.dport = 13 << 8 | 0;
	assert_true(conntrack_tuple_invert(&t, &r));
	assert_int_equal(r.dport >> 8, 14);
	t.dport = 3 << 8 | 3;
	assert_false(conntrack_tuple_invert(&t, &r));
}

/* ping 192.0.2.1 from 10.0.0.7: a request makes the entry, 30 s, the
 * reply clears [UNREPLIED], and it never becomes [ASSURED]. */
static void test_icmp_echo_entry(void **state)
{
	struct fx *f = *state;
	struct packet_info req = echo_info(IP4(10, 0, 0, 7), IP4(192, 0, 2, 1), 8, 77);
	struct packet_info rep = echo_info(IP4(192, 0, 2, 1), IP4(10, 0, 0, 7), 0, 77);
	struct conntrack_entry *ent = NULL;
	enum conntrack_dir dir;
	struct conntrack_tuple t, r;

	assert_int_equal(conntrack_classify(f->ct, &req, &ent, &dir), CONNTRACK_NEW);
	assert_null(ent);
	conntrack_tuple_of(&req, &t);
	conntrack_tuple_invert(&t, &r);
	ent = conntrack_create(f->ct, &t, &r);
	conntrack_seen(f->ct, ent, CONNTRACK_DIR_ORIGINAL, 84);
	assert_int_equal(ent->expires_at, SIM_S(30));
	assert_string_equal(
	    line_of(f, ent),
	    "icmp     1 30 src=10.0.0.7 dst=192.0.2.1 type=8 code=0 id=77 [UNREPLIED] "
	    "src=192.0.2.1 dst=10.0.0.7 type=0 code=0 id=77 mark=0 use=1");
	for (int s = 1; s <= 5; s++) {
		engine_run_until(f->e, SIM_S(s));
		struct conntrack_entry *got = NULL;
		assert_int_equal(conntrack_classify(f->ct, &rep, &got, &dir),
				 CONNTRACK_ESTABLISHED);
		assert_ptr_equal(got, ent);
		assert_int_equal(dir, CONNTRACK_DIR_REPLY);
		conntrack_seen(f->ct, got, dir, 84);
	}
	assert_false(ent->assured); /* UDP would be [ASSURED] by now */
	assert_int_equal(ent->expires_at, SIM_S(35));
	assert_string_equal(line_of(f, ent),
			    "icmp     1 30 src=10.0.0.7 dst=192.0.2.1 type=8 code=0 id=77 "
			    "src=192.0.2.1 dst=10.0.0.7 type=0 code=0 id=77 mark=0 use=1");
}

/* An echo reply nobody asked for cannot start a flow (valid_new[]). */
static void test_icmp_unsolicited_reply_invalid(void **state)
{
	struct fx *f = *state;
	struct packet_info rep = echo_info(IP4(192, 0, 2, 1), IP4(10, 0, 0, 7), 0, 77);
	struct packet_info req = echo_info(IP4(192, 0, 2, 1), IP4(10, 0, 0, 7), 8, 77);
	struct conntrack_entry *ent = NULL;
	enum conntrack_dir dir;

	assert_int_equal(conntrack_classify(f->ct, &rep, &ent, &dir), CONNTRACK_INVALID);
	assert_null(ent);
	assert_int_equal(conntrack_classify(f->ct, &req, &ent, &dir), CONNTRACK_NEW);
	assert_int_equal(conntrack_count(f->ct), 0);
}

/* A port unreachable about the STUN flow, coming back to the NAT: RELATED,
 * told in the trace, and the entry is neither refreshed nor counted. */
static void test_icmp_error_related(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *ent = stun_flow(f), *got = NULL;
	enum conntrack_dir dir;
	size_t before = f->recs.n;
	struct packet_info err = error_info(IP4(203, 0, 113, 10), IP4(203, 0, 113, 1),
					    IP4(203, 0, 113, 1), 27769, IP4(203, 0, 113, 10), 3478);

	engine_run_until(f->e, SIM_S(10));
	assert_int_equal(conntrack_classify(f->ct, &err, &got, &dir), CONNTRACK_RELATED);
	assert_ptr_equal(got, ent);
	assert_int_equal(dir, CONNTRACK_DIR_REPLY);
	assert_int_equal(f->recs.n, before + 1);
	assert_int_equal(f->recs.r[before].u.ct.event, TRACE_CT_RELATED);
	assert_int_equal(f->recs.r[before].u.ct.id, ent->id);
	assert_int_equal(ent->expires_at, SIM_S(30));
	assert_int_equal(ent->packets[CONNTRACK_DIR_REPLY], 0);
	assert_false(ent->seen_reply);
}

/* No flow for the quoted packet, or the error addressed to someone else
 * than the quoted packet's sender (nf_conntrack_inet_error's "outer daddr
 * != inner"): INVALID, nothing traced. */
static void test_icmp_error_invalid(void **state)
{
	struct fx *f = *state;
	struct conntrack_entry *got = NULL;
	enum conntrack_dir dir;

	stun_flow(f);
	size_t before = f->recs.n;
	struct packet_info other =
	    error_info(IP4(203, 0, 113, 10), IP4(203, 0, 113, 1), IP4(203, 0, 113, 1), 27770,
		       IP4(203, 0, 113, 10), 3478);
	struct packet_info elsewhere =
	    error_info(IP4(203, 0, 113, 10), IP4(203, 0, 113, 99), IP4(203, 0, 113, 1), 27769,
		       IP4(203, 0, 113, 10), 3478);
	assert_int_equal(conntrack_classify(f->ct, &other, &got, &dir), CONNTRACK_INVALID);
	assert_null(got);
	assert_int_equal(conntrack_classify(f->ct, &elsewhere, &got, &dir), CONNTRACK_INVALID);
	assert_null(got);
	assert_int_equal(f->recs.n, before);
}

/* An error about an echo (a time exceeded for a ping) finds the echo's
 * entry through the inverted inner tuple: reply type, same id. */
static void test_icmp_error_about_echo(void **state)
{
	struct fx *f = *state;
	struct packet_info req = echo_info(IP4(10, 0, 0, 7), IP4(192, 0, 2, 1), 8, 5);
	struct conntrack_tuple t, r;
	struct conntrack_entry *ent, *got = NULL;
	enum conntrack_dir dir;

	conntrack_tuple_of(&req, &t);
	conntrack_tuple_invert(&t, &r);
	ent = conntrack_create(f->ct, &t, &r);
	struct packet_info err = {.proto = IPPROTO_NUM_ICMP,
				  .src = IP4(198, 51, 100, 1),
				  .dst = IP4(10, 0, 0, 7),
				  .icmp_type = ICMP_TIME_EXCEEDED,
				  .icmp_error = true};
	err.inner.proto = IPPROTO_NUM_ICMP;
	err.inner.src = IP4(10, 0, 0, 7);
	err.inner.dst = IP4(192, 0, 2, 1);
	err.inner.icmp_type = ICMP_ECHO_REQUEST;
	err.inner.icmp_id = 5;
	err.inner.sport = 5;
	assert_int_equal(conntrack_classify(f->ct, &err, &got, &dir), CONNTRACK_RELATED);
	assert_ptr_equal(got, ent);
	assert_int_equal(dir, CONNTRACK_DIR_REPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_entry_is_unreplied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_binding_deadline_and_destroy_hook, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_remaining_seconds_round_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_clears_unreplied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_assured_after_two_seconds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_first_reply_is_not_assured, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trace_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_packet_only_creates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expires_at_exact_nanosecond, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_pushes_expiry_lazily, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_of, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_entries_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_custom_timeouts),
	    cmocka_unit_test(test_footer),
	    cmocka_unit_test_setup_teardown(test_foreach_creation_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_truncates_like_snprintf, setup, teardown),
	    cmocka_unit_test(test_icmp_tuple_and_invert),
	    cmocka_unit_test_setup_teardown(test_icmp_echo_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_unsolicited_reply_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_error_related, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_error_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_error_about_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
