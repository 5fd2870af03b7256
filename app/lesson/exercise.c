/*
 * exercise.c - reading an exercise file: the lesson statements out, the
 * scenario left in place (exercise.h).
 */
#include "app/lesson/exercise.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "base/hash.h"

static const char *const lesson_keywords[] = {"instructions", "question", "hint", "teacher",
					      "variant"};
#define N_KEYWORDS (sizeof(lesson_keywords) / sizeof(lesson_keywords[0]))

static const char *const kind_names[] = {
    [QUESTION_OUTCOME] = "outcome", [QUESTION_DROP] = "drop",
    [QUESTION_PORT] = "port",	    [QUESTION_CLASSIFY] = "classify",
    [QUESTION_ARRIVES] = "arrives", [QUESTION_MAPPING] = "mapping",
    [QUESTION_TIMEOUT] = "timeout", [QUESTION_CONNTRACK] = "conntrack",
    [QUESTION_WHEN] = "when",	    [QUESTION_AXES] = "axes",
};

const char *question_kind_name(enum question_kind k)
{
	return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

/* ---- one lesson line, as tokens ---- */

#define LINE_MAX_TOKENS 24

struct token {
	const char *start; /* in the line */
	size_t len;	   /* in the line, quotes included */
	int col;	   /* 1-based */
	bool quoted;
	char *text; /* decoded (quoted) or copied (word); owned by the line */
	size_t text_len;
};

struct line {
	const char *file;
	int number;
	const char *src;
	size_t src_len;
	struct token tok[LINE_MAX_TOKENS];
	size_t n;
	struct diag *d;
	int errors;
};

static void line_error(struct line *l, int col, int len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void line_error(struct line *l, int col, int len, const char *fmt, ...)
{
	struct diag_span at = {l->file, l->number, col, len, l->src, l->src_len};
	va_list ap;
	va_start(ap, fmt);
	diag_addv(l->d, DIAG_ERROR, &at, fmt, ap);
	va_end(ap);
	l->errors++;
}

static void line_free(struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->tok[i].text);
	l->n = 0;
}

/* A quoted string from src[*i] (the opening quote); escapes \" \\ \n \t. */
static int read_quoted(struct line *l, size_t *i, struct token *t)
{
	size_t j = *i + 1, n = 0;
	char *out = malloc(l->src_len + 1);
	if (out == NULL)
		return -1;
	while (j < l->src_len && l->src[j] != '"') {
		char c = l->src[j];
		if (c == '\\' && j + 1 < l->src_len) {
			char e = l->src[++j];
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
			if (e != 'n' && e != 't' && e != '"' && e != '\\') {
				line_error(l, (int)j, 2,
					   "unknown escape '\\%c' (use \\\" \\\\ \\n or \\t)", e);
			}
		}
		out[n++] = c;
		j++;
	}
	if (j >= l->src_len) {
		line_error(l, t->col, (int)(l->src_len - *i), "this text has no closing '\"'");
		free(out);
		return -1;
	}
	out[n] = 0;
	t->text = out;
	t->text_len = n;
	t->quoted = true;
	*i = j + 1;
	return 0;
}

/* Split the line into words, quoted texts and '|'; '#' outside quotes ends it. */
static int tokenize(struct line *l)
{
	size_t i = 0;
	while (i < l->src_len) {
		char c = l->src[i];
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (l->n == LINE_MAX_TOKENS) {
			line_error(l, (int)i + 1, 1, "too many words on one line (at most %d)",
				   LINE_MAX_TOKENS);
			return -1;
		}
		struct token *t = &l->tok[l->n];
		memset(t, 0, sizeof(*t));
		t->start = l->src + i;
		t->col = (int)i + 1;
		size_t from = i;
		if (c == '"') {
			if (read_quoted(l, &i, t) != 0)
				return -1;
		} else if (c == '|') {
			i++;
		} else {
			while (i < l->src_len && !isspace((unsigned char)l->src[i]) &&
			       l->src[i] != '|' && l->src[i] != '"' && l->src[i] != '#')
				i++;
		}
		t->len = i - from;
		if (!t->quoted) {
			t->text = strndup(t->start, t->len);
			if (t->text == NULL)
				return -1;
			t->text_len = t->len;
		}
		l->n++;
	}
	return 0;
}

/* ---- statements ---- */

struct parser {
	struct exercise *x;
	struct line *l;
	size_t cap_q, cap_v;
};

static struct token *tok(struct parser *p, size_t i)
{
	return i < p->l->n ? &p->l->tok[i] : NULL;
}

static bool is_word(const struct token *t, const char *w)
{
	return t && !t->quoted && strcmp(t->text, w) == 0;
}

/* The token at i must be a word (a name); says what was expected if not. */
static const char *want_word(struct parser *p, size_t i, const char *what)
{
	struct token *t = tok(p, i);
	if (t && !t->quoted && strcmp(t->text, "|") != 0)
		return t->text;
	if (t == NULL) {
		struct token *prev = tok(p, i - 1);
		line_error(p->l, (int)p->l->src_len + 1, 1, "expected %s after '%s'", what,
			   prev ? prev->text : "");
	} else {
		line_error(p->l, t->col, (int)t->len, "expected %s", what);
	}
	return NULL;
}

static const char *want_text(struct parser *p, size_t i, const char *what)
{
	struct token *t = tok(p, i);
	if (t && t->quoted)
		return t->text;
	line_error(p->l, t ? t->col : (int)p->l->src_len + 1, t ? (int)t->len : 1,
		   "expected %s in double quotes", what);
	return NULL;
}

static bool want_keyword(struct parser *p, size_t i, const char *kw, const char *after)
{
	struct token *t = tok(p, i);
	if (is_word(t, kw))
		return true;
	line_error(p->l, t ? t->col : (int)p->l->src_len + 1, t ? (int)t->len : 1,
		   "expected '%s' after '%s'", kw, after);
	return false;
}

static bool no_more(struct parser *p, size_t i)
{
	struct token *t = tok(p, i);
	if (t == NULL)
		return true;
	line_error(p->l, t->col, (int)t->len, "unexpected '%.*s' at the end of the statement",
		   (int)t->len, t->start);
	return false;
}

static char *append_line(char *old, const char *add)
{
	size_t a = old ? strlen(old) : 0, b = strlen(add);
	char *s = realloc(old, a + b + 2);
	if (s == NULL)
		return old;
	if (a)
		s[a++] = '\n';
	memcpy(s + a, add, b + 1);
	return s;
}

static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= EXERCISE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
			return false;
	return true;
}

