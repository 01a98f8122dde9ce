/*
 * s3_sysmeta_doc.h - a bucket sub-resource's rules kept as one line of
 * compact JSON in a container sysmeta header (lifecycle and CORS rules):
 * the form a parsed body is stored in.
 */
#ifndef PROXY_S3_SYSMETA_DOC_H
#define PROXY_S3_SYSMETA_DOC_H

#include <jansson.h>
#include <stddef.h>

/* Dumps 'doc' as compact JSON. On success returns 0 and sets *stored to
 * the text (free() it). Returns 1 with *stored NULL when the text is over
 * 'max' bytes or holds a CR or LF (a header value could not carry it),
 * or -ENOMEM. */
int s3_sysmeta_doc_dump(const json_t *doc, size_t max, char **stored);

#endif /* PROXY_S3_SYSMETA_DOC_H */
