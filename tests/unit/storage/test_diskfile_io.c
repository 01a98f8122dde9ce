/* Description: diskfile_io_fsync_batch(): every fd is synced, errors come
 * back as the first failing fd's in array order, batches larger than the
 * ring work, a swapped table sees the fds one by one in order, and many
 * threads (each with its own ring, freed when it exits) can batch at
 * once. Runs on /tmp (ext4 here). */
#include "storage/diskfile_io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define N_FILES 20

static char root[] = "/tmp/kura-diskfile-io-XXXXXX";
static int files[N_FILES]; /* regular files and directories, alternating */

static int make_root(void **state)
{
    char path[256];

    (void)state;
    strcpy(root, "/tmp/kura-diskfile-io-XXXXXX"); /* run once per group */
    if (!mkdtemp(root))
        return -1;
    for (int i = 0; i < N_FILES; i++) {
        snprintf(path, sizeof(path), "%s/%d", root, i);
        if (i % 2) {
            if (mkdir(path, 0755) == -1)
                return -1;
            files[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
            files[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (files[i] >= 0 && write(files[i], "x", 1) != 1)
                return -1;
        }
        if (files[i] == -1)
            return -1;
    }
    return 0;
}

static int remove_root(void **state)
{
    char cmd[256];

    (void)state;
    for (int i = 0; i < N_FILES; i++)
        close(files[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

static void test_batch_syncs_files_and_directories(void **state)
{
    (void)state;
    assert_int_equal(diskfile_io_fsync_batch(files, 0), 0);
    assert_int_equal(diskfile_io_fsync_batch(files, 1), 0);
    assert_int_equal(diskfile_io_fsync_batch(files, 2), 0);
    assert_int_equal(diskfile_io_fsync_batch(files, 5), 0);
    /* more than one ring's worth */
    assert_int_equal(diskfile_io_fsync_batch(files, N_FILES), 0);
}

static void test_batch_reports_the_first_failure(void **state)
{
    int pipefd[2], closed, fds[5];

    (void)state;
    assert_int_equal(pipe(pipefd), 0);
    closed = dup(files[0]);
    close(closed);
    /* fsync of a pipe is EINVAL, of a closed fd EBADF */
    fds[0] = files[0];
    fds[1] = files[1];
    fds[2] = pipefd[0];
    fds[3] = closed;
    fds[4] = files[2];
    assert_int_equal(diskfile_io_fsync_batch(fds, 5), -EINVAL);
    fds[2] = files[3];
    assert_int_equal(diskfile_io_fsync_batch(fds, 5), -EBADF);
    /* the calling thread's own fd (the first) counts first */
    fds[0] = pipefd[1];
    assert_int_equal(diskfile_io_fsync_batch(fds, 5), -EINVAL);
    /* and the thread's ring still works afterwards */
    assert_int_equal(diskfile_io_fsync_batch(files, 5), 0);
    close(pipefd[0]);
    close(pipefd[1]);
}

static int seen[2 * N_FILES];
static int n_seen;

static int recording_fsync(int fd)
{
    if (n_seen < 2 * N_FILES)
        seen[n_seen++] = fd;
    if (fd == files[2]) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

/* Error injection: a swapped table gets every fd, in order, even after a
 * failure. */
static void test_swapped_table_sees_each_fd_in_order(void **state)
{
    struct diskfile_io io = diskfile_io_sys;

    (void)state;
    io.fsync = recording_fsync;
    n_seen = 0;
    diskfile_io = &io;
    assert_int_equal(diskfile_io_fsync_batch(files, N_FILES), -EIO);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(n_seen, N_FILES);
    for (int i = 0; i < N_FILES; i++)
        assert_int_equal(seen[i], files[i]);
}

static void *batcher(void *arg)
{
    intptr_t failures = 0;

    (void)arg;
    for (int i = 0; i < 50; i++)
        failures += diskfile_io_fsync_batch(files + i % 4, 5) != 0;
    return (void *)failures;
}

/* Each thread has its own ring; under ASan a ring not freed at thread
 * exit shows up as a leak. */
static void test_threads_batch_at_once(void **state)
{
    pthread_t t[6];
    void *failures;

    (void)state;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 6; i++)
            assert_int_equal(pthread_create(&t[i], NULL, batcher, NULL), 0);
        for (int i = 0; i < 6; i++) {
            assert_int_equal(pthread_join(t[i], &failures), 0);
            assert_int_equal((intptr_t)failures, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_syncs_files_and_directories),
        cmocka_unit_test(test_batch_reports_the_first_failure),
        cmocka_unit_test(test_swapped_table_sees_each_fd_in_order),
        cmocka_unit_test(test_threads_batch_at_once),
    };
    int failed;

    /* both ways a batch can go: through io_uring, and one by one */
    diskfile_io_set_fsync_io_uring(true);
    failed = cmocka_run_group_tests(tests, make_root, remove_root);
    diskfile_io_set_fsync_io_uring(false);
    return failed + cmocka_run_group_tests(tests, make_root, remove_root);
}