static struct question *find_q(struct exercise *x, const char *id)
{
	for (size_t i = 0; i < x->n_questions; i++)
		if (strcmp(x->questions[i].id, id) == 0)
			return &x->questions[i];
	return NULL;
}

const struct question *exercise_find_question(const struct exercise *x, const char *id)
{
	return find_q((struct exercise *)x, id);
}

/* A duration word at token i ("40s", "1.5s", "100ms") into *ns. */
static bool parse_time(struct parser *p, size_t i, const char *what, int64_t *ns)
{
	const char *w = want_word(p, i, what);
	if (w == NULL)
		return false;
	if (scenario_parse_duration(w, ns) != SCENARIO_DURATION_OK) {
		struct token *t = tok(p, i);
		line_error(p->l, t->col, (int)t->len,
			   "expected %s with a unit, like 40s or 250ms, not '%s'", what, w);
		return false;
	}
	return true;
}

/* "at TIME" at token i. */
static bool parse_at(struct parser *p, size_t i, struct question *q)
{
	return want_keyword(p, i, "at", tok(p, i - 1) ? tok(p, i - 1)->text : "") &&
	       parse_time(p, i + 1, "a time", &q->at_ns);
}

/* An optional "within TOLERANCE" at token i (default `dflt`); true if the
 * statement then ends. */
