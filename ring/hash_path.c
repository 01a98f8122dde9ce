/*
 * hash_path.c - the MD5 of a prefixed and suffixed account/container/object
 * path, and the swift.conf section that holds the prefix and suffix.
 *
 * The hash must match Swift's byte for byte, or the two would place the
 * same object on different devices: names are hashed as the UTF-8 bytes
 * they arrive as, and the prefix and suffix as the raw bytes in the file.
 */
#include "ring/hash_path.h"

#include <errno.h>
#include <ini.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conf_parse {
    struct hash_path_conf *hc;
    bool oom;
};

static int on_ini_value(void *user, const char *section, const char *name,
                        const char *value)
{
    struct conf_parse *cp = user;
    char **slot = NULL;

    if (strcmp(section, "swift-hash") != 0)
        return 1;
    /* configparser folds option names to lowercase; sections keep case */
    if (strcasecmp(name, "swift_hash_path_prefix") == 0)
        slot = &cp->hc->prefix;
    else if (strcasecmp(name, "swift_hash_path_suffix") == 0)
        slot = &cp->hc->suffix;
    if (!slot)
        return 1;
    free(*slot);
    *slot = strdup(value);
    if (!*slot)
        cp->oom = true;
    return 1;
}

static int fill_empty(struct hash_path_conf *hc)
{
    if (!hc->prefix)
        hc->prefix = strdup("");
    if (!hc->suffix)
        hc->suffix = strdup("");
    return hc->prefix && hc->suffix ? 0 : -ENOMEM;
}

int hash_path_conf_load(struct hash_path_conf *hc, const char *path,
                        char err[HASH_PATH_ERRLEN])
{
    struct conf_parse cp = {.hc = hc};
    FILE *f;
    int line, rc = 0;

    memset(hc, 0, sizeof(*hc));
    f = fopen(path, "r");
    if (!f) {
        rc = -errno;
        snprintf(err, HASH_PATH_ERRLEN, "cannot open '%s': %s", path,
                 strerror(-rc));
        return rc;
    }
    line = ini_parse_file(f, on_ini_value, &cp);
    fclose(f);
    if (cp.oom || fill_empty(hc)) {
        rc = -ENOMEM;
        snprintf(err, HASH_PATH_ERRLEN, "out of memory reading '%s'", path);
    } else if (line) {
        rc = -EINVAL;
        snprintf(err, HASH_PATH_ERRLEN, "%s:%d: cannot parse line", path, line);
    } else if (!hc->prefix[0] && !hc->suffix[0]) {
        rc = -EINVAL;
        snprintf(err, HASH_PATH_ERRLEN,
                 "[swift-hash]: both swift_hash_path_suffix and "
                 "swift_hash_path_prefix are missing from %s",
                 path);
    }
    if (rc)
        hash_path_conf_release(hc);
    return rc;
}

int hash_path_conf_set(struct hash_path_conf *hc, const char *prefix,
                       const char *suffix)
{
    memset(hc, 0, sizeof(*hc));
    if ((!prefix || !*prefix) && (!suffix || !*suffix))
        return -EINVAL;
    if ((prefix && !(hc->prefix = strdup(prefix))) ||
        (suffix && !(hc->suffix = strdup(suffix))) || fill_empty(hc)) {
        hash_path_conf_release(hc);
        return -ENOMEM;
    }
    return 0;
}

void hash_path_conf_release(struct hash_path_conf *hc)
{
    free(hc->prefix);
    free(hc->suffix);
    hc->prefix = NULL;
    hc->suffix = NULL;
}

static bool present(const char *s)
{
    return s && *s;
}

static int digest_update(EVP_MD_CTX *ctx, const char *s)
{
    return EVP_DigestUpdate(ctx, s, strlen(s)) == 1 ? 0 : -EINVAL;
}

int hash_path(const struct hash_path_conf *hc, const char *account,
              const char *container, const char *object,
              unsigned char digest[16])
{
    EVP_MD_CTX *ctx;
    unsigned int len = 16;
    int rc = 0;

    if (present(object) && !present(container))
        return -EINVAL;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        rc = -EINVAL;
        goto out;
    }
    rc = digest_update(ctx, hc->prefix ? hc->prefix : "");
    if (!rc)
        rc = digest_update(ctx, "/");
    if (!rc)
        rc = digest_update(ctx, account ? account : "");
    if (!rc && present(container)) {
        rc = digest_update(ctx, "/");
        if (!rc)
            rc = digest_update(ctx, container);
    }
    if (!rc && present(object)) {
        rc = digest_update(ctx, "/");
        if (!rc)
            rc = digest_update(ctx, object);
    }
    if (!rc)
        rc = digest_update(ctx, hc->suffix ? hc->suffix : "");
    if (!rc && EVP_DigestFinal_ex(ctx, digest, &len) != 1)
        rc = -EINVAL;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

void hash_path_hex(const unsigned char digest[16], char hex[33])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < 16; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[32] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hash_path_from_hex(const char *hex, unsigned char digest[16])
{
    if (strlen(hex) != 32)
        return -EINVAL;
    for (int i = 0; i < 16; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -EINVAL;
        digest[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
