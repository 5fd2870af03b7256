/*
 * commands.c - the table of subcommands (main.c dispatches through it).
 */
#include "app/cli/cli.h"

extern const char cmd_run_usage[];
extern const char cmd_matrix_usage[];
extern const char cmd_sweep_usage[];
extern const char cmd_list_usage[];
extern const char cmd_dot_usage[];
extern const char cmd_flow_usage[];
extern const char cmd_why_usage[];
extern const char cmd_keygen_usage[];
extern const char cmd_coord_usage[];
extern const char cmd_peer_usage[];
extern const char cmd_tui_usage[];
extern const char cmd_exercise_usage[];
extern const char cmd_handout_usage[];
extern const char cmd_check_usage[];
extern const char cmd_course_usage[];

const struct cli_command cli_commands[] = {
	{"run", "run a scenario and check its expectations (default: the classic story)",
	 cmd_run_usage, cmd_run_main},
	{"matrix", "which kinds of NAT and firewall can connect directly, by running them",
	 cmd_matrix_usage, cmd_matrix_main},
	{"sweep", "run a scenario many times per value of a setting: shares, intervals, plots",
	 cmd_sweep_usage, cmd_sweep_main},
	{"list", "list the bundled scenarios", cmd_list_usage, cmd_list_main},
	{"dot", "draw the topology, NAT tables and outcomes (graphviz: svg, png, dot)",
	 cmd_dot_usage, cmd_dot_main},
	{"flow", "draw the packet-flow (ladder) diagram as an image (svg, png, dot)",
	 cmd_flow_usage, cmd_flow_main},
	{"why", "tell one packet's fate hop by hop: natsim why FILE --packet ID", cmd_why_usage,
	 cmd_why_main},
	{"keygen", "create a peer identity (key file) for natsim peer", cmd_keygen_usage,
	 cmd_keygen_main},
	{"coord", "run the coordinator (STUN, rendezvous, relay) on real UDP and TCP sockets",
	 cmd_coord_usage, cmd_coord_main},
	{"peer", "run a peer on real sockets (UDP, or TCP with --tcp): register, connect, send",
	 cmd_peer_usage, cmd_peer_main},
	{"tui", "step through a run: topology, tables, packets", cmd_tui_usage, cmd_tui_main},
	{"exercise", "predict, run, check: answer an exercise's questions, then see the run",
	 cmd_exercise_usage, cmd_exercise_main},
	{"handout", "an exercise as a printable HTML page (--teacher: with the answer key)",
	 cmd_handout_usage, cmd_handout_main},
	{"check", "grade build tasks: students' worlds against a key", cmd_check_usage, cmd_check_main},
	{"course", "the bundled exercises in order, with your status and best scores",
	 cmd_course_usage, cmd_course_main},
};
const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);
