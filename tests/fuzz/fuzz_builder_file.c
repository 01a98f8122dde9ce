/* Description: libFuzzer target: builder_load() on arbitrary bytes never
 * crashes; a builder it accepts is validated and rebalanced without harm. */
#include "ring/builder.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    char err[BUILDER_ERRLEN];
    struct builder *b;
    FILE *f;

    if (!path[0])
        snprintf(path, sizeof(path), "/dev/shm/kura-fuzz-builder-%d",
                 (int)getpid());
    f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    if (builder_load(path, &b, err) == 0) {
        struct rebalance_result res;
        /* small rings only: a fuzzed part power 32 would just be slow */
        if (b->part_power <= 12 && b->n_devs <= 64) {
            /* Load checks the shape and the parts counters, not that a
             * partition's replicas sit on distinct devices: that is
             * validate's finding (as swift-ring-builder validate), and
             * rebalance repairs it. Both must take any loaded builder. */
            if (b->replica2part2dev)
                builder_validate(b, err);
            builder_rebalance(b, 1, &res, err);
        }
        builder_free(b);
    }
    return 0;
}
