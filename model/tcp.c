/*
 * tcp.c - see tcp.h.
 */
#include "model/tcp.h"

#include <stddef.h>

static const char *const state_names[TCP_STATE_COUNT] = {
    [TCP_CLOSED] = "CLOSED",	       [TCP_LISTEN] = "LISTEN",
    [TCP_SYN_SENT] = "SYN-SENT",       [TCP_SYN_RECEIVED] = "SYN-RECEIVED",
    [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
    [TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
    [TCP_CLOSING] = "CLOSING",	       [TCP_LAST_ACK] = "LAST-ACK",
    [TCP_TIME_WAIT] = "TIME-WAIT",
};

static const char *const cause_names[TCP_CAUSE_COUNT] = {
    [TCP_CAUSE_APP] = "application", [TCP_CAUSE_SEGMENT] = "segment",	  [TCP_CAUSE_RST] = "reset",
    [TCP_CAUSE_RETRIES] = "retries", [TCP_CAUSE_TIME_WAIT] = "time-wait", [TCP_CAUSE_ICMP] = "icmp",
};

const char *tcp_state_name(enum tcp_state s)
{
	return (unsigned)s < TCP_STATE_COUNT ? state_names[s] : "?";
}

const char *tcp_cause_name(enum tcp_cause c)
{
	return (unsigned)c < TCP_CAUSE_COUNT ? cause_names[c] : "?";
}

void tcp_config_default(struct tcp_config *cfg)
{
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->retries2 = 15;
	cfg->rto_initial = SIM_S(1);
	cfg->rto_min = SIM_MS(200);
	cfg->rto_max = SIM_S(120);
	cfg->time_wait = SIM_S(60);
	cfg->mss = 1460;
	cfg->window = 65535;
	cfg->send_buffer = 262144;
}