static bool parse_within(struct parser *p, size_t i, struct question *q, int64_t dflt)
{
	q->tolerance_ns = dflt;
	if (tok(p, i) == NULL)
		return true;
	if (!want_keyword(p, i, "within", tok(p, i - 1)->text) ||
	    !parse_time(p, i + 1, "a tolerance", &q->tolerance_ns))
		return false;
	return no_more(p, i + 2);
}

/* "HOST:PORT" into q->host and q->port. */
static bool parse_host_port(struct parser *p, size_t i, struct question *q)
{
	const char *w = want_word(p, i, "HOST:PORT (the inside endpoint, e.g. alice:5000)");
	if (w == NULL)
		return false;
	const char *colon = strrchr(w, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (colon == NULL || colon == w || end == colon + 1 || *end || port < 1 || port > 65535 ||
	    colon[1] == '0') {
		struct token *t = tok(p, i);
		line_error(p->l, t->col, (int)t->len,
			   "expected HOST:PORT with a port from 1 to 65535, like alice:5000");
		return false;
	}
	q->host = strndup(w, (size_t)(colon - w));
	q->port = (uint16_t)port;
	return q->host != NULL;
}

/* "NAME[:PORT]": a flow's remote, a host or the coordinator. */
static bool parse_remote(struct parser *p, size_t i, struct question *q)
{
	const char *w = want_word(p, i, "the flow's remote, NAME or NAME:PORT");
	if (w == NULL)
		return false;
	const char *colon = strrchr(w, ':');
	q->remote_port = -1;
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || port < 1 || port > 65535) {
			struct token *t = tok(p, i);
			line_error(p->l, t->col, (int)t->len,
				   "expected NAME or NAME:PORT with a port from 1 to 65535");
			return false;
		}
		q->remote_port = (int)port;
	}
	q->remote = strndup(w, colon ? (size_t)(colon - w) : strlen(w));
	return q->remote != NULL;
}

/* The words after each kind, from token i (the first after the kind). */

static bool parse_outcome(struct parser *p, struct question *q, size_t i)
{
	const char *a = want_word(p, i, "a host (outcome A and B)");
	if (!a || !want_keyword(p, i + 1, "and", a))
		return false;
	const char *b = want_word(p, i + 2, "a host after 'and'");
	q->a = strdup(a);
	q->b = b ? strdup(b) : NULL;
	return b && no_more(p, i + 3);
}

static bool parse_drop(struct parser *p, struct question *q, size_t i)
{
	if (!want_keyword(p, i, "from", "drop"))
		return false;
	const char *a = want_word(p, i + 1, "the host that sends");
	if (!a || !want_keyword(p, i + 2, "to", a))
		return false;
	const char *b = want_word(p, i + 3, "the host it sends to");
	q->a = strdup(a);
	q->b = b ? strdup(b) : NULL;
	return b && no_more(p, i + 4);
}

static bool parse_port(struct parser *p, struct question *q, size_t i)
{
	const char *n = want_word(p, i, "the NAT (port NAT for HOST:PORT)");
	if (!n || !want_keyword(p, i + 1, "for", n))
		return false;
	q->node = strdup(n);
	return parse_host_port(p, i + 2, q) && no_more(p, i + 3);
}

static bool parse_classify(struct parser *p, struct question *q, size_t i)
{
	const char *n = want_word(p, i, "the NAT to classify");
	/* classify and axes: one NAT */
	q->node = n ? strdup(n) : NULL;
	return n && no_more(p, i + 1);
}

static bool parse_arrives(struct parser *p, struct question *q, size_t i)
{
	const char *data = want_text(p, i, "the message");
	if (!data || !want_keyword(p, i + 1, "at", "the message"))
		return false;
	const char *b = want_word(p, i + 2, "the host that should receive it");
	if (!b || !want_keyword(p, i + 3, "from", b))
		return false;
	const char *a = want_word(p, i + 4, "the host that sends it");
	if (!a)
		return false;
	struct token *dt = tok(p, i);
	q->data = malloc(dt->text_len + 1);
	if (q->data) {
		memcpy(q->data, dt->text, dt->text_len + 1);
		q->data_len = dt->text_len;
	}
	q->a = strdup(a);
	q->b = strdup(b);
	return no_more(p, i + 5);
}

