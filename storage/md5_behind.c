/*
 * md5_behind.c - an MD5 hashed from a bounded ring of blocks that the
 * producer fills, by a helper thread or, when the helper is not there to
 * do it, by the producer itself. What is hashed and what the digest is
 * checked against are the caller's (diskfile.c's reader).
 *
 * Invariants (under 'lock' for the shared fields):
 * 1. Blocks head, head+1, ... head+queued-1 (mod n) are queued: full and
 *    waiting, or being hashed (the one at head, while 'busy'). Block
 *    'tail' == head+queued (mod n) is the producer's while queued < n; it
 *    writes only there, and queues it by queued++ (push).
 * 2. Whoever sets 'busy' (the helper, or the producer) owns ctx and block
 *    head until it clears it; blocks are hashed in ring order, one at a
 *    time, so the digest is the stream's whoever hashed what.
 * 3. The producer never sleeps on an idle hasher: when it needs a free
 *    block (or the digest) and no one is hashing, it hashes the next block
 *    itself. So a helper that gets no CPU (a loaded machine) slows the
 *    stream to inline hashing, no further; it waits only for a block the
 *    helper is in the middle of.
 * 4. Each side sleeps until half the ring is its own again (or the
 *    stream ends), not until one block is: a wake-up costs two context
 *    switches, dear on this kind of VM, and this halves them or better.
 * 5. 'stop' ends the helper at its next look at the queue, hashing
 *    nothing more: only md5_behind_free() sets it.
 */
#include "storage/md5_behind.h"

#include "ring/hash_path.h"

#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The helper only runs EVP_DigestUpdate(): a small stack is plenty. */
#define HELPER_STACK_SIZE (256 * 1024)

struct md5_behind {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* to the helper: blocks queued, or stop */
    pthread_cond_t done; /* to the producer: blocks hashed */
    pthread_t helper;
    bool started;
    EVP_MD_CTX *ctx;
    char *mem; /* n * size bytes, mmap()ed */
    size_t size;
    unsigned int n;
    /* shared, under 'lock' */
    unsigned int head, queued;
    bool busy;                   /* block head is being hashed */
    unsigned int producer_wants; /* sleeping until queued <= this */
    bool producer_waits, helper_waits;
    bool flush; /* final: hash what is queued, however little */
    bool stop;
    /* the producer's */
    unsigned int tail;
    size_t fill;   /* bytes in block 'tail' */
    bool finished; /* md5_behind_final() ran */
    size_t lens[]; /* bytes in each queued block */
};

static char *block(struct md5_behind *mb, unsigned int i)
{
    return mb->mem + (size_t)i * mb->size;
}

/* Hashes block head, the lock held on entry and on return (not during). */
static void hash_head(struct md5_behind *mb)
{
    unsigned int i = mb->head;

    assert(mb->queued && !mb->busy);
    mb->busy = true;
    pthread_mutex_unlock(&mb->lock);
    EVP_DigestUpdate(mb->ctx, block(mb, i), mb->lens[i]);
    pthread_mutex_lock(&mb->lock);
    mb->busy = false;
    mb->head = (i + 1) % mb->n;
    mb->queued--;
}

/* What wakes a sleeping helper: half the ring queued, or the end. */
static bool helper_has_work(const struct md5_behind *mb)
{
    return !mb->busy &&
           (mb->queued >= (mb->n + 1) / 2 || (mb->flush && mb->queued));
}

static void *helper_main(void *arg)
{
    struct md5_behind *mb = arg;

    pthread_mutex_lock(&mb->lock);
    for (;;) {
        if (!mb->queued || mb->busy) {
            mb->helper_waits = true;
            while (!mb->stop && !helper_has_work(mb))
                pthread_cond_wait(&mb->wake, &mb->lock);
            mb->helper_waits = false;
        }
        if (mb->stop)
            break;
        hash_head(mb);
        if (mb->producer_waits && mb->queued <= mb->producer_wants) {
            /* signalled unlocked, so the producer does not wake into a
             * held lock (md5_behind_free() joins us before destroying) */
            mb->producer_waits = false;
            pthread_mutex_unlock(&mb->lock);
            pthread_cond_signal(&mb->done);
            pthread_mutex_lock(&mb->lock);
        }
    }
    pthread_mutex_unlock(&mb->lock);
    return NULL;
}

int md5_behind_new(size_t block_size, unsigned int n_blocks,
                   struct md5_behind **out)
{
    struct md5_behind *mb;
    pthread_attr_t attr;
    void *mem;
    int err;

