/* Description: libFuzzer target: ringfile_read() on arbitrary bytes never
 * crashes, leaks or reads out of bounds; what it accepts is consistent. */
#include "ring/ringfile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    char err[RINGFILE_ERRLEN];
    struct ring_data rd;
    FILE *f;

    if (!path[0])
        snprintf(path, sizeof(path), "/dev/shm/kura-fuzz-ring-%d",
                 (int)getpid());
    f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    if (ringfile_read(path, &rd, err) == 0) {
        /* accepted: every slot must name a device */
        for (size_t r = 0; r < rd.n_replicas; r++)
            for (size_t p = 0; p < rd.replica_parts[r]; p++)
                if (rd.replica2part2dev[r][p] >= rd.n_devs ||
                    !rd.devs[rd.replica2part2dev[r][p]])
                    abort();
        ring_data_release(&rd);
    }
    return 0;
}
