/* html-text.h — an HTML document as readable text, for web.fetch (issue 21): libxml2's HTML
 * parser (forgiving, no network), then a walk of the tree.
 *
 * What comes out: the text of the document with runs of white space made one space, a blank
 * line between paragraphs (p, headings, lists, tables, pre, blockquote, …) and a line break
 * for br, li, tr, div and the like; script, style, noscript, template and head are dropped;
 * pre keeps its white space. With markdown: headings start with "#"s, list items with "- ",
 * links are "text [url]" (relative ones resolved against the base URL), pre is fenced.
 *
 * What must stay true: the result is valid UTF-8, never longer than max bytes (cut at a
 * character's start, and *ret_truncated says so), and any input (not HTML, empty, binary,
 * deeply nested) gives a result rather than an error: -ENOMEM is the only failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* html: n bytes; base_url (may be NULL) resolves relative links; encoding (may be NULL: the
 * document's <meta> or UTF-8) is the charset the server named. *ret is malloc'd. */
int html_to_text(const char *html, size_t n, const char *base_url, const char *encoding, bool markdown,
                 size_t max, char **ret, bool *ret_truncated);
