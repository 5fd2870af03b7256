/*
 * text.h - the small string helpers the plain-text renderers (ladder,
 * timeline, why) share: measuring UTF-8, wrapping at word boundaries,
 * transliterating for ASCII terminals, appending to a fixed buffer.
 *
 * Widths are one column per UTF-8 code point, whatever the locale: natsim's
 * own sentences use no wide or combining characters, and rendered output must
 * be the same on every machine (goldens compare it byte for byte). The TUI,
 * which must fit whatever a user typed, measures with wcwidth() instead.
 *
 * Nothing here allocates; no helper reads past a string's NUL.
 */
#ifndef NATSIM_VIZ_TEXT_H
#define NATSIM_VIZ_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Columns the first `n` bytes of `s` take: the code points that start in
 * them (a continuation byte is not counted). Stops early at a NUL. */
size_t text_width(const char *s, size_t n);

/* Bytes of the first `cols` columns of `s`: never more than strlen(s), and
 * always at a code point boundary as long as `s` is valid UTF-8. */
size_t text_bytes_for_cols(const char *s, size_t cols);

/* The end of the longest run of whole words from `p` that fits in `avail`
 * columns; words are separated by spaces, which count towards the width when
 * between words (a caller skips them before the next line). At least one word
 * is taken, so a caller that loops always advances (when avail > 0): if that
 * first word alone is wider than `avail`, it is cut to exactly `avail` columns
 * when `cut_long_words`, otherwise returned whole and left to run over. */
const char *text_fit_words(const char *p, size_t avail, bool cut_long_words);

/* Copy `in` to `out` (`size` >= 1 bytes) with every non-ASCII character
 * replaced: the symbols natsim's sentences use get ASCII look-alikes
 * ("→" "->", "←" "<-", "↔" "<->", "✗" "x", "✓" "ok", "—" and "–" and "─" "-",
 * "…" "..."), anything else becomes '?'. ASCII is copied unchanged. The result
 * is always NUL-terminated; what does not fit is dropped at a character
 * boundary. */
void text_to_ascii(const char *in, char *out, size_t size);

/* printf to the end of the NUL-terminated string in `buf` (`size` bytes).
 * What does not fit is cut, possibly inside a UTF-8 sequence, and the result
 * stays NUL-terminated; a buffer already full is left alone. Sentences are
 * built in fixed buffers, and one cut short beats one not told. */
void text_appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A virtual time as the timeline prints it, "S.mmm" in seconds, cut (not
 * rounded) to the millisecond, so an event the timeline shows at 1.486s is
 * never said elsewhere to be at 1.487 s. Negative times print as 0.000.
 * Returns buf (TEXT_SECONDS_SIZE bytes are always enough). */
#define TEXT_SECONDS_SIZE 24
char *text_seconds(int64_t ns, char *buf, size_t size);

#endif
