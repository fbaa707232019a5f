/* spec-enums.h — the enums of an agent's spec that more than the manifest speaks: the image
 * pull policy (the engine client pulls by it) and a volume's storage class and access mode
 * (the store keeps them in its rows). One definition and one string table each, here in the
 * basic layer, so that the manifest, the store and the engine client agree by construction.
 *
 * Header only (the tables are static, the lookups static inline), so that whatever compiles
 * a user of these words — a layer, a fuzzer — needs no extra source for them.
 * What must stay true: the words are the manifest's spelling (aegis-manifest(5)) and the
 * store's CHECK constraints (store-schema.h); the first value of each enum is its default. */
#pragma once

#include "string-table.h"

/* spec.runtime.image_pull_policy: "IfNotPresent" (default), "Always", "Never". */
typedef enum ImagePullPolicy {
        IMAGE_PULL_IF_NOT_PRESENT,
        IMAGE_PULL_ALWAYS,
        IMAGE_PULL_NEVER,
        _IMAGE_PULL_POLICY_MAX,
        _IMAGE_PULL_POLICY_INVALID = -EINVAL,
} ImagePullPolicy;

/* spec.volumes[].storage_class: "ephemeral" (default; expires) or "persistent". */
typedef enum VolumeStorageClass {
        VOLUME_EPHEMERAL,
        VOLUME_PERSISTENT,
        _VOLUME_STORAGE_CLASS_MAX,
        _VOLUME_STORAGE_CLASS_INVALID = -EINVAL,
} VolumeStorageClass;

/* spec.volumes[].access_mode: "read-write" (default) or "read-only". */
typedef enum VolumeAccessMode {
        VOLUME_READ_WRITE,
        VOLUME_READ_ONLY,
        _VOLUME_ACCESS_MODE_MAX,
        _VOLUME_ACCESS_MODE_INVALID = -EINVAL,
} VolumeAccessMode;

static const char *const image_pull_policy_table[_IMAGE_PULL_POLICY_MAX] = {
        [IMAGE_PULL_IF_NOT_PRESENT] = "IfNotPresent",
        [IMAGE_PULL_ALWAYS] = "Always",
        [IMAGE_PULL_NEVER] = "Never",
};
static const char *const volume_storage_class_table[_VOLUME_STORAGE_CLASS_MAX] = {
        [VOLUME_EPHEMERAL] = "ephemeral",
        [VOLUME_PERSISTENT] = "persistent",
};
static const char *const volume_access_mode_table[_VOLUME_ACCESS_MODE_MAX] = {
        [VOLUME_READ_WRITE] = "read-write",
        [VOLUME_READ_ONLY] = "read-only",
};

/* *_to_string: the word, NULL out of range; *_from_string: the value, -EINVAL for another word. */
_DEFINE_STRING_TABLE_LOOKUP_TO_STRING(image_pull_policy, ImagePullPolicy, static inline)
_DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(image_pull_policy, ImagePullPolicy, static inline)
_DEFINE_STRING_TABLE_LOOKUP_TO_STRING(volume_storage_class, VolumeStorageClass, static inline)
_DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(volume_storage_class, VolumeStorageClass, static inline)
_DEFINE_STRING_TABLE_LOOKUP_TO_STRING(volume_access_mode, VolumeAccessMode, static inline)
_DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(volume_access_mode, VolumeAccessMode, static inline)
