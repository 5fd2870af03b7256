/*
 * test_daemon_tcp.c - the p2p agents and the coordinator over the kernel's
 * TCP on 127.0.0.1 (app/net/daemon_tcp.c, `natsim peer --tcp`, `natsim
 * coord`): two peers register over TCP, are introduced, connect to each
 * other from the port the coordinator saw and exchange data directly
 * (loopback has no NAT, so the punch always succeeds); a connect to a port
 * nobody listens on is reported as refused, as the kernel's RST says; a
 * send the kernel takes only in part is finished on POLLOUT, every frame
 * whole and in order, and a close waits for it.
 * Every wait is bounded; nothing leaves the loopback interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/cli/cli.h"
#include "app/net/daemon.h"
#include "app/net/daemon_tcp.h"

#define LOOPBACK 0x7F000001u

struct child {
	pid_t pid;
	char out[128];
};

static char workdir[64];

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* A TCP (and UDP) port that was free a moment ago. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static struct child spawn(const char *tag, int (*main_fn)(int, char **), char **argv)
{
	struct child c;
	int argc = 0;
	while (argv[argc])
		argc++;
	snprintf(c.out, sizeof(c.out), "%s/%s.log", workdir, tag);
	int fd = open(c.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	fflush(NULL);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(99);
		alarm(30); /* a hung child never outlives the test by much */
		_exit(main_fn(argc, argv));
	}
	close(fd);
	return c;
}

static bool file_contains(const char *path, const char *text)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static bool wait_for_text(const struct child *c, const char *text, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	while (now_ms() < end) {
		if (file_contains(c->out, text))
			return true;
		sleep_ms(20);
	}
	return false;
}

static int wait_exit(struct child *c, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int st;
	while (now_ms() < end) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sleep_ms(10);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	return -1;
}

static void dump(const struct child *c)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sed 's/^/  %d| /' '%s' >&2", (int)c->pid, c->out);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot show %s\n", c->out);
}

static struct child start_coord(uint16_t port)
{
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	char *argv[] = {"coord", "--listen", listen, NULL};
	struct child c = spawn("coord", cmd_coord_main, argv);
	if (!wait_for_text(&c, "listening on", 3000)) {
		dump(&c);
		fail_msg("the coordinator did not start listening within 3 s");
	}
	return c;
}

/* bob echoes, alice connects and sends, both over TCP: both exit 0, alice
 * gets her text back, on a direct TCP path. */
static void test_peers_over_tcp(void **state)
{
	(void)state;
	uint16_t port = free_port();
	struct child coord = start_coord(port);
	char cp[32];
	snprintf(cp, sizeof(cp), "127.0.0.1:%u", port);
	char *bob_argv[] = {"peer",	"--tcp",  "--name",    "bob",	 "--coord",
			    cp,		"--bind", "127.0.0.1", "--echo", "--expect-data",
			    "--linger", "1s",	  "--timeout", "8s",	 NULL};
	struct child bob = spawn("bob", cmd_peer_main, bob_argv);
	if (!wait_for_text(&bob, "registered:", 3000)) {
		dump(&bob);
		dump(&coord);
		fail_msg("bob did not register over TCP within 3 s");
	}
	char *alice_argv[] = {"peer",	       "--tcp",	    "--name", "alice",
			      "--coord",       cp,	    "--bind", "127.0.0.1",
			      "--connect",     "bob",	    "--send", "over TCP",
			      "--expect-data", "--timeout", "8s",     NULL};
	struct child alice = spawn("alice", cmd_peer_main, alice_argv);
	int arc = wait_exit(&alice, 10000), brc = wait_exit(&bob, 10000);
	if (arc != 0 || brc != 0 || !file_contains(alice.out, "data from bob: over TCP\n") ||
	    !file_contains(alice.out, "path: direct: direct to bob over TCP")) {
		dump(&alice);
		dump(&bob);
		dump(&coord);
		fail_msg("exchange over TCP failed: alice exit %d, bob exit %d", arc, brc);
	}
	assert_true(file_contains(coord.out, "introduced"));
	kill(coord.pid, SIGTERM);
	assert_int_equal(wait_exit(&coord, 3000), 0);
}

