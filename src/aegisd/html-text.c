/* html-text.c — HTML to readable text (see html-text.h). */
#include <assert.h>
#include <errno.h>
#include <libxml/HTMLparser.h>
#include <libxml/uri.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html-text.h"
#include "util.h"

#define strcaseeq(a, b) (strcasecmp((a), (b)) == 0)
#define HTML_MAX_DEPTH 256 /* deeper elements are walked no further */

typedef struct Out {
        char *buf;
        size_t n, cap, max;
        unsigned pending_breaks; /* line breaks owed before the next text (at most 2 emitted) */
        bool space; /* a space owed before the next text */
        bool truncated;
        bool failed; /* out of memory */
        bool markdown;
        unsigned pre; /* inside this many pre elements */
        const char *base;
} Out;

static void out_raw(Out *o, const char *s, size_t n) {
        if (o->failed || o->truncated)
                return;
        if (o->n + n > o->max) {
                /* Cut at a character's start so the text stays valid UTF-8. */
                size_t k = o->max - o->n;
                while (k > 0 && (((unsigned char) s[k]) & 0xC0) == 0x80)
                        k--;
                n = k;
                o->truncated = true;
        }
        if (o->n + n + 1 > o->cap) {
                size_t cap = MAX(o->cap * 2, o->n + n + 1);
                char *b = realloc(o->buf, cap);
                if (!b) {
                        o->failed = true;
                        return;
                }
                o->buf = b;
                o->cap = cap;
        }
        memcpy(o->buf + o->n, s, n);
        o->n += n;
        o->buf[o->n] = 0;
}

static void out_break(Out *o, unsigned breaks) {
        o->pending_breaks = MAX(o->pending_breaks, breaks);
        o->space = false;
}

/* Pays what is owed before text: line breaks (none at the very start) or a space. */
static void out_settle(Out *o) {
        if (o->pending_breaks > 0) {
                if (o->n > 0)
                        out_raw(o, "\n\n", MIN(o->pending_breaks, 2u));
                o->pending_breaks = 0;
                o->space = false;
        } else if (o->space) {
                if (o->n > 0 && o->buf[o->n - 1] != '\n')
                        out_raw(o, " ", 1);
                o->space = false;
        }
}

static void out_text(Out *o, const char *s) {
        if (o->pre > 0) {
                if (*s) {
                        out_settle(o);
                        out_raw(o, s, strlen(s));
                }
                return;
        }
        while (*s) {
                size_t k = strcspn(s, " \t\r\n\f\v");
                if (k > 0) {
                        out_settle(o);
                        out_raw(o, s, k);
                        s += k;
                }
                if (*s) {
                        o->space = o->pending_breaks == 0;
                        s += strspn(s, " \t\r\n\f\v");
                }
        }
}

static bool name_in(const char *name, const char *const *list) {
        for (size_t i = 0; list[i]; i++)
                if (strcaseeq(name, list[i]))
                        return true;
        return false;
}

/* Blank line around these. */
static const char *const paragraphs[] = { "p",      "h1",   "h2",       "h3",      "h4",  "h5",         "h6",
                                          "ul",     "ol",   "dl",       "table",   "pre", "blockquote", "hr",
                                          "figure", "form", "fieldset", "address", NULL };
/* A line break around these. */
static const char *const lines[] = { "div",     "li",      "tr",      "dt",         "dd",
                                     "br",      "section", "article", "main",       "header",
                                     "footer",  "nav",     "aside",   "figcaption", "caption",
                                     "summary", "details", "title",   "option",     NULL };
static const char *const dropped[] = { "script", "style",  "noscript", "template", "head",   "svg",
                                       "iframe", "object", "embed",    "canvas",   "select", NULL };

static void walk(Out *o, xmlNode *n, unsigned depth);

