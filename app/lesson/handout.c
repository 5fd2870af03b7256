/*
 * handout.c - the printable page of an exercise (see handout.h).
 *
 * The page is written straight to a FILE: the style sheet first (so the page
 * needs nothing else), then the sections in the order a student reads them.
 * The picture is drawn from the scenario itself, not from the run's trace:
 * the trace's node lines carry each NAT's behaviour, and the scenario's
 * names and addresses are exactly what a student may see (the same facts
 * `natsim exercise --questions` prints as text).
 */
#include "app/lesson/handout.h"

#include <arpa/inet.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/scenario.h"

/* ---- escaping ----------------------------------------------------------- */

static void put_escaped_char(FILE *out, char c)
{
	switch (c) {
	case '&':
		fputs("&amp;", out);
		break;
	case '<':
		fputs("&lt;", out);
		break;
	case '>':
		fputs("&gt;", out);
		break;
	case '"':
		fputs("&quot;", out);
		break;
	case '\'':
		fputs("&#39;", out);
		break;
	default:
		fputc(c, out);
		break;
	}
}

void handout_put_escaped(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		put_escaped_char(out, *s);
}

/* Lines joined with '\n' (as exercise.h keeps instructions and notes): one
 * paragraph, a blank line starting the next. */
static void put_paragraphs(FILE *out, const char *text)
{
	fputs("<p>", out);
	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		if (p[0] == '\n' && p[1] == '\n') {
			fputs("</p>\n<p>", out);
			while (p[1] == '\n')
				p++;
		} else {
			put_escaped_char(out, *p);
		}
	}
	fputs("</p>\n", out);
}

/* ---- the picture -------------------------------------------------------- */

/* One graphviz context for the process, never freed (as viz/dot.c: graphviz
 * 2.42 reads a freed context's font cache after gvFreeContext). */
static GVC_t *handout_context(void)
{
	static GVC_t *gvc;
	if (gvc == NULL)
		gvc = gvContext();
	return gvc;
}

