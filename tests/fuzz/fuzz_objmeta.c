/* Description: libFuzzer target: objmeta_decode() on arbitrary bytes never
 * crashes, and what it accepts is exactly what objmeta_encode() writes
 * (one canonical encoding: no second spelling of the same metadata). */
#include "storage/objmeta.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input behind a valid header and checksum, so the fuzzer explores
 * the body decoder instead of stopping at the checksum. */
static unsigned char *framed(const uint8_t *data, size_t size)
{
    unsigned char *buf = malloc(size + 12);
    uint64_t sum;

    if (!buf)
        abort();
    memcpy(buf, "KM\x01\x00", 4);
    memcpy(buf + 4, data, size);
    sum = XXH3_64bits(buf, size + 4);
    for (int i = 0; i < 8; i++)
        buf[size + 4 + i] = (unsigned char)(sum >> (8 * i));
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = framed(data, size), *enc;
    struct objmeta m = {0};
    size_t len;

    if (objmeta_decode(&m, buf, size + 12) == 0) {
        if (objmeta_encode(&m, &enc, &len) != 0)
            abort();
        if (len != size + 12 || memcmp(enc, buf, len) != 0)
            abort();
        free(enc);
    }
    objmeta_release(&m);
    objmeta_decode(&m, data, size); /* raw bytes: header and sum checks */
    objmeta_release(&m);
    free(buf);
    return 0;
}