static void test_usage(void **state)
{
	(void)state;
	char *argv[] = {"peer",	   "--tcp",	  "--name",	"a",
			"--coord", "127.0.0.1:1", "--classify", NULL};
	struct child c = spawn("usage", cmd_peer_main, argv);
	assert_int_equal(wait_exit(&c, 3000), CLI_EXIT_USAGE);
	assert_true(file_contains(c.out, "not with --tcp"));
}

/* ---- daemon_tcp on its own: the kernel's answers as p2p reasons ---- */

struct seen {
	uint32_t closed_conn;
	int closed_why;
	bool connected;
};

static uint32_t no_accept(void *ctx, uint64_t now, const struct p2p_endpoint *l,
			  const struct p2p_endpoint *r)
{
	(void)ctx, (void)now, (void)l, (void)r;
	return 0;
}

static int on_connected(void *ctx, uint64_t now, uint32_t conn, const struct p2p_endpoint *l,
			const struct p2p_endpoint *r, bool simultaneous)
{
	(void)now, (void)conn, (void)l, (void)r, (void)simultaneous;
	((struct seen *)ctx)->connected = true;
	return 0;
}

static int no_input(void *ctx, uint64_t now, uint32_t conn, const uint8_t *b, size_t n)
{
	(void)ctx, (void)now, (void)conn, (void)b, (void)n;
	return 0;
}

static void on_closed(void *ctx, uint64_t now, uint32_t conn, enum p2p_tcp_close why)
{
	struct seen *s = ctx;
	(void)now;
	s->closed_conn = conn;
	s->closed_why = (int)why;
}

static const struct daemon_tcp_ops seen_ops = {no_accept, on_connected, no_input, on_closed};

/* Polls t until its object heard of connection 7, at most a second. */
static void pump(struct daemon_tcp *t, const struct seen *s)
{
	for (int i = 0; i < 100 && s->closed_conn == 0 && !s->connected; i++) {
		struct pollfd pfd[DAEMON_TCP_MAX];
		size_t n = daemon_tcp_pollfds(t, pfd, DAEMON_TCP_MAX);
		assert_true(poll(pfd, n, 10) >= 0);
		for (size_t k = 0; k < n; k++)
			daemon_tcp_ready(t, pfd[k].fd, pfd[k].revents, 0);
	}
}

static void test_refused_and_connected(void **state)
{
	struct daemon_tcp t;
	struct seen s = {0};
	char err[128];
	struct p2p_endpoint srv = {.ip = LOOPBACK, .port = 0}, bound;
	(void)state;
	daemon_tcp_init(&t, &seen_ops, &s);
	/* Nobody listens: the kernel answers the SYN with an RST. */
	struct p2p_tcp_action a = {
	    .type = P2P_TCP_CONNECT, .conn = 7, .local = {.ip = LOOPBACK, .port = 0}};
	a.remote = (struct p2p_endpoint){.ip = LOOPBACK, .port = free_port()};
	assert_int_equal(daemon_tcp_do(&t, &a), 0);
	pump(&t, &s);
	assert_int_equal(s.closed_conn, 7);
	assert_int_equal(s.closed_why, P2P_TCP_REFUSED);
	assert_int_equal(t.n, 0);
	/* A listener there: connected. */
	assert_int_equal(daemon_tcp_listen(&t, &srv, &bound, err, sizeof(err)), 0);
	a.remote = bound;
	s = (struct seen){0};
	assert_int_equal(daemon_tcp_do(&t, &a), 0);
	pump(&t, &s);
	assert_true(s.connected);
	assert_int_equal(s.closed_conn, 0);
	daemon_tcp_fini(&t);
}

/* ---- partial writes: the unsent tail waits for POLLOUT ---- */

