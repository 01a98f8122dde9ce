/*
 * file_md5.h - the MD5 of a file's bytes, in hex: ring and swift.conf
 * checksums for recon (Swift's md5_hash_for_file()) and the ETag check
 * of `kura object-info`. Reads with pread(), so the caller's file offset
 * is left alone. Thread-safe.
 */
#ifndef STORAGE_FILE_MD5_H
#define STORAGE_FILE_MD5_H

#include <stdint.h>

/* The MD5 of the first 'len' bytes of 'fd' (UINT64_MAX: up to the end)
 * into 'hex' (32 lowercase hex digits and a NUL); *n_read (may be NULL)
 * gets how many bytes were read, fewer than 'len' when the file is
 * shorter. Returns 0, -ENOMEM, or the -errno of a failed read. */
int file_md5_fd(int fd, uint64_t len, char hex[33], uint64_t *n_read);

/* The MD5 of the whole file at 'path'. Returns 0 or -errno (-ENOENT). */
int file_md5_path(const char *path, char hex[33]);

#endif /* STORAGE_FILE_MD5_H */