/* mapping and timeout: NAT for HOST:PORT at TIME [within TOL] */
static bool parse_mapping(struct parser *p, struct question *q, size_t i)
{
	const char *n = want_word(p, i, "the NAT (... NAT for HOST:PORT at TIME)");
	if (!n || !want_keyword(p, i + 1, "for", n))
		return false;
	q->node = strdup(n);
	if (!parse_host_port(p, i + 2, q) || !parse_at(p, i + 3, q))
		return false;
	if (q->kind == QUESTION_MAPPING)
		return no_more(p, i + 5);
	return parse_within(p, i + 5, q, 1000000000LL);
}

static bool parse_conntrack(struct parser *p, struct question *q, size_t i)
{
	const char *n = want_word(p, i, "the node whose conntrack table is asked about");
	if (!n || !want_keyword(p, i + 1, "from", n))
		return false;
	q->node = strdup(n);
	if (!parse_host_port(p, i + 2, q) || !want_keyword(p, i + 3, "to", tok(p, i + 2)->text))
		return false;
	return parse_remote(p, i + 4, q) && parse_at(p, i + 5, q) && no_more(p, i + 7);
}

static bool parse_when(struct parser *p, struct question *q, size_t i)
{
	const char *a = want_word(p, i, "a host (when A and B direct|relayed)");
	if (!a || !want_keyword(p, i + 1, "and", a))
		return false;
	const char *b = want_word(p, i + 2, "a host after 'and'");
	const char *path = b ? want_word(p, i + 3, "direct or relayed") : NULL;
	if (!path)
		return false;
	q->a = strdup(a);
	q->b = strdup(b);
	if (strcmp(path, "direct") != 0 && strcmp(path, "relayed") != 0) {
		line_error(p->l, tok(p, i + 3)->col, (int)tok(p, i + 3)->len,
			   "expected direct or relayed, not '%s'", path);
		return false;
	}
	q->path = path[0] == 'd' ? 0 : 1;
	return parse_within(p, i + 4, q, 100000000LL);
}

static bool (*const kind_parsers[])(struct parser *, struct question *, size_t) = {
    [QUESTION_OUTCOME] = parse_outcome, [QUESTION_DROP] = parse_drop,
    [QUESTION_PORT] = parse_port,	[QUESTION_CLASSIFY] = parse_classify,
    [QUESTION_ARRIVES] = parse_arrives, [QUESTION_MAPPING] = parse_mapping,
    [QUESTION_TIMEOUT] = parse_mapping, [QUESTION_CONNTRACK] = parse_conntrack,
    [QUESTION_WHEN] = parse_when,	[QUESTION_AXES] = parse_classify,
};

/* The kind's word at token i, then its own words. */
static bool parse_question_kind(struct parser *p, struct question *q, size_t i)
{
	struct token *t = tok(p, i);
	const char *k = want_word(p, i,
				  "the answer's kind: outcome, drop, port, classify, arrives, "
				  "mapping, timeout, conntrack, when or axes");
	if (k == NULL)
		return false;
	for (size_t n = 0; n < sizeof(kind_names) / sizeof(kind_names[0]); n++)
		if (strcmp(k, kind_names[n]) == 0) {
			q->kind = (enum question_kind)n;
			return kind_parsers[n](p, q, i + 1);
		}
	const char *sugg = diag_suggest(k, kind_names, sizeof(kind_names) / sizeof(kind_names[0]));
	line_error(
	    p->l, t->col, (int)t->len,
	    "unknown answer kind '%s'%s%s%s (outcome, drop, port, classify, arrives, mapping, "
	    "timeout, conntrack, when or axes)",
	    k, sugg ? "; did you mean '" : "", sugg ? sugg : "", sugg ? "'?" : "");
	return false;
}

