/* volume-mount.c — see volume-mount.h. */
#include <errno.h>
#include <string.h>

#include "macros.h"
#include "util.h"
#include "volume-mount.h"

int volume_engine_name(const char *volume_id, bool read_only, char **ret) {
        char *n;

        if (!id_is_valid(volume_id))
                return -EINVAL;
        n = asprintf_safe(VOLUME_ENGINE_PREFIX "%s%s", volume_id, read_only ? "-ro" : "");
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 0;
}

/* A host for addr=: anything that could end the option or start another is refused. */
static bool nfs_host_valid(const char *h) {
        if (isempty(h) || strlen(h) > 253)
                return false;
        for (const char *p = h; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == ',' || *p == '=' || *p == '/' || *p == '"' ||
                    *p == '\\' || (unsigned char) *p == 0x7f)
                        return false;
        return true;
}

int volume_nfs_options(const char *host, uint16_t port, const char *tenant, const char *volume_id,
                       bool read_only, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *o = NULL, *device = NULL;

        if (!nfs_host_valid(host) || port == 0 || !id_is_valid(tenant) || !id_is_valid(volume_id))
                return -EINVAL;
        o = asprintf_safe("o=addr=%s,nfsvers=3,proto=tcp,port=%u,mountport=%u,soft,timeo=10,nolock%s", host,
                          (unsigned) port, (unsigned) port, read_only ? ",ro" : "");
        device = asprintf_safe("device=:/%s/%s", tenant, volume_id);
        if (!o || !device || strv_extend(&l, "type=nfs") < 0 || strv_extend(&l, o) < 0 ||
            strv_extend(&l, device) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
