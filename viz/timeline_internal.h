/*
 * timeline_internal.h - what timeline.c shares with timeline_spray.c: a line
 * being written, and the printer that lays it out. Not a public header.
 */
#ifndef NATSIM_VIZ_TIMELINE_INTERNAL_H
#define NATSIM_VIZ_TIMELINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "viz/timeline.h"

#define TL_TEXT_MAX 1536

enum tl_style { TL_PLAIN, TL_RED, TL_GREEN, TL_YELLOW, TL_BOLD };

struct tl_line {
	const char *node;
	enum tl_style style;
	char text[TL_TEXT_MAX];
	size_t len;
};

#define ARROW "\u2192"
#define CROSS "\u2717"
#define CHECK "\u2713"
#define BOTH_WAYS "\u2194"

/* Append to the line's sentence; a sentence too long is cut, not overrun. */
void tl_say(struct tl_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Time column, node column, the sentence (wrapped, coloured, ASCII as asked). */
void tl_print_line(FILE *out, int64_t t, const struct tl_line *l,
		   const struct timeline_options *opt);

#endif
