/*
 * builtin.h - the default scenario, compiled into the binary so `natsim`
 * with no arguments works from anywhere (generated from
 * scenarios/classic.nsim at configure time).
 */
#ifndef NATSIM_APP_BUILTIN_H
#define NATSIM_APP_BUILTIN_H

#include <stddef.h>

extern const char builtin_default_name[];   /* "classic.nsim" */
extern const char builtin_default_text[];   /* NUL-terminated */
extern const size_t builtin_default_len;

#endif