static int parse_question(struct parser *p)
{
	struct exercise *x = p->x;
	const char *id = want_word(p, 1, "a question id (letters, digits, - and _)");
	if (id == NULL)
		return 0;
	if (!valid_id(id)) {
		line_error(p->l, tok(p, 1)->col, (int)tok(p, 1)->len,
			   "a question id is 1 to %d letters, digits, '-' or '_', not '%s'",
			   EXERCISE_ID_MAX - 1, id);
		return 0;
	}
	if (find_q(x, id)) {
		line_error(p->l, tok(p, 1)->col, (int)tok(p, 1)->len,
			   "question '%s' is already defined (line %d)", id, find_q(x, id)->line);
		return 0;
	}
	const char *text = want_text(p, 2, "the question's text");
	if (text == NULL)
		return 0;
	if (x->n_questions == p->cap_q) {
		size_t cap = p->cap_q ? 2 * p->cap_q : 8;
		struct question *q = realloc(x->questions, cap * sizeof(*q));
		if (q == NULL)
			return -1;
		x->questions = q;
		p->cap_q = cap;
	}
	struct question *q = &x->questions[x->n_questions++];
	memset(q, 0, sizeof(*q));
	snprintf(q->id, sizeof(q->id), "%s", id);
	q->text = strdup(text);
	q->line = p->l->number;
	q->col = tok(p, 0)->col;
	parse_question_kind(p, q, 3);
	return q->text ? 0 : -1;
}

static int parse_hint(struct parser *p)
{
	const char *id = want_word(p, 1, "the id of the question the hint is for");
	if (id == NULL)
		return 0;
	struct question *q = find_q(p->x, id);
	if (q == NULL) {
		line_error(p->l, tok(p, 1)->col, (int)tok(p, 1)->len,
			   "no question '%s' before this hint (define the question first)", id);
		return 0;
	}
	const char *text = want_text(p, 2, "the hint");
	if (text == NULL || !no_more(p, 3))
		return 0;
	if (q->n_hints == EXERCISE_MAX_HINTS) {
		line_error(p->l, tok(p, 0)->col, 4,
			   "question '%s' already has %d hints, the most it may have", id,
			   EXERCISE_MAX_HINTS);
		return 0;
	}
	q->hints[q->n_hints] = strdup(text);
	return q->hints[q->n_hints++] ? 0 : -1;
}

static int parse_teacher(struct parser *p)
{
	struct token *t1 = tok(p, 1);
	if (t1 && t1->quoted) {
		if (!no_more(p, 2))
			return 0;
		p->x->teacher = append_line(p->x->teacher, t1->text);
		return 0;
	}
	const char *id = want_word(p, 1, "a note in double quotes, or a question id and a note");
	if (id == NULL)
		return 0;
	struct question *q = find_q(p->x, id);
	if (q == NULL) {
		line_error(p->l, t1->col, (int)t1->len, "no question '%s' before this note", id);
		return 0;
	}
	const char *text = want_text(p, 2, "the teacher's note");
	if (text == NULL || !no_more(p, 3))
		return 0;
	q->teacher = append_line(q->teacher, text);
	return 0;
}

