/* config-security.c — the security section of aegis-config.yaml: security.contexts[] (named
 * sets of capabilities and a deny list, the reference's model) and the built-in "default".
 *
 *   security:
 *     default_context: default          # (a key of config.c's table)
 *     contexts:
 *       - name: restricted
 *         capabilities:
 *           - tool_pattern: "fs.*"
 *             path_allowlist: [/workspace/src]
 *           - tool_pattern: cmd.run
 *             command_allowlist: [make, python3]
 *             max_concurrent: 4
 *         deny_list: [web.*]
 *
 * What must stay true: after loading there is at least one context, names are unique, and
 * security.default_context names one of them (else loading fails naming the key). The
 * built-in "default" allows every tool with no further bound: the agent's container is the
 * sandbox, the fs tools never leave the volumes, and web.* answer to the manifest's
 * network_policy; an operator restricts it by defining a context named "default". */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config-security.h"
#include "host-match.h"
#include "util.h"
#include "yaml-tree.h"

#define LIST_MAX 256 /* entries of one allow- or deny-list */
#define CONTEXTS_MAX 64
#define CAPABILITIES_MAX 64

static void capability_done(ConfigCapability *k) {
        free(k->tool_pattern);
        strv_free(k->path_allowlist);
        strv_free(k->command_allowlist);
        strv_free(k->domain_allowlist);
}

static void context_done(ConfigSecurityContext *x) {
        free(x->name);
        for (size_t i = 0; i < x->n_capabilities; i++)
                capability_done(&x->capabilities[i]);
        free(x->capabilities);
        strv_free(x->deny_list);
        free(x->where);
}

void config_security_free(Config *c) {
        for (size_t i = 0; i < c->security.n_contexts; i++)
                context_done(&c->security.contexts[i]);
        free(c->security.contexts);
        c->security.contexts = NULL;
        c->security.n_contexts = 0;
}

const ConfigSecurityContext *config_security_context(const Config *c, const char *name) {
        if (!name)
                name = c->security.default_context ?: CONFIG_SECURITY_DEFAULT_CONTEXT;
        for (size_t i = 0; i < c->security.n_contexts; i++)
                if (streq(c->security.contexts[i].name, name))
                        return &c->security.contexts[i];
        return NULL;
}

static bool pattern_valid(const char *s) {
        if (isempty(s) || strlen(s) > 128)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
                      *p == '*'))
                        return false;
        return true;
}

