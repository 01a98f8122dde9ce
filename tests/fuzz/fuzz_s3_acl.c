/* Description: libFuzzer target: S3 ACLs (s3_acl.c) - AccessControlPolicy
 * bodies on expat and x-amz-grant-* header values - on arbitrary bytes
 * never crash, and what they accept is a Swift ACL of comma-separated
 * names without control characters, which a header can carry. The first
 * byte picks the input: even a policy body, odd a grant header value. */
#include "proxy/s3_acl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_acl(const char *acl)
{
    for (const char *p = acl; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const perms[] = {"READ", "WRITE", "FULL_CONTROL",
                                        "READ_ACP", "WRITE_ACP"};
    struct s3_acl a = {.owner = "test:tester"};
    int rc;

    if (size < 1 || size > 256 * 1024)
        return 0;
    if (data[0] % 2 == 0) {
        rc = s3_acl_policy(&a, (const char *)data + 1, size - 1);
        if (rc != 0 && rc != 1 && rc != -ENOMEM)
            abort();
    } else {
        char *v = malloc(size);

        if (!v)
            return 0;
        memcpy(v, data + 1, size - 1);
        v[size - 1] = '\0';
        s3_acl_grant_header(&a, v, perms[(data[0] >> 1) % 5]);
        free(v);
    }
    if (!a.err && !a.unsupported) {
        check_acl(a.read);
        check_acl(a.write);
    }
    s3_acl_release(&a);
    return 0;
}