    assert(n_blocks >= 2 && block_size > 0);
    *out = NULL;
    mb = calloc(1, sizeof(*mb) + n_blocks * sizeof(mb->lens[0]));
    if (!mb)
        return -ENOMEM;
    pthread_mutex_init(&mb->lock, NULL);
    pthread_cond_init(&mb->wake, NULL);
    pthread_cond_init(&mb->done, NULL);
    mb->size = block_size;
    mb->n = n_blocks;
    /* populated at once: one call instead of a page fault per page, and
     * the memory goes back to the system with the stream */
    mem = mmap(NULL, block_size * n_blocks, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    mb->mem = mem == MAP_FAILED ? NULL : mem;
    mb->ctx = EVP_MD_CTX_new();
    if (!mb->mem || !mb->ctx || !EVP_DigestInit_ex(mb->ctx, EVP_md5(), NULL)) {
        err = -ENOMEM;
        goto fail;
    }
    err = -pthread_attr_init(&attr);
    if (err)
        goto fail;
    err = -pthread_attr_setstacksize(&attr, HELPER_STACK_SIZE);
    if (!err)
        err = -pthread_create(&mb->helper, &attr, helper_main, mb);
    pthread_attr_destroy(&attr);
    if (err)
        goto fail;
    mb->started = true;
    *out = mb;
    return 0;
fail:
    md5_behind_free(mb);
    return err;
}

/* Queues block 'tail'. */
static void push(struct md5_behind *mb)
{
    bool wake;

    pthread_mutex_lock(&mb->lock);
    mb->lens[mb->tail] = mb->fill;
    mb->queued++;
    wake = mb->helper_waits && helper_has_work(mb);
    if (wake)
        mb->helper_waits = false; /* one signal is enough */
    pthread_mutex_unlock(&mb->lock);
    if (wake)
        pthread_cond_signal(&mb->wake);
    mb->tail = (mb->tail + 1) % mb->n;
    mb->fill = 0;
}

/* Until at most 'max' blocks are queued: hashes the next one here when no
 * one is hashing, else sleeps until the helper has brought the queue down
 * to 'max'. */
static void drain_locked(struct md5_behind *mb, unsigned int max)
{
    while (mb->queued > max) {
        if (!mb->busy) {
            hash_head(mb);
            continue;
        }
        mb->producer_wants = max;
        mb->producer_waits = true;
        pthread_cond_wait(&mb->done, &mb->lock);
    }
}

/* Block 'tail' is the producer's again once fewer than n are queued;
 * when none is free, waits until half are (or makes one). */
static void wait_free_block(struct md5_behind *mb)
{
    pthread_mutex_lock(&mb->lock);
    if (mb->queued == mb->n) {
        if (!mb->busy)
            hash_head(mb); /* the helper is not at it: one block here */
        else
            drain_locked(mb, mb->n / 2);
    }
    pthread_mutex_unlock(&mb->lock);
}

void md5_behind_update(struct md5_behind *mb, const void *buf, size_t len)
{
    const char *p = buf;

    assert(!mb->finished);
    while (len) {
        size_t k = mb->size - mb->fill;

        if (!mb->fill)
            wait_free_block(mb);
        if (k > len)
            k = len;
        memcpy(block(mb, mb->tail) + mb->fill, p, k);
        mb->fill += k;
        p += k;
        len -= k;
        if (mb->fill == mb->size)
            push(mb);
    }
}

void md5_behind_final(struct md5_behind *mb, char hex[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    assert(!mb->finished);
    mb->finished = true;
    if (mb->fill)
        push(mb);
    pthread_mutex_lock(&mb->lock);
    mb->flush = true;
    drain_locked(mb, 0);
    pthread_mutex_unlock(&mb->lock);
    EVP_DigestFinal_ex(mb->ctx, d, &n);
    hash_path_hex(d, hex);
}

void md5_behind_free(struct md5_behind *mb)
{
    if (!mb)
        return;
    if (mb->started) {
        pthread_mutex_lock(&mb->lock);
        mb->stop = true;
        pthread_cond_signal(&mb->wake);
        pthread_mutex_unlock(&mb->lock);
        pthread_join(mb->helper, NULL);
    }
    pthread_cond_destroy(&mb->done);
    pthread_cond_destroy(&mb->wake);
    pthread_mutex_destroy(&mb->lock);
    if (mb->mem)
        munmap(mb->mem, mb->size * mb->n);
    EVP_MD_CTX_free(mb->ctx);
    free(mb);
}