static const char *ip_text(uint32_t ip, char *buf)
{
	struct in_addr a = {htonl(ip)};
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

static void set(void *obj, const char *name, const char *value)
{
	agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

/* A box with the name on top and what it is below. Graphviz reads
 * backslashes in labels as escapes, so a name's own are doubled; the SVG
 * writer escapes the rest. */
static Agnode_t *world_node(Agraph_t *g, const char *name, const char *what, const char *fill)
{
	char id[160], label[256];
	size_t n = 0;
	snprintf(id, sizeof(id), "n:%s", name);
	for (const char *p = name; *p != '\0' && n + 3 < sizeof(label) - 64; p++) {
		if (*p == '\\')
			label[n++] = '\\';
		label[n++] = *p;
	}
	snprintf(label + n, sizeof(label) - n, "\n%s", what);
	Agnode_t *v = agnode(g, id, 1);
	set(v, "label", label);
	set(v, "fillcolor", fill);
	return v;
}

/* The node `behind` names, or the internet. */
static Agnode_t *upstream(Agraph_t *g, const char *behind, Agnode_t *internet)
{
	char id[160];
	if (behind == NULL)
		return internet;
	snprintf(id, sizeof(id), "n:%s", behind);
	Agnode_t *v = agnode(g, id, 0);
	return v != NULL ? v : internet;
}

static Agraph_t *world_graph(const struct scenario *s)
{
	char ip[INET_ADDRSTRLEN], what[256];
	Agraph_t *g = agopen((char *)"world", Agundirected, NULL);
	if (g == NULL)
		return NULL;
	agattr(g, AGNODE, (char *)"fontname", (char *)"Helvetica");
	agattr(g, AGNODE, (char *)"shape", (char *)"box");
	agattr(g, AGNODE, (char *)"style", (char *)"rounded,filled");
	set(g, "nodesep", "0.4");
	Agnode_t *internet = agnode(g, (char *)"internet:", 1);
	set(internet, "label", "the internet");
	set(internet, "shape", "ellipse");
	set(internet, "fillcolor", "#eef3fb");
	if (s->coordinator != NULL) {
		snprintf(what, sizeof(what), "coordinator\n%s", ip_text(s->coordinator->ip, ip));
		Agnode_t *c = world_node(g, s->coordinator->name, what, "#e3d7f5");
		agedge(g, internet, c, NULL, 1);
	}
	/* NATs first, all alike: their kind is what the questions ask. */
	for (size_t i = 0; i < s->n_nats; i++) {
		const struct scenario_nat *n = &s->nats[i];
		int len = snprintf(what, sizeof(what), "router with NAT\npublic %s",
				   ip_text(n->public_ip[0], ip));
		for (size_t k = 1; k < n->n_public && len > 0 && (size_t)len < sizeof(what); k++)
			len += snprintf(what + len, sizeof(what) - (size_t)len, "\n%s",
					ip_text(n->public_ip[k], ip));
		world_node(g, n->name, what, "#fff3df");
	}
	for (size_t i = 0; i < s->n_nats; i++) {
		Agnode_t *v = upstream(g, s->nats[i].name, internet);
		agedge(g, upstream(g, s->nats[i].behind.name, internet), v, NULL, 1);
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct scenario_host *h = &s->hosts[i];
		snprintf(what, sizeof(what), "host\n%s%s", ip_text(h->ip, ip),
			 h->is_public ? " (public)" : "");
		Agnode_t *v = world_node(g, h->name, what, "#e6f4e6");
		agedge(g, upstream(g, h->is_public ? NULL : h->behind.name, internet), v, NULL, 1);
	}
	return g;
}

char *handout_world_svg(const struct scenario *s, char *err, size_t err_size)
{
	GVC_t *gvc = handout_context();
	Agraph_t *g = gvc != NULL ? world_graph(s) : NULL;
	char *data = NULL, *svg = NULL;
	unsigned int len = 0;
	if (g == NULL) {
		snprintf(err, err_size, "graphviz could not start (out of memory?)");
		return NULL;
	}
	if (gvLayout(gvc, g, "dot") != 0) {
		snprintf(err, err_size, "graphviz could not lay out the world");
	} else {
		if (gvRenderData(gvc, g, "svg", &data, &len) != 0 || data == NULL)
			snprintf(err, err_size, "graphviz could not draw the world as SVG");
		gvFreeLayout(gvc, g);
	}
	/* Inline SVG starts at its element: no XML prolog, no DOCTYPE. */
	const char *start = data != NULL ? strstr(data, "<svg") : NULL;
	if (data != NULL && start == NULL)
		snprintf(err, err_size, "graphviz wrote no <svg> element");
	if (start != NULL && (svg = strdup(start)) == NULL)
		snprintf(err, err_size, "out of memory");
	if (data != NULL)
		gvFreeRenderData(data);
	agclose(g);
	return svg;
}

/* ---- the page ----------------------------------------------------------- */

static const char style[] =
    "<style>\n"
    "@page { size: A4; margin: 16mm 15mm; }\n"
    "body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 11pt;\n"
    "       line-height: 1.4; color: #111; max-width: 180mm; margin: 1em auto; }\n"
    "h1 { font-size: 17pt; margin: 0 0 .3em; }\n"
    "h2 { font-size: 13pt; border-bottom: 1px solid #888; margin-top: 1.2em; }\n"
    ".who { margin: .2em 0 1em; }\n"
    ".blank { display: inline-block; min-width: 45mm; border-bottom: 1px solid #111;\n"
    "         height: 1.1em; vertical-align: bottom; }\n"
    ".blank.wide { min-width: 110mm; }\n"
    "figure.world { margin: 1em 0; text-align: center; break-inside: avoid;\n"
    "               page-break-inside: avoid; }\n"
    "figure.world svg { max-width: 100%; height: auto; }\n"
    "figcaption { font-size: 9pt; color: #555; }\n"
    ".question { border: 1px solid #bbb; border-radius: 4px; padding: .4em .8em .6em;\n"
    "            margin: .8em 0; break-inside: avoid; page-break-inside: avoid; }\n"
    ".question h3 { font-size: 11pt; margin: .2em 0 .4em; }\n"
    ".choices { list-style: none; padding: 0; margin: .3em 0; }\n"
    ".choices li { display: inline-block; margin: 0 1.4em .3em 0; }\n"
    ".box { display: inline-block; width: .8em; height: .8em; border: 1px solid #111;\n"
    "       margin-right: .35em; vertical-align: -0.05em; }\n"
    ".key { background: #eef7ee; border-left: 4px solid #2e8b2e; padding: .3em .6em;\n"
    "       margin-top: .5em; }\n"
    ".answer { font-weight: bold; font-family: monospace; font-size: 11.5pt; }\n"
    ".note { font-style: italic; }\n"
    "table.variants { border-collapse: collapse; }\n"
    "table.variants td, table.variants th { border: 1px solid #999; padding: .2em .5em;\n"
    "                                       text-align: left; }\n"
    "@media print { body { margin: 0; max-width: none; } }\n"
    "</style>\n";

static const char *sheet_title(const struct exercise *x, const struct exercise_run *r)
{
	if (r->scenario != NULL && r->scenario->title != NULL)
		return r->scenario->title;
	return x->filename != NULL ? x->filename : "natsim exercise";
}

static bool has_student(const struct exercise_run *r)
{
	return r->student != NULL && *r->student != '\0';
}

static void put_head(FILE *out, const struct exercise *x, const struct exercise_run *r,
		     bool teacher)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
	      out);
	handout_put_escaped(out, sheet_title(x, r));
	fputs(teacher ? " (teacher's sheet)" : "", out);
	fprintf(out, "</title>\n%s</head>\n<body class=\"%s\">\n<h1>", style,
		teacher ? "teacher" : "student");
	handout_put_escaped(out, sheet_title(x, r));
	fputs("</h1>\n<p class=\"who\">", out);
	if (teacher) {
		fputs("<b>Teacher's sheet</b>: answer key for ", out);
		if (has_student(r)) {
			fputs("student <b>", out);
			handout_put_escaped(out, r->student);
			fputs("</b>", out);
		} else {
			fputs("the reference world (no student id)", out);
		}
	} else {
		fputs("Name: <span class=\"blank\"></span> &nbsp; Student id: ", out);
		if (has_student(r))
			handout_put_escaped(out, r->student);
		else
			fputs("<span class=\"blank\"></span>", out);
	}
	fputs("</p>\n", out);
}

