/* policy.c — a security context's decisions (see policy.h). */
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "host-match.h"
#include "policy.h"
#include "util.h"

#define WORKSPACE "/workspace"

bool policy_pattern_matches(const char *pattern, const char *tool) {
        size_t n;

        if (!pattern || !tool)
                return false;
        if (streq(pattern, "*"))
                return true;
        n = strlen(pattern);
        if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
                return strncmp(pattern, tool, n - 1) == 0 && tool[n - 1] != '\0';
        return streq(pattern, tool);
}

static bool denied_by_list(const ConfigSecurityContext *x, const char *tool) {
        for (size_t i = 0; x->deny_list && x->deny_list[i]; i++)
                if (policy_pattern_matches(x->deny_list[i], tool))
                        return true;
        return false;
}

bool policy_offers(const ConfigSecurityContext *x, const char *tool) {
        assert(x);
        if (denied_by_list(x, tool))
                return false;
        for (size_t i = 0; i < x->n_capabilities; i++)
                if (policy_pattern_matches(x->capabilities[i].tool_pattern, tool))
                        return true;
        return false;
}

uint64_t policy_max_concurrent(const ConfigSecurityContext *x, const char *tool) {
        uint64_t m = 0;

        for (size_t i = 0; i < x->n_capabilities; i++) {
                const ConfigCapability *k = &x->capabilities[i];
                if (policy_pattern_matches(k->tool_pattern, tool) && k->max_concurrent > 0 &&
                    (m == 0 || k->max_concurrent < m))
                        m = k->max_concurrent;
        }
        return m;
}

static const char *jstr(struct json_object *args, const char *key) {
        struct json_object *v;

        if (!args || !json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int policy_workspace_path(const char *path, char **ret) {
        _cleanup_free_ char *abs = NULL;
        char *out;
        size_t n = 0;

        assert(ret);
        if (isempty(path))
                path = WORKSPACE;
        abs = path[0] == '/' ? strdup(path) : asprintf_safe(WORKSPACE "/%s", path);
        if (!abs)
                return -ENOMEM;
        out = malloc(strlen(abs) + 2);
        if (!out)
                return -ENOMEM;
        for (const char *p = abs; *p;) {
                const char *e;
                size_t l;
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                l = (size_t) (e - p);
                if (l == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0) {
                                free(out);
                                return -EXDEV;
                        }
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        n--;
                } else if (!(l == 1 && p[0] == '.')) {
                        out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p = e;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        *ret = out;
        return 0;
}

static bool under(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        while (n > 1 && prefix[n - 1] == '/')
                n--;
        if (n == 1 && prefix[0] == '/')
                return true;
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static char *first_word(const char *command, bool has_args) {
        size_t n;

        if (has_args)
                return strdup(command);
        command += strspn(command, " \t\n");
        n = strcspn(command, " \t\n;&|<>()");
        return strndup(command, n);
}

static char *url_host(const char *url) {
        CURLU *u = curl_url();
        char *h = NULL, *ret = NULL;

        if (!u)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
                ret = strdup(h);
        curl_free(h);
        curl_url_cleanup(u);
        return ret;
}

/* 1 when capability k admits the call; else 0 and *ret_reason, or -ENOMEM. */
static int capability_admits(const ConfigSecurityContext *x, const ConfigCapability *k, const char *tool,
                             struct json_object *args, char **ret_reason) {
        if (k->path_allowlist && startswith(tool, "fs.")) {
                _cleanup_free_ char *p = NULL;
                bool ok = false;
                if (policy_workspace_path(jstr(args, "path"), &p) == -ENOMEM)
                        return -ENOMEM;
                for (size_t i = 0; p && k->path_allowlist[i]; i++)
                        ok = ok || under(p, k->path_allowlist[i]);
                if (!ok) {
                        *ret_reason = asprintf_safe(
                                "path %s is outside the path_allowlist of security context '%s'",
                                p ? p : "(above /)", x->name);
                        return 0;
                }
        }
        if (k->command_allowlist && streq(tool, "cmd.run")) {
                struct json_object *a = NULL;
                const char *c = jstr(args, "command");
                _cleanup_free_ char *w = NULL;
                bool has_args = args && json_object_object_get_ex(args, "args", &a) && a;
                if (!c || !(w = first_word(c, has_args)) || !strv_contains(k->command_allowlist, w)) {
                        *ret_reason =
                                asprintf_safe("command '%s' is not in the command_allowlist of security "
                                              "context '%s'",
                                              w ? w : strempty(c), x->name);
                        return 0;
                }
        }
        if (k->domain_allowlist && streq(tool, "web.fetch")) {
                const char *url = jstr(args, "url");
                _cleanup_free_ char *h = url ? url_host(url) : NULL;
                if (!h || !host_matches_any(k->domain_allowlist, h)) {
                        *ret_reason =
                                asprintf_safe("host '%s' is not in the domain_allowlist of security context "
                                              "'%s'",
                                              h ? h : "(none)", x->name);
                        return 0;
                }
        }
        return 1;
}

int policy_check(const ConfigSecurityContext *x, const char *tool, struct json_object *args,
                 char **ret_reason) {
        _cleanup_free_ char *first = NULL;
        bool named = false;

        assert(x && tool && ret_reason);
        *ret_reason = NULL;
        if (denied_by_list(x, tool)) {
                *ret_reason = asprintf_safe("denied by the deny_list of security context '%s'", x->name);
                return *ret_reason ? 1 : -ENOMEM;
        }
        for (size_t i = 0; i < x->n_capabilities; i++) {
                const ConfigCapability *k = &x->capabilities[i];
                char *why = NULL;
                if (!policy_pattern_matches(k->tool_pattern, tool))
                        continue;
                named = true;
                int a = capability_admits(x, k, tool, args, &why);
                if (a < 0)
                        return a;
                if (a > 0)
                        return 0;
                if (!first)
                        first = why;
                else
                        free(why);
        }
        if (!named)
                first = asprintf_safe("security context '%s' grants no capability for it", x->name);
        if (!first)
                return -ENOMEM;
        *ret_reason = TAKE_PTR(first);
        return 1;
}