static int parse_variant(struct parser *p)
{
	struct exercise *x = p->x;
	const char *setting = want_word(p, 1, "a setting NAME.KEY (as --set takes it)");
	if (setting == NULL)
		return 0;
	if (strchr(setting, '.') == NULL || strchr(setting, '=') != NULL) {
		line_error(p->l, tok(p, 1)->col, (int)tok(p, 1)->len,
			   "expected a setting NAME.KEY like office.preset, not '%s'", setting);
		return 0;
	}
	if (x->n_variants == p->cap_v) {
		size_t cap = p->cap_v ? 2 * p->cap_v : 4;
		struct variant *v = realloc(x->variants, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		x->variants = v;
		p->cap_v = cap;
	}
	struct variant *v = &x->variants[x->n_variants++];
	memset(v, 0, sizeof(*v));
	v->setting = strdup(setting);
	v->line = p->l->number;
	v->col = tok(p, 0)->col;
	/* "... VALUE shown": the student is told which value their world got */
	size_t end = p->l->n;
	if (end > 3 && is_word(tok(p, end - 1), "shown") && !is_word(tok(p, end - 2), "|")) {
		v->shown = true;
		end--;
	}
	for (size_t i = 2; i < end; i++) {
		struct token *t = tok(p, i);
		bool bar = is_word(t, "|");
		if (bar != ((i - 2) % 2 == 1) || t->quoted) {
			line_error(p->l, t->col, (int)t->len,
				   bar ? "expected a value before '|'"
				       : "expected '|' between two values");
			return 0;
		}
		if (bar)
			continue;
		if (v->n_values == EXERCISE_MAX_VALUES) {
			line_error(p->l, t->col, (int)t->len, "a variant has at most %d values",
				   EXERCISE_MAX_VALUES);
			return 0;
		}
		v->values[v->n_values++] = strdup(t->text);
	}
	if (v->n_values < 2 || is_word(tok(p, end - 1), "|"))
		line_error(p->l, tok(p, 0)->col, 7,
			   "a variant needs at least two values: variant %s VALUE | VALUE",
			   setting);
	return 0;
}

static int parse_statement(struct parser *p)
{
	const char *kw = tok(p, 0)->text;
	if (strcmp(kw, "instructions") == 0) {
		const char *text = want_text(p, 1, "the instructions");
		if (text && no_more(p, 2))
			p->x->instructions = append_line(p->x->instructions, text);
		return 0;
	}
	if (strcmp(kw, "question") == 0)
		return parse_question(p);
	if (strcmp(kw, "hint") == 0)
		return parse_hint(p);
	if (strcmp(kw, "teacher") == 0)
		return parse_teacher(p);
	return parse_variant(p);
}

/* The first word of a line, if it is a lesson keyword. */
static bool is_lesson_line(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t w = i;
	while (w < n && !isspace((unsigned char)s[w]))
		w++;
	for (size_t k = 0; k < N_KEYWORDS; k++)
		if (strlen(lesson_keywords[k]) == w - i &&
		    memcmp(s + i, lesson_keywords[k], w - i) == 0)
			return true;
	return false;
}

bool exercise_text_has_questions(const char *text, size_t len)
{
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		if (is_lesson_line(text + at, n))
			return true;
		at += n + 1;
	}
	return false;
}

void exercise_free(struct exercise *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n_questions; i++) {
		struct question *q = &x->questions[i];
		free(q->text);
		free(q->a);
		free(q->b);
		free(q->node);
		free(q->host);
		free(q->data);
		free(q->remote);
		free(q->teacher);
		for (size_t h = 0; h < q->n_hints; h++)
			free(q->hints[h]);
	}
	for (size_t i = 0; i < x->n_variants; i++) {
		free(x->variants[i].setting);
		for (size_t v = 0; v < x->variants[i].n_values; v++)
			free(x->variants[i].values[v]);
	}
	free(x->questions);
	free(x->variants);
	free(x->instructions);
	free(x->teacher);
	free(x->scenario_text);
	free(x->filename);
	free(x);
}

static int take_line(struct parser *p, struct line *l, char *copy)
{
	if (tokenize(l) == 0 && l->n > 0 && l->errors == 0)
		if (parse_statement(p) != 0)
			return -1;
	line_free(l);
	memset(copy, ' ', l->src_len); /* the scenario parser sees an empty line */
	return 0;
}