static int put_world(FILE *out, const struct exercise_run *r, char *err, size_t err_size)
{
	char *svg = handout_world_svg(r->scenario, err, err_size);
	if (svg == NULL)
		return -1;
	fputs("<figure class=\"world\">\n", out);
	fputs(svg, out);
	fputs("<figcaption>The world: names and addresses.</figcaption>\n</figure>\n", out);
	free(svg);
	return 0;
}

static void put_choice_list(FILE *out, const char *const *c, const char *last)
{
	fputs("<ul class=\"choices\">", out);
	for (; c != NULL && *c != NULL; c++) {
		fputs("<li><span class=\"box\"></span>", out);
		handout_put_escaped(out, *c);
		fputs("</li>", out);
	}
	if (last != NULL)
		fprintf(out, "<li><span class=\"box\"></span>%s</li>", last);
	fputs("</ul>\n", out);
}

/* What the student fills in: ticks for the kinds with fixed words, a blank
 * for the rest (a kind this file does not know yet gets a wide blank). */
static void put_blanks(FILE *out, const struct question *q)
{
	const char *const *c = question_choices(q->kind);
	switch (q->kind) {
	case QUESTION_PORT:
		fputs("<p>Port: <span class=\"blank\"></span></p>\n", out);
		return;
	case QUESTION_DROP:
		fputs("<p>Node that drops it: <span class=\"blank\"></span></p>\n"
		      "<p>Reason (tick one):</p>\n",
		      out);
		put_choice_list(out, c, "delivered (nothing drops it)");
		return;
	default:
		break;
	}
	if (c != NULL) {
		fputs("<p>Tick one:</p>\n", out);
		put_choice_list(out, c, NULL);
	} else {
		fputs("<p>Answer: <span class=\"blank wide\"></span></p>\n", out);
	}
}

static void put_key(FILE *out, const struct question *q, const struct answer *a)
{
	fputs("<div class=\"key\">\n<p><b>Answer:</b> <span class=\"answer\">", out);
	handout_put_escaped(out, a->text);
	fprintf(out, "</span> (%s)", question_kind_name(q->kind));
	if (a->packet != 0)
		fprintf(out, "; decided by packet #%llu (natsim why)",
			(unsigned long long)a->packet);
	fputs("</p>\n", out);
	if (q->n_hints > 0) {
		fputs("<p>Hints:</p>\n<ol class=\"hints\">\n", out);
		for (size_t h = 0; h < q->n_hints; h++) {
			fputs("<li>", out);
			handout_put_escaped(out, q->hints[h]);
			fputs("</li>\n", out);
		}
		fputs("</ol>\n", out);
	}
	if (q->teacher != NULL) {
		fputs("<p class=\"note\"><b>Note:</b> ", out);
		handout_put_escaped(out, q->teacher);
		fputs("</p>\n", out);
	}
	fputs("</div>\n", out);
}