/* The two ends of a loopback TCP connection: daemon_tcp's connection 7 with
 * a small send buffer (SNDBUF) and the test's raw `peer` (receive buffer
 * RCVBUF), which reads only when drain() says. tcp_sendmsg copies a send
 * into segments while the send buffer has room and returns the count it
 * copied when it runs out (sk_stream_memory_free): a cut frame, or EAGAIN
 * if it ran out at a frame's first byte. With a 4 KiB send buffer and a
 * 64 KiB window Linux cuts the first send that fills the buffer, every run
 * here; a small window tends to refuse whole frames. (A socketpair(2) of
 * AF_UNIX never cuts a frame this size: unix_stream_sendmsg queues each
 * chunk of up to half the send buffer whole or not at all.) */
struct small_pipe {
	struct daemon_tcp t;
	struct seen seen;
	int peer;
};

static void small_pipe_open(struct small_pipe *p, int sndbuf, int rcvbuf)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	socklen_t sl = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	/* set before listen(2): the accepted socket inherits it, and its
	 * window is sized from it at the handshake */
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	memset(p, 0, sizeof(*p));
	daemon_tcp_init(&p->t, &seen_ops, &p->seen);
	struct p2p_tcp_action a = {
	    .type = P2P_TCP_CONNECT, .conn = 7, .local = {.ip = LOOPBACK, .port = 0}};
	a.remote = (struct p2p_endpoint){.ip = LOOPBACK, .port = ntohs(sin.sin_port)};
	assert_int_equal(daemon_tcp_do(&p->t, &a), 0);
	pump(&p->t, &p->seen);
	assert_true(p->seen.connected);
	p->peer = accept(lfd, NULL, NULL);
	assert_true(p->peer >= 0);
	close(lfd);
	assert_int_equal(fcntl(p->peer, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(p->t.n, 1);
	assert_int_equal(setsockopt(p->t.s[0].fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
			 0);
}

/* Message i: 700 to 1399 bytes, each byte a function of i and its place. */
static size_t message_of(unsigned i, uint8_t *out)
{
	size_t len = 700 + (i * 37) % 700;
	for (size_t k = 0; k < len; k++)
		out[k] = (uint8_t)(i * 7 + k * 13);
	return len;
}

/* SENDs message i, framed as between peers (RFC 4571), on connection 7;
 * returns daemon_tcp_do's answer, and in *cut whether the kernel took part
 * of the frame and left the rest queued (a partial write). */
static int send_message(struct small_pipe *p, unsigned i, bool *cut)
{
	uint8_t msg[P2P_STREAM_MAX_MESSAGE];
	size_t len = message_of(i, msg);
	struct p2p_tcp_action a = {.type = P2P_TCP_SEND, .conn = 7};
	a.len = p2p_stream_frame(P2P_FRAMING_RFC4571, msg, len, a.buf, sizeof(a.buf));
	assert_true(a.len == len + 2);
	size_t before = p->t.n ? p->t.s[0].unsent_len : 0;
	int rc = daemon_tcp_do(&p->t, &a);
	size_t queued = p->t.n ? p->t.s[0].unsent_len - before : 0;
	*cut = rc == 0 && queued > 0 && queued < a.len;
	return rc;
}

/* Reads the peer (and lets daemon_tcp write on POLLOUT) until `want` bytes
 * came, or with want 0 until the FIN; at most 3 s. Returns the bytes read. */
static size_t drain(struct small_pipe *p, uint8_t *buf, size_t cap, size_t want, bool *fin)
{
	size_t got = 0;
	uint64_t end = now_ms() + 3000;
	*fin = false;
	while (now_ms() < end && !*fin && (want == 0 || got < want)) {
		struct pollfd pfd[DAEMON_TCP_MAX];
		size_t n = daemon_tcp_pollfds(&p->t, pfd, DAEMON_TCP_MAX);
		assert_true(poll(pfd, n, 5) >= 0);
		for (size_t k = 0; k < n; k++)
			daemon_tcp_ready(&p->t, pfd[k].fd, pfd[k].revents, 0);
		ssize_t r;
		while (got < cap && (r = read(p->peer, buf + got, cap - got)) > 0)
			got += (size_t)r;
		if (r == 0)
			*fin = true;
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return got;
}

/* The stream buf[0..len) holds messages first .. first+count-1, whole, in
 * order, and nothing else. */
static void assert_messages(const uint8_t *buf, size_t len, unsigned first, unsigned count)
{
	struct p2p_stream st;
	const uint8_t *msg;
	size_t msg_len;
	unsigned i = first;
	p2p_stream_init(&st, P2P_FRAMING_RFC4571);
	while (p2p_stream_next(&st, &buf, &len, &msg, &msg_len) == P2P_STREAM_MESSAGE) {
		uint8_t want[P2P_STREAM_MAX_MESSAGE];
		assert_true(i < first + count);
		assert_int_equal(msg_len, message_of(i, want));
		assert_memory_equal(msg, want, msg_len);
		i++;
	}
	assert_int_equal(len, 0);
	assert_int_equal(st.have, 0); /* no half frame left over */
	assert_int_equal(i, first + count);
}

/* The peer does not read: the kernel's buffers fill, one send is cut, and
 * what follows queues behind the tail; no SEND is an error. When the peer
 * reads, POLLOUT writes the rest: every frame arrives whole, in order. */
static void test_partial_write_finished_on_pollout(void **state)
{
	static uint8_t buf[512 * 1024];
	struct small_pipe p;
	unsigned n = 0, cuts = 0, queued_after = 0;
	bool cut, fin;
	size_t total = 0;
	(void)state;
	small_pipe_open(&p, 4096, 65536);
	while (n < 400 && queued_after < 5) {
		assert_int_equal(send_message(&p, n, &cut), 0);
		cuts += cut;
		queued_after += p.t.s[0].unsent_len > 0 && cuts > 0;
		n++;
	}
	assert_true(cuts > 0); /* a write really was partial */
	assert_int_equal(p.t.errors, 0);
	for (unsigned i = 0; i < n; i++)
		total += message_of(i, buf) + 2;
	size_t got = drain(&p, buf, sizeof(buf), total, &fin);
	assert_int_equal(got, total);
	assert_messages(buf, got, 0, n);
	assert_int_equal(p.t.s[0].unsent_len, 0);
	close(p.peer);
	daemon_tcp_fini(&p.t);
}

/* A CLOSE with bytes still unsent: the object forgets the connection at
 * once (a SEND on it is now an error), the bytes go out, then the FIN. A
 * SEND beyond DAEMON_TCP_UNSENT_MAX is refused whole, never cut. */
static void test_close_waits_for_unsent(void **state)
{
	static uint8_t buf[512 * 1024];
	struct small_pipe p;
	unsigned n = 0;
	bool cut, fin;
	(void)state;
	small_pipe_open(&p, 4096, 65536);
	while (send_message(&p, n, &cut) == 0)
		n++;
	assert_int_equal(p.t.errors, 1); /* the queue is full: refused whole */
	assert_true(p.t.s[0].unsent_len <= DAEMON_TCP_UNSENT_MAX);
	assert_true(p.t.s[0].unsent_len > DAEMON_TCP_UNSENT_MAX - P2P_STREAM_MAX_FRAME);
	struct p2p_tcp_action close_7 = {.type = P2P_TCP_CLOSE, .conn = 7};
	assert_int_equal(daemon_tcp_do(&p.t, &close_7), 0);
	assert_int_equal(p.t.n, 1); /* still writing */
	assert_int_equal(send_message(&p, n, &cut), -1);
	size_t got = drain(&p, buf, sizeof(buf), 0, &fin);
	assert_true(fin);
	assert_messages(buf, got, 0, n);
	assert_int_equal(p.t.n, 0);
	close(p.peer);
	daemon_tcp_fini(&p.t);
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(workdir, sizeof(workdir), "/tmp/natsim-daemon-tcp-XXXXXX");
	return mkdtemp(workdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (getenv("NATSIM_KEEP_LOGS")) {
		fprintf(stderr, "logs kept in %s\n", workdir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_and_connected),
	    cmocka_unit_test(test_partial_write_finished_on_pollout),
	    cmocka_unit_test(test_close_waits_for_unsent),
	    cmocka_unit_test(test_peers_over_tcp),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
