/* string-table.h — enum ↔ string, the one way (systemd's DEFINE_STRING_TABLE_LOOKUP shape).
 *
 * Beside the enum, a table indexed by it, named after the functions:
 *     static const char *const volume_status_table[_VOLUME_STATUS_MAX] = {
 *             [VOLUME_ACTIVE] = "active",
 *             [VOLUME_DELETED] = "deleted",
 *     };
 *     DEFINE_STRING_TABLE_LOOKUP(volume_status, VolumeStatus)
 * defines volume_status_to_string() (NULL for a value out of range or a hole in the table)
 * and volume_status_from_string() (the value, or -EINVAL for NULL or a word not in the
 * table: give the enum `_FOO_INVALID = -EINVAL` as systemd does). Words match exactly; no
 * semicolon after the macro.
 * What must stay true: a table has one entry per value below _MAX, and no word twice. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "macros.h"

static inline const char *string_table_lookup_to_string(const char *const *table, size_t n, int i) {
        return i >= 0 && (size_t) i < n ? table[i] : NULL;
}

static inline int string_table_lookup_from_string(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

#define _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)                                       \
        scope const char *name##_to_string(type i) {                                                   \
                return string_table_lookup_to_string(name##_table, ELEMENTSOF(name##_table), (int) i); \
        }

#define _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                                        \
        scope type name##_from_string(const char *s) {                                                    \
                return (type) string_table_lookup_from_string(name##_table, ELEMENTSOF(name##_table), s); \
        }

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )
#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type) \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, )

#define DEFINE_STRING_TABLE_LOOKUP(name, type)           \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) \
        DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)