/* The variants the teacher shows (`... shown`): the value this student got. */
static void put_shown_variants(FILE *out, const struct exercise *x, const struct exercise_run *r)
{
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		if (!v->shown)
			continue;
		fputs("<p class=\"shown\">In your world: ", out);
		handout_put_escaped(out, v->setting);
		fputs(" = ", out);
		handout_put_escaped(out, v->values[exercise_variant_pick(v, r->student)]);
		fputs("</p>\n", out);
	}
}

static void put_questions(FILE *out, const struct exercise *x, const struct exercise_run *r,
			  bool teacher)
{
	put_shown_variants(out, x, r);
	fprintf(out, "<h2>Questions (%zu, %d points each)</h2>\n", x->n_questions, EXERCISE_POINTS);
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		fputs("<section class=\"question\" id=\"q-", out);
		handout_put_escaped(out, q->id);
		fputs("\">\n<h3>", out);
		handout_put_escaped(out, q->id);
		fputs(". ", out);
		handout_put_escaped(out, q->text);
		fputs("</h3>\n", out);
		put_blanks(out, q);
		if (teacher && r->answers != NULL)
			put_key(out, q, &r->answers[i]);
		fputs("</section>\n", out);
	}
}

/* The teacher's extras: what each variant gave this student, and the notes. */
static void put_teacher_pages(FILE *out, const struct exercise *x, const struct exercise_run *r)
{
	if (x->n_variants > 0) {
		fputs("<h2>Variants</h2>\n<table class=\"variants\">\n"
		      "<tr><th>setting</th><th>this student</th><th>all values</th></tr>\n",
		      out);
		for (size_t i = 0; i < x->n_variants; i++) {
			const struct variant *v = &x->variants[i];
			size_t n_picks = sizeof(r->variant_pick) / sizeof(r->variant_pick[0]);
			size_t pick = i < n_picks ? r->variant_pick[i] : 0;
			fputs("<tr><td>", out);
			handout_put_escaped(out, v->setting);
			fputs("</td><td class=\"answer\">", out);
			handout_put_escaped(out, pick < v->n_values ? v->values[pick] : "");
			fputs("</td><td>", out);
			for (size_t k = 0; k < v->n_values; k++) {
				fputs(k > 0 ? " | " : "", out);
				handout_put_escaped(out, v->values[k]);
			}
			fputs("</td></tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	if (x->teacher != NULL) {
		fputs("<h2>Notes for the teacher</h2>\n", out);
		put_paragraphs(out, x->teacher);
	}
}

int handout_write(FILE *out, const struct exercise *x, const struct exercise_run *r, bool teacher,
		  char *err, size_t err_size)
{
	if (r->scenario == NULL) {
		snprintf(err, err_size, "the exercise has not been run");
		return -1;
	}
	put_head(out, x, r, teacher);
	if (x->instructions != NULL) {
		fputs("<h2>Instructions</h2>\n", out);
		put_paragraphs(out, x->instructions);
	}
	if (put_world(out, r, err, err_size) != 0)
		return -1;
	put_questions(out, x, r, teacher);
	if (teacher)
		put_teacher_pages(out, x, r);
	fputs("</body>\n</html>\n", out);
	if (ferror(out)) {
		snprintf(err, err_size, "write error");
		return -1;
	}
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: graphviz and the font stack under it keep caches for the
 * life of the process (viz/dot.c says the same for its pictures). Weak, so
 * that a program linking viz/dot.c as well takes that file's list, the same
 * one, without a clash; a program drawing only handouts takes this one. */
const char *__lsan_default_suppressions(void);
__attribute__((weak, used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libgvc.so\n"
	       "leak:libcgraph.so\n"
	       "leak:libgvplugin_\n"
	       "leak:libfontconfig.so\n"
	       "leak:libpango\n"
	       "leak:libglib-2.0.so\n"
	       "leak:libgobject-2.0.so\n"
	       "leak:libcairo.so\n"
	       "leak:libharfbuzz.so\n"
	       "leak:libfreetype.so\n"
	       "leak:libgd.so\n"
	       "leak:libexpat.so\n";
}
#endif