static void element(Out *o, xmlNode *n, unsigned depth) {
        const char *name = (const char *) n->name;
        bool para = name_in(name, paragraphs), line = name_in(name, lines);
        _cleanup_free_ char *link = NULL;

        if (name_in(name, dropped) || depth >= HTML_MAX_DEPTH)
                return;
        if (para)
                out_break(o, 2);
        else if (line)
                out_break(o, 1);
        if (strcaseeq(name, "td") || strcaseeq(name, "th"))
                o->space = true;
        if (o->markdown) {
                if (strlen(name) == 2 && (name[0] == 'h' || name[0] == 'H') && name[1] >= '1' &&
                    name[1] <= '6') {
                        static const char hashes[] = "###### ";
                        out_settle(o);
                        out_raw(o, hashes + 6 - (name[1] - '0'), (size_t) (name[1] - '0') + 1);
                } else if (strcaseeq(name, "li")) {
                        out_settle(o);
                        out_raw(o, "- ", 2);
                } else if (strcaseeq(name, "pre")) {
                        out_settle(o);
                        out_raw(o, "```\n", 4);
                } else if (strcaseeq(name, "a")) {
                        xmlChar *href = xmlGetProp(n, (const xmlChar *) "href");
                        if (href && !startswith((char *) href, "#") &&
                            !startswith((char *) href, "javascript:")) {
                                xmlChar *abs = o->base ? xmlBuildURI(href, (const xmlChar *) o->base) : NULL;
                                link = strdup(abs ? (char *) abs : (char *) href);
                                if (!link)
                                        o->failed = true;
                                xmlFree(abs);
                        }
                        xmlFree(href);
                }
        }
        if (strcaseeq(name, "pre"))
                o->pre++;
        walk(o, n->children, depth + 1);
        if (strcaseeq(name, "pre")) {
                o->pre--;
                if (o->markdown) {
                        if (o->n > 0 && o->buf[o->n - 1] != '\n')
                                out_raw(o, "\n", 1);
                        out_raw(o, "```", 3);
                }
        }
        if (link && !isempty(link)) {
                bool had_space = o->space;
                o->space = true;
                out_settle(o);
                out_raw(o, "[", 1);
                out_raw(o, link, strlen(link));
                out_raw(o, "]", 1);
                o->space = had_space;
        }
        if (para)
                out_break(o, 2);
        else if (line)
                out_break(o, 1);
}

static void walk(Out *o, xmlNode *n, unsigned depth) {
        for (; n && !o->failed && !o->truncated; n = n->next) {
                if (n->type == XML_ELEMENT_NODE)
                        element(o, n, depth);
                else if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
                        out_text(o, (const char *) n->content);
        }
}

int html_to_text(const char *html, size_t n, const char *base_url, const char *encoding, bool markdown,
                 size_t max, char **ret, bool *ret_truncated) {
        Out o = { .max = max, .markdown = markdown, .base = base_url };
        htmlDocPtr doc = NULL;

        assert(html || n == 0);
        assert(ret && ret_truncated);
        if (n > 0 && n <= INT32_MAX)
                doc = htmlReadMemory(html, (int) n, base_url, encoding,
                                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                             HTML_PARSE_NONET | HTML_PARSE_NOBLANKS | HTML_PARSE_COMPACT);
        if (doc)
                walk(&o, xmlDocGetRootElement(doc), 0);
        xmlFreeDoc(doc);
        if (o.failed) {
                free(o.buf);
                return -ENOMEM;
        }
        if (!o.buf && !(o.buf = strdup("")))
                return -ENOMEM;
        /* libxml2 gives UTF-8; what it could not decode must not reach JSON as broken text. */
        for (size_t i = 0; i < o.n;) {
                size_t k = utf8_char_len(o.buf + i, o.n - i);
                if (k == 0) {
                        o.buf[i] = '?';
                        k = 1;
                }
                i += k;
        }
        *ret = o.buf;
        *ret_truncated = o.truncated;
        return 0;
}