/* A list of strings (each checked by valid when given) → strv. */
static int get_list(const YamlNode *n, bool (*valid)(const char *), const char *what, char ***ret,
                    Error *e) {
        _cleanup_strv_free_ char **l = NULL;

        if (n->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error(n, e, -EINVAL, "expected a list of %s, got %s", what,
                                       yaml_node_describe(n));
        if (n->n_items > LIST_MAX)
                return yaml_node_error(n, e, -E2BIG, "at most %d entries, got %zu", LIST_MAX, n->n_items);
        for (size_t i = 0; i < n->n_items; i++) {
                const YamlNode *item = yaml_sequence_item(n, i);
                const char *s;
                int r = yaml_node_get_string(item, 1024, &s, e);
                if (r < 0)
                        return r;
                if (isempty(s) || (valid && !valid(s)))
                        return yaml_node_error(item, e, -EINVAL, "expected %s, got \"%.64s\"", what, s);
                if (strv_extend(&l, s) < 0)
                        return error_set(e, -ENOMEM, "Out of memory");
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool path_valid(const char *s) {
        return s[0] == '/' && !strstr(s, "/../") && !endswith(s, "/..") && !strpbrk(s, "\"\\\n");
}

static bool word_valid(const char *s) {
        return !strpbrk(s, " \t\n\"\\");
}

static bool host_valid(const char *s) {
        const char *why;
        return host_pattern_check(s, &why) == 0 && !strpbrk(s, "\"\\");
}

static int parse_capability(const YamlNode *n, ConfigCapability *k, Error *e) {
        static const char *const known[] = { "tool_pattern",     "path_allowlist", "command_allowlist",
                                             "domain_allowlist", "max_concurrent", NULL };
        const YamlNode *v;
        const char *s;
        int r;

        if (n->kind != YAML_TREE_MAPPING)
                return yaml_node_error(n, e, -EINVAL, "expected a mapping (tool_pattern, …), got %s",
                                       yaml_node_describe(n));
        r = yaml_mapping_check_keys(n, known, e);
        if (r < 0)
                return r;
        v = yaml_mapping_get(n, "tool_pattern");
        if (!v)
                return yaml_node_error(
                        n, e, -EINVAL,
                        "tool_pattern is missing: \"*\", a prefix like \"fs.*\" or a tool's name");
        r = yaml_node_get_string(v, 128, &s, e);
        if (r < 0)
                return r;
        if (!pattern_valid(s))
                return yaml_node_error(
                        v, e, -EINVAL,
                        "expected \"*\", a prefix like \"fs.*\" or a tool's name, got \"%.64s\"", s);
        k->tool_pattern = strdup(s);
        if (!k->tool_pattern)
                return error_set(e, -ENOMEM, "Out of memory");
        if ((v = yaml_mapping_get(n, "path_allowlist")) && !yaml_node_is_null(v) &&
            (r = get_list(v, path_valid, "absolute paths like /workspace/src", &k->path_allowlist, e)) < 0)
                return r;
        if ((v = yaml_mapping_get(n, "command_allowlist")) && !yaml_node_is_null(v) &&
            (r = get_list(v, word_valid, "command names like python3 (one word each)", &k->command_allowlist,
                          e)) < 0)
                return r;
        if ((v = yaml_mapping_get(n, "domain_allowlist")) && !yaml_node_is_null(v) &&
            (r = get_list(v, host_valid,
                          "host names like pypi.org (host-match.h: a name, *.name, an address or a prefix)",
                          &k->domain_allowlist, e)) < 0)
                return r;
        if ((v = yaml_mapping_get(n, "max_concurrent")) && !yaml_node_is_null(v) &&
            (r = yaml_node_get_u64(v, 1, 100000, &k->max_concurrent, e)) < 0)
                return r;
        return 0;
}

static int parse_context(const YamlNode *n, ConfigSecurityContext *x, Error *e) {
        static const char *const known[] = { "name", "capabilities", "deny_list", "description", NULL };
        const YamlNode *v;
        const char *s;
        int r;

        if (n->kind != YAML_TREE_MAPPING)
                return yaml_node_error(n, e, -EINVAL,
                                       "expected a mapping (name, capabilities, deny_list), got %s",
                                       yaml_node_describe(n));
        r = yaml_mapping_check_keys(n, known, e);
        if (r < 0)
                return r;
        x->where = asprintf_safe("%s:%u", n->file, n->line);
        if (!x->where)
                return error_set(e, -ENOMEM, "Out of memory");
        v = yaml_mapping_get(n, "name");
        if (!v)
                return yaml_node_error(n, e, -EINVAL, "name is missing: manifests name a context by it");
        r = yaml_node_get_string(v, 64, &s, e);
        if (r < 0)
                return r;
        if (!id_is_valid(s))
                return yaml_node_error(
                        v, e, -EINVAL,
                        "expected a name of 1 to 64 letters, digits, \"_\", \".\" or \"-\", got "
                        "\"%.64s\"",
                        s);
        x->name = strdup(s);
        if (!x->name)
                return error_set(e, -ENOMEM, "Out of memory");
        v = yaml_mapping_get(n, "capabilities");
        if (v && !yaml_node_is_null(v)) {
                if (v->kind != YAML_TREE_SEQUENCE)
                        return yaml_node_error(v, e, -EINVAL, "expected a list of capabilities, got %s",
                                               yaml_node_describe(v));
                if (v->n_items > CAPABILITIES_MAX)
                        return yaml_node_error(v, e, -E2BIG, "at most %d capabilities", CAPABILITIES_MAX);
                x->capabilities = calloc(MAX(v->n_items, (size_t) 1), sizeof *x->capabilities);
                if (!x->capabilities)
                        return error_set(e, -ENOMEM, "Out of memory");
                for (size_t i = 0; i < v->n_items; i++) {
                        x->n_capabilities = i + 1;
                        r = parse_capability(yaml_sequence_item(v, i), &x->capabilities[i], e);
                        if (r < 0)
                                return r;
                }
        }
        v = yaml_mapping_get(n, "deny_list");
        if (v && !yaml_node_is_null(v) &&
            (r = get_list(v, pattern_valid, "tool patterns like web.* or cmd.run", &x->deny_list, e)) < 0)
                return r;
        return 0;
}

int config_security_parse_contexts(Config *c, const YamlNode *key, const YamlNode *list, Error *e) {
        int r;

        config_security_free(c);
        if (yaml_node_is_null(list))
                return 0;
        if (list->kind != YAML_TREE_SEQUENCE)
                return yaml_node_error_path(key, "security.contexts", e, -EINVAL,
                                            "expected a list of contexts, got %s", yaml_node_describe(list));
        if (list->n_items > CONTEXTS_MAX)
                return yaml_node_error_path(key, "security.contexts", e, -E2BIG,
                                            "at most %d contexts, got %zu", CONTEXTS_MAX, list->n_items);
        c->security.contexts = calloc(MAX(list->n_items, (size_t) 1), sizeof *c->security.contexts);
        if (!c->security.contexts)
                return error_set(e, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < list->n_items; i++) {
                const YamlNode *n = yaml_sequence_item(list, i);
                c->security.n_contexts = i + 1;
                r = parse_context(n, &c->security.contexts[i], e);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(c->security.contexts[j].name, c->security.contexts[i].name))
                                return yaml_node_error(
                                        n, e, -EINVAL, "a second context named \"%s\" (the first is at %s)",
                                        c->security.contexts[i].name, c->security.contexts[j].where);
        }
        return 0;
}

int config_security_finish(Config *c, Error *e) {
        const char *def;

        if (!config_security_context(c, CONFIG_SECURITY_DEFAULT_CONTEXT)) {
                ConfigSecurityContext *a =
                        reallocarray(c->security.contexts, c->security.n_contexts + 1, sizeof *a);
                ConfigSecurityContext *x;
                if (!a)
                        return error_set(e, -ENOMEM, "Out of memory");
                c->security.contexts = a;
                x = &a[c->security.n_contexts];
                *x = (ConfigSecurityContext){ .name = strdup(CONFIG_SECURITY_DEFAULT_CONTEXT),
                                              .where = strdup("built-in"),
                                              .capabilities = calloc(1, sizeof(ConfigCapability)),
                                              .n_capabilities = 1 };
                c->security.n_contexts++;
                if (!x->name || !x->where || !x->capabilities ||
                    !(x->capabilities[0].tool_pattern = strdup("*")))
                        return error_set(e, -ENOMEM, "Out of memory");
        }
        def = c->security.default_context ?: CONFIG_SECURITY_DEFAULT_CONTEXT;
        if (!config_security_context(c, def)) {
                _cleanup_free_ char *names = NULL;
                for (size_t i = 0; i < c->security.n_contexts; i++) {
                        char *m = asprintf_safe("%s%s%s", strempty(names), names ? ", " : "",
                                                c->security.contexts[i].name);
                        free(names);
                        names = m;
                }
                return error_set_field(
                        e, -EINVAL, "security.default_context",
                        "security.default_context: no context \"%s\" in security.contexts (the "
                        "contexts are: %s)",
                        def, strempty(names));
        }
        return 0;
}

static void dump_list(FILE *f, const char *indent, const char *key, char **l) {
        if (!l)
                return;
        fprintf(f, "%s%s: [", indent, key);
        for (size_t i = 0; l[i]; i++)
                fprintf(f, "%s\"%s\"", i > 0 ? ", " : "", l[i]);
        fputs("]\n", f);
}

void config_security_dump(const Config *c, FILE *f) {
        fputs("  contexts:\n", f);
        for (size_t i = 0; i < c->security.n_contexts; i++) {
                const ConfigSecurityContext *x = &c->security.contexts[i];
                fprintf(f, "    - name: \"%s\"  # %s\n", x->name, x->where);
                fputs("      capabilities:", f);
                fputs(x->n_capabilities == 0 ? " []\n" : "\n", f);
                for (size_t j = 0; j < x->n_capabilities; j++) {
                        const ConfigCapability *k = &x->capabilities[j];
                        fprintf(f, "        - tool_pattern: \"%s\"\n", k->tool_pattern);
                        dump_list(f, "          ", "path_allowlist", k->path_allowlist);
                        dump_list(f, "          ", "command_allowlist", k->command_allowlist);
                        dump_list(f, "          ", "domain_allowlist", k->domain_allowlist);
                        if (k->max_concurrent > 0)
                                fprintf(f, "          max_concurrent: %" PRIu64 "\n", k->max_concurrent);
                }
                dump_list(f, "      ", "deny_list", x->deny_list);
        }
}
