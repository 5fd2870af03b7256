/*
 * tui.h - the ncurses front end of `natsim tui`: panes drawn from the view
 * model (app/tui/tui_model.h), keys and mouse turned into cursor moves.
 *
 * The front end owns no simulation state: every pane is redrawn from the
 * model at the cursor. Drawing and input are separate from the terminal's
 * life cycle so the benchmark can draw into a virtual screen (newterm on
 * /dev/null) and time one full redraw.
 */
#ifndef NATSIM_APP_TUI_H
#define NATSIM_APP_TUI_H

#include <stdbool.h>

#include "app/tui/tui_model.h"
#include "app/tui/tui_quiz.h"
#include "app/tui/tui_view.h" /* TUI_MIN_COLS, TUI_MIN_ROWS */

struct tui_config {
	bool ascii; /* ASCII glyphs instead of arrows and box drawing */
	bool color; /* wanted (NO_COLOR unset); used only if the terminal has colours */
	/* Predict mode (borrowed, or NULL): the model shows what the quiz
	 * allows (hidden while a question about the whole run is open, up to
	 * the next question's moment while stepping, all once marked); the
	 * question pane takes every key while it asks; the marks stay one key
	 * ('m') away at the end. */
	struct tui_quiz *quiz;
};

struct tui;

/* A front end over `m` (borrowed). NULL if out of memory. */
struct tui *tui_new(struct tui_model *m, const struct tui_config *cfg);
void tui_free(struct tui *t);

/* Colours, keypad and mouse for the current screen (after initscr/newterm). */
void tui_screen_setup(struct tui *t);
/* Lay out and draw every pane into stdscr, then refresh. */
void tui_draw(struct tui *t);
/* Act on one key, mouse event or KEY_RESIZE. False when the user quits. */
bool tui_handle_key(struct tui *t, int ch);

/* The interactive session on the terminal: set the screen up, loop until q,
 * SIGINT or SIGTERM, and restore the terminal on every way out (also from
 * atexit). Returns the exit code (0, or 128 + the signal), or -1 if the
 * front end or the screen could not be made (the caller, app/cli/cmd_tui.c,
 * turns that into its own "internal error" exit code: tui/ knows no cli/). */
int tui_run(struct tui_model *m, const struct tui_config *cfg);

#endif
