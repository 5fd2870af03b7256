/*
 * tui_quiz.h - the question pane of `natsim tui --predict`: asks an
 * exercise's questions one by one in a line editor, opens hints on `?`, and
 * collects the replies as answers text ("ID = ANSWER", "hint ID" lines:
 * the format of app/lesson/mark.h), then hands that text to a marker.
 *
 * No ncurses and no app/lesson here (app/tui/ sits below app/lesson/ in
 * the rooms): the questions come in as plain strings and the marking is a
 * callback the caller (app/cli/cmd_tui.c) fills with app/lesson's own
 * marking, so there is one marking logic. Tests drive it key by key.
 *
 * A question may have a moment: a record of the run (a mapping question's
 * time, the send of a drop question's decisive packet). The questions come
 * in asking order: those without a moment first, asked before anything is
 * shown; then those with one, by moment: the run opens up to the next
 * moment (tui_quiz_limit), the student steps to it, and there the question
 * is asked (tui_quiz_arrive) before anything after it is shown.
 *
 * Ownership: the quiz borrows its questions and the marker context; it owns
 * the answers text and the result lines (tui_quiz_fini frees them).
 */
#ifndef NATSIM_APP_TUI_QUIZ_H
#define NATSIM_APP_TUI_QUIZ_H

#include <stdbool.h>
#include <stddef.h>

#include "app/tui/tui_model.h" /* struct tui_lines */

struct tui_quiz_question {
	const char *id;
	const char *text;
	const char *how; /* how to answer: "answer one of: direct relayed ..." */
	const char *const *hints;
	size_t n_hints;
	size_t moment; /* the record it is asked at, or TUI_NONE: before the run */
};

/* Mark the collected answers text (`len` bytes): fill `out` with what to
 * show (right or wrong, the computed answer, points, the score) and
 * `summary` with one status line. Returns 0, or -1 if it could not. */
typedef int (*tui_quiz_marker)(void *ctx, const char *answers, size_t len,
			       struct tui_lines *out, char *summary, size_t size);

#define TUI_QUIZ_EDIT_MAX 150

struct tui_quiz {
	const char *title;	  /* the exercise's title */
	const char *instructions; /* or NULL */
	const struct tui_quiz_question *q;
	size_t n;
	tui_quiz_marker mark;
	void *ctx;
	/* the state */
	size_t at;	   /* the question being asked; n when all are answered */
	bool arrived;	   /* the run has reached q[at]'s moment */
	size_t hints_open; /* of question `at` */
	char edit[TUI_QUIZ_EDIT_MAX + 1];
	size_t edit_len;
	char *answers; /* the collected answers text */
	size_t len, cap;
	bool marked;	       /* the marker has run (or failed) */
	struct tui_lines result; /* what the marker said */
	char summary[160];
};

void tui_quiz_init(struct tui_quiz *z, const struct tui_quiz_question *q, size_t n,
		   tui_quiz_marker mark, void *ctx);
void tui_quiz_fini(struct tui_quiz *z);

/* Keys of the line editor: a printable byte (UTF-8 bytes too) is typed,
 * TUI_QUIZ_BACKSPACE erases one character, TUI_QUIZ_ENTER gives the line as
 * the answer (an empty line leaves the question unanswered) and goes on,
 * `?` on an empty line opens the next hint (recorded: hints cost points).
 * After the last question the marker runs. Returns true when the key did
 * something. */
#define TUI_QUIZ_BACKSPACE 127
#define TUI_QUIZ_ENTER '\n'
bool tui_quiz_key(struct tui_quiz *z, int ch);

/* True once every question has had its answer and the marker ran. */
bool tui_quiz_done(const struct tui_quiz *z);

/* True while a question is being asked: one without a moment, or one whose
 * moment the run has reached. Keys are then the line editor's. */
bool tui_quiz_asking(const struct tui_quiz *z);
/* The last record the run may show now: TUI_NONE when nothing is to be
 * shown yet (a question without a moment is open) and when all is done;
 * else the next question's moment. Check tui_quiz_done first. */
size_t tui_quiz_limit(const struct tui_quiz *z);
/* The run has reached the next question's moment: ask it. */
void tui_quiz_arrive(struct tui_quiz *z);

/* The pane's text for `width` columns: while asking, the question number,
 * its text, how to answer, the hints opened, and the line being edited
 * (ending in '_' for the cursor); when done, the marker's lines. */
int tui_quiz_lines(const struct tui_quiz *z, int width, struct tui_lines *out);

#endif
