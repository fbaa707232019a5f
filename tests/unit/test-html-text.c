/* test-html-text.c — web.fetch's HTML to text (src/aegisd/html-text.c): script and style
 * dropped, white space collapsed, paragraphs and line breaks kept, pre verbatim, Markdown
 * headings, list items and links (resolved against the base URL), the size bound cut at a
 * character's start, and anything (not HTML, broken, binary, empty) giving text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "html-text.h"
#include "test-main.h"
#include "util.h"

static char *convert(const char *html, bool markdown, size_t max, bool *ret_truncated) {
        char *t = NULL;
        bool truncated = false;

        ck_assert_int_eq(html_to_text(html, strlen(html), "http://example.test/dir/page.html", NULL,
                                      markdown, max, &t, &truncated),
                         0);
        ck_assert_ptr_nonnull(t);
        if (ret_truncated)
                *ret_truncated = truncated;
        return t;
}

static const char page[] = "<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style>"
                           "<script>var secret = 1;</script></head><body>\n"
                           "<h1>Main  title</h1>\n<p>First   paragraph\nspans lines.</p>"
                           "<p>Second<br>line two <a href=\"/about\">About us</a> and "
                           "<a href=\"other.html\">other</a>.</p>"
                           "<ul><li>one</li><li>two</li></ul>"
                           "<pre>  keep   this\n    indent</pre>"
                           "<noscript>enable js</noscript><script>alert(2)</script>"
                           "<table><tr><td>a</td><td>b</td></tr></table></body></html>";

START_TEST(test_plain_text_keeps_structure_and_drops_scripts) {
        _cleanup_free_ char *t = convert(page, false, 1 << 20, NULL);

        ck_assert_str_eq(
                t, "Main title\n\nFirst paragraph spans lines.\n\nSecond\nline two About us and other.\n\n"
                   "one\ntwo\n\n  keep   this\n    indent\n\na b");
}
END_TEST

START_TEST(test_markdown_headings_lists_and_links) {
        _cleanup_free_ char *t = convert(page, true, 1 << 20, NULL);

        ck_assert_str_eq(t, "# Main title\n\nFirst paragraph spans lines.\n\n"
                            "Second\nline two About us [http://example.test/about] and other "
                            "[http://example.test/dir/other.html].\n\n- one\n- two\n\n"
                            "```\n  keep   this\n    indent\n```\n\na b");
        ck_assert_ptr_null(strstr(t, "secret"));
        ck_assert_ptr_null(strstr(t, "color"));
}
END_TEST

START_TEST(test_bound_cuts_at_a_character) {
        bool truncated = false;
        /* "é" is two bytes: a bound of 4 falls inside the third one. */
        _cleanup_free_ char *t = convert("<p>ééééé</p>", false, 5, &truncated);

        ck_assert(truncated);
        ck_assert_str_eq(t, "éé");
        free(t);
        t = convert("<p>ééééé</p>", false, 100, &truncated);
        ck_assert(!truncated);
        ck_assert_str_eq(t, "ééééé");
}
END_TEST

START_TEST(test_anything_gives_text) {
        static const char binary[] = "\x89PNG\r\n\x1a\n\xff\xfe<p>\xc3\x28 x";
        char *t = NULL;
        bool truncated;

        free(convert("just text, no tags", false, 100, NULL));
        free(convert("<p><b>unclosed <i>tags", true, 100, NULL));
        ck_assert_int_eq(html_to_text(binary, sizeof binary - 1, NULL, NULL, false, 100, &t, &truncated), 0);
        for (size_t i = 0; t[i]; i += utf8_char_len(t + i, strlen(t + i)))
                ck_assert_uint_gt(utf8_char_len(t + i, strlen(t + i)), 0);
        free(t);
        ck_assert_int_eq(html_to_text("", 0, NULL, NULL, true, 100, &t, &truncated), 0);
        ck_assert_str_eq(t, "");
        free(t);
        /* Latin-1 named by the server. */
        ck_assert_int_eq(html_to_text("<p>caf\xe9</p>", 9, NULL, "iso-8859-1", false, 100, &t, &truncated),
                         0);
        ck_assert_str_eq(t, "café");
        free(t);
}
END_TEST

START_TEST(test_deep_nesting_is_bounded) {
        size_t depth = 5000;
        char *html = malloc(depth * 5 + 10), *t = NULL;
        bool truncated;
        size_t n = 0;

        ck_assert_ptr_nonnull(html);
        for (size_t i = 0; i < depth; i++) {
                memcpy(html + n, "<div>", 5);
                n += 5;
        }
        memcpy(html + n, "deep", 4);
        n += 4;
        ck_assert_int_eq(html_to_text(html, n, NULL, NULL, false, 100, &t, &truncated), 0);
        free(t);
        free(html);
}
END_TEST

int main(void) {
        Suite *s = suite_create("html-text");
        TCase *tc = tcase_create("html-text");

        tcase_add_test(tc, test_plain_text_keeps_structure_and_drops_scripts);
        tcase_add_test(tc, test_markdown_headings_lists_and_links);
        tcase_add_test(tc, test_bound_cuts_at_a_character);
        tcase_add_test(tc, test_anything_gives_text);
        tcase_add_test(tc, test_deep_nesting_is_bounded);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
