/*
 * test_daemon_tcp.c - the p2p agents and the coordinator over the kernel's
 * TCP on 127.0.0.1 (app/net/daemon_tcp.c, `natsim peer --tcp`, `natsim
 * coord`): two peers register over TCP, are introduced, connect to each
 * other from the port the coordinator saw and exchange data directly
 * (loopback has no NAT, so the punch always succeeds); a connect to a port
 * nobody listens on is reported as refused, as the kernel's RST says.
 * Every wait is bounded; nothing leaves the loopback interface.
 */
#include <arpa/inet.h>
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
	struct p2p_endpoint srv = {LOOPBACK, 0}, bound;
	(void)state;
	daemon_tcp_init(&t, &seen_ops, &s);
	/* Nobody listens: the kernel answers the SYN with an RST. */
	struct p2p_tcp_action a = {.type = P2P_TCP_CONNECT, .conn = 7, .local = {LOOPBACK, 0}};
	a.remote = (struct p2p_endpoint){LOOPBACK, free_port()};
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
	    cmocka_unit_test(test_peers_over_tcp),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
