/*
 * file_md5.c - MD5 of a file's bytes (file_md5.h).
 */
#include "storage/file_md5.h"

#include "ring/hash_path.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#define FILE_MD5_BLOCK (64 * 1024)

int file_md5_fd(int fd, uint64_t len, char hex[33], uint64_t *n_read)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = malloc(FILE_MD5_BLOCK);
    uint64_t pos = 0;
    unsigned int mdlen;
    int err = 0;

    if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        err = -ENOMEM;
        goto out;
    }
    while (pos < len) {
        size_t want =
            len - pos < FILE_MD5_BLOCK ? (size_t)(len - pos) : FILE_MD5_BLOCK;
        ssize_t n = pread(fd, buf, want, (off_t)pos);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            goto out;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        pos += (uint64_t)n;
    }
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen)) {
        err = -ENOMEM;
        goto out;
    }
    hash_path_hex(md, hex);
    if (n_read)
        *n_read = pos;
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return err;
}

int file_md5_path(const char *path, char hex[33])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err;

    if (fd == -1)
        return -errno;
    err = file_md5_fd(fd, UINT64_MAX, hex, NULL);
    close(fd);
    return err;
}