struct exercise *exercise_parse(const char *text, size_t len, const char *filename, struct diag *d)
{
	struct exercise *x = calloc(1, sizeof(*x));
	size_t errors_before = diag_count_errors(d);
	if (x == NULL || (x->scenario_text = malloc(len + 1)) == NULL ||
	    (x->filename = strdup(filename ? filename : "<input>")) == NULL) {
		exercise_free(x);
		return NULL;
	}
	memcpy(x->scenario_text, text, len);
	x->scenario_text[len] = 0;
	x->scenario_len = len;
	struct parser p = {.x = x};
	int number = 1;
	for (size_t at = 0; at < len; number++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		if (is_lesson_line(text + at, n)) {
			struct line l = {.file = x->filename,
					 .number = number,
					 .src = text + at,
					 .src_len = n,
					 .d = d};
			p.l = &l;
			if (take_line(&p, &l, x->scenario_text + at) != 0) {
				exercise_free(x);
				return NULL;
			}
		}
		at += n + 1;
	}
	if (x->n_questions == 0 && diag_count_errors(d) == errors_before) {
		struct diag_span at = {x->filename, 0, 0, 0, NULL, 0};
		diag_add(d, DIAG_ERROR, &at,
			 "this file has no question: an exercise needs at least one "
			 "'question ID \"TEXT\" KIND ...' line");
	}
	if (diag_count_errors(d) != errors_before) {
		exercise_free(x);
		return NULL;
	}
	return x;
}

struct exercise *exercise_load(const char *path, struct diag *d)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		struct diag_span at = {NULL, 0, 0, 0, NULL, 0};
		diag_add(d, DIAG_ERROR, &at, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 8192);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	struct exercise *x = NULL;
	if (bad) {
		struct diag_span at = {NULL, 0, 0, 0, NULL, 0};
		diag_add(d, DIAG_ERROR, &at, "cannot read %s: read error", path);
	} else {
		x = exercise_parse(buf, len, path, d);
	}
	free(buf);
	return x;
}

size_t exercise_variant_pick(const struct variant *v, const char *student)
{
	if (student == NULL || student[0] == 0 || v->n_values == 0)
		return 0;
	/* FNV-1a over "student\0setting", then a 64-bit finaliser: the same id
	 * always gets the same value, and neighbouring ids scatter. */
	uint64_t h = 1469598103934665603ull;
	for (const char *s = student; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	h = (h ^ 0) * 1099511628211ull;
	for (const char *s = v->setting; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)(hash_mix64(h) % v->n_values);
}

/* ---- names against the scenario ---- */

static void check_error(const struct exercise *x, const struct question *q, struct diag *d,
			size_t *n, const char *fmt, const char *name)
{
	struct diag_span at = {x->filename, q->line, q->col, 8, NULL, 0};
	diag_add(d, DIAG_ERROR, &at, fmt, q->id, name);
	(*n)++;
}

size_t exercise_check(const struct exercise *x, const struct scenario *s, struct diag *d)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		const char *hosts[2] = {q->a, q->b};
		for (int h = 0; h < 2; h++)
			if (hosts[h] && !scenario_find_host(s, hosts[h]))
				check_error(x, q, d, &n,
					    "question '%s': no host '%s' in this world", hosts[h]);
		if (q->host && !scenario_find_host(s, q->host))
			check_error(x, q, d, &n, "question '%s': no host '%s' in this world",
				    q->host);
		if (q->node && q->kind != QUESTION_CONNTRACK && !scenario_find_nat(s, q->node))
			check_error(x, q, d, &n, "question '%s': no NAT '%s' in this world",
				    q->node);
		if (q->kind == QUESTION_CONNTRACK && !scenario_find_nat(s, q->node) &&
		    !scenario_find_host(s, q->node))
			check_error(x, q, d, &n, "question '%s': no host or NAT '%s' in this world",
				    q->node);
		if (q->remote && !scenario_find_host(s, q->remote) &&
		    !(s->coordinator && strcmp(s->coordinator->name, q->remote) == 0))
			check_error(x, q, d, &n,
				    "question '%s': no host or coordinator '%s' in this world",
				    q->remote);
	}
	return n;
}
