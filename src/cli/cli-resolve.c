/* cli-resolve.c — ids as people type them: the full id, or any unique prefix of at least
 * CLI_ID_PREFIX_MIN characters, as podman takes container ids; a volume also by its name
 * (an exact id or id prefix wins over a name, a name shared by two volumes is refused).
 *
 * A prefix is looked up in the list API, so it sees exactly what the caller's token sees
 * (its tenant's executions or volumes) and nothing else. An exact id among the listed ones
 * wins over a longer id it prefixes. When the daemon has no list to give (an old or
 * partial daemon) the argument is used as given and the request that follows says what
 * is wrong with it. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define RESOLVE_PAGES_MAX 100 /* executions pages of STORE_LIST_MAX */
#define RESOLVE_SHOW_MAX 10 /* matches listed for an ambiguous prefix */
#define RESOLVE_PAGE 1000 /* the API's largest page (STORE_LIST_MAX) */

typedef struct Matches {
        const char *arg;
        const char *name_field; /* a name that may stand for the id (a volume's), or NULL */
        char *exact;
        char *named; /* the id of the one entry whose name is arg */
        size_t n_named;
        char **ids;
        size_t n;
} Matches;

static void matches_done(Matches *m) {
        free(m->exact);
        free(m->named);
        strv_free(m->ids);
}

static int matches_add(Matches *m, json_object *list) {
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *o = json_object_array_get_idx(list, i);
                const char *id = json_str(o, "id");

                if (id && m->name_field && streq_ptr(json_str(o, m->name_field), m->arg)) {
                        if (!m->named && !(m->named = strdup(id)))
                                return -ENOMEM;
                        m->n_named++;
                }
                if (!id || !startswith(id, m->arg))
                        continue;
                if (streq(id, m->arg) && !m->exact && !(m->exact = strdup(id)))
                        return -ENOMEM;
                if (strv_extend(&m->ids, id) < 0)
                        return -ENOMEM;
                m->n++;
        }
        return 0;
}

/* Is arg a whole id as the daemon issues them (a UUID)? Then no look-up is needed. */
static bool id_is_whole(const char *arg) {
        return strlen(arg) == UUID_STRING_MAX - 1 && strspn(arg, "0123456789abcdef-") == UUID_STRING_MAX - 1;
}

static int resolve(Cli *cli, const char *what, const char *arg, const char *list_path, const char *array,
                   const char *name_field, bool paged, char **ret_id) {
        _cleanup_(matches_done) Matches m = { .arg = arg, .name_field = name_field };
        _cleanup_free_ char *cursor = NULL;
        int r;

        assert(arg && ret_id);
        if (id_is_whole(arg)) {
                *ret_id = strdup(arg);
                return *ret_id ? 0 : -ENOMEM;
        }
        if (strlen(arg) < CLI_ID_PREFIX_MIN && !name_field) {
                fprintf(stderr, "aegis: %s id \"%s\" is too short: give at least %d characters of it\n",
                        what, arg, CLI_ID_PREFIX_MIN);
                return -EINVAL;
        }
        for (unsigned page = 0; page < (paged ? RESOLVE_PAGES_MAX : 1); page++) {
                _cleanup_free_ char *path = NULL, *ec = cursor ? cli_escape(cursor) : NULL;
                json_object *answer = NULL, *list;
                const char *next;

                path = paged ? asprintf_safe("%s?limit=%d%s%s", list_path, RESOLVE_PAGE,
                                             ec ? "&cursor=" : "", strempty(ec))
                             : strdup(list_path);
                if (!path)
                        return -ENOMEM;
                if (cli_call_json_quiet(cli, "GET", path, &answer) < 0 ||
                    !json_object_object_get_ex(answer, array, &list) ||
                    !json_object_is_type(list, json_type_array)) {
                        json_object_put(answer);
                        if (page > 0)
                                break;
                        *ret_id = strdup(arg); /* no list: let the request itself answer */
                        return *ret_id ? 0 : -ENOMEM;
                }
                r = matches_add(&m, list);
                next = json_str(answer, "next_cursor");
                free(cursor);
                cursor = strdup_or_null(next);
                json_object_put(answer);
                if (r < 0)
                        return r;
                if (!cursor)
                        break;
        }
        if (m.exact) {
                *ret_id = TAKE_PTR(m.exact);
                return 0;
        }
        if (m.n_named > 1) {
                fprintf(stderr, "aegis: %zu %ss are named \"%s\": give the id of the one you mean\n",
                        m.n_named, what, arg);
                return -EADDRNOTAVAIL;
        }
        if (m.named) {
                *ret_id = TAKE_PTR(m.named);
                return 0;
        }
        if (strlen(arg) < CLI_ID_PREFIX_MIN) {
                fprintf(stderr, "aegis: no %s is named \"%s\", and it is too short for an id prefix\n", what,
                        arg);
                return -ENOENT;
        }
        if (m.n == 0) {
                fprintf(stderr, "aegis: no %s has an id starting with \"%s\"\n", what, arg);
                return -ENOENT;
        }
        if (m.n > 1) {
                fprintf(stderr, "aegis: %s id \"%s\" is ambiguous: %zu %ss match:\n", what, arg, m.n, what);
                for (size_t i = 0; i < m.n && i < RESOLVE_SHOW_MAX; i++)
                        fprintf(stderr, "  %s\n", m.ids[i]);
                if (m.n > RESOLVE_SHOW_MAX)
                        fprintf(stderr, "  … and %zu more\n", m.n - RESOLVE_SHOW_MAX);
                fprintf(stderr, "aegis: give more characters of the id\n");
                return -EADDRNOTAVAIL;
        }
        *ret_id = strdup(m.ids[0]);
        return *ret_id ? 0 : -ENOMEM;
}

int cli_resolve_execution(Cli *cli, const char *arg, char **ret_id) {
        return resolve(cli, "execution", arg, "/v1/executions", "executions", NULL, true, ret_id);
}

int cli_resolve_volume(Cli *cli, const char *arg, char **ret_id) {
        return resolve(cli, "volume", arg, "/v1/volumes", "volumes", "name", false, ret_id);
}

char *cli_execution_path(const char *id, const char *suffix) {
        _cleanup_free_ char *e = cli_escape(id);

        return e ? asprintf_safe("/v1/executions/%s%s", e, strempty(suffix)) : NULL;
}
