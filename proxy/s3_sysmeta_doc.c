/*
 * s3_sysmeta_doc.c - the stored form of a bucket sub-resource's rules.
 * Kept apart from the request plumbing so the body parsers' fuzz targets
 * compile it alone.
 */
#include "proxy/s3_sysmeta_doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int s3_sysmeta_doc_dump(const json_t *doc, size_t max, char **stored)
{
    *stored = json_dumps(doc, JSON_COMPACT);
    if (!*stored)
        return -ENOMEM;
    if (strlen(*stored) > max || strpbrk(*stored, "\r\n")) {
        free(*stored);
        *stored = NULL;
        return 1;
    }
    return 0;
}
