/* Description: an auditor pass over objects written with diskfile: good
 * ones pass, bit rot and a size mismatch are quarantined with their suffix
 * marked, recon is written, --devices limits the pass. */
#include "replicator/auditor.h"

#include "common/recon.h"
#include "storage/diskfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

struct fixture {
    char dir[64];
    char recon[128];
    struct hash_path_conf hc;
    struct diskfile_conf dconf;
    struct auditor_conf c;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[128];

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/kura-auditor-XXXXXX");
    if (!mkdtemp(f->dir) || hash_path_conf_set(&f->hc, "", "changeme"))
        return -1;
    snprintf(path, sizeof(path), "%s/sda", f->dir);
    mkdir(path, 0755);
    snprintf(f->recon, sizeof(f->recon), "%s/recon", f->dir);
    f->dconf = (struct diskfile_conf){.devices = f->dir, .hash_conf = &f->hc};
    f->c =
        (struct auditor_conf){.devices = f->dir, .recon_cache_path = f->recon};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd))
        return -1;
    hash_path_conf_release(&f->hc);
    free(f);
    return 0;
}

/* Writes object 'name' (body 'body') in partition 'part'; returns the
 * path of its .data in 'data'. */
static void put(struct fixture *f, uint32_t part, const char *name,
                const char *body, char *data)
{
    struct diskfile *df;
    struct diskfile_writer *w;
    static int n;
    char ts[32];

    snprintf(ts, sizeof(ts), "17000000%02d.00000", ++n);
    assert_int_equal(diskfile_new(&f->dconf, "sda", part, "a", "c", name, &df),
                     0);
    assert_int_equal(diskfile_writer_new(df, (int64_t)strlen(body), &w), 0);
    assert_int_equal(diskfile_writer_write(w, body, strlen(body)), 0);
    assert_int_equal(diskfile_writer_commit(w, NULL, ts, NULL), 0);
    diskfile_writer_free(w);
    snprintf(data, PATH_MAX, "%s/%s.data", diskfile_hash_dir(df), ts);
    diskfile_free(df);
}

static bool invalid_has(const char *data, const char *needle)
{
    char path[PATH_MAX], buf[256] = "";
    char *end = strrchr(strcpy(path, data), '/');
    FILE *fp;

    *end = '\0';                /* hash dir */
    *strrchr(path, '/') = '\0'; /* suffix dir */
    end = strrchr(path, '/');   /* part dir */
    strcpy(end, "/hashes.invalid");
    fp = fopen(path, "r");
    if (!fp)
        return false;
    buf[fread(buf, 1, sizeof(buf) - 1, fp)] = '\0';
    fclose(fp);
    return strstr(buf, needle) != NULL;
}

static void test_pass_quarantines_bad_objects(void **state)
{
    struct fixture *f = *state;
    char good[PATH_MAX], rot[PATH_MAX], cut[PATH_MAX], path[256];
    struct auditor_stats st;
    struct auditor *a;
    json_t *doc, *stats;
    int fd;

    put(f, 1, "good", "the good object", good);
    put(f, 2, "rot", "the rotten object", rot);
    put(f, 3, "cut", "the truncated object", cut);
    fd = open(rot, O_WRONLY);
    assert_int_equal(pwrite(fd, "T", 1, 0), 1);
    close(fd);
    assert_int_equal(truncate(cut, 3), 0);
    /* the writes' own marks: start clean */
    for (uint32_t p = 1; p <= 3; p++) {
        snprintf(path, sizeof(path), "%s/sda/objects/%u/hashes.invalid", f->dir,
                 p);
        unlink(path);
    }

    assert_int_equal(auditor_new(&f->c, &f->hc, NULL, &a), 0);
    auditor_pass(a, &st);
    assert_int_equal(st.passes, 1);
    assert_int_equal(st.quarantined, 2);
    assert_int_equal(st.errors, 0);
    assert_true(st.bytes_processed >= strlen("the good object"));
    assert_int_equal(access(good, F_OK), 0);
    assert_int_equal(access(rot, F_OK), -1);
    assert_int_equal(access(cut, F_OK), -1);
    /* suffix = last 3 hex of the hash dir */
    path[0] = '\0';
    strncat(path, strrchr(rot, '/') - 3, 3);
    assert_true(invalid_has(rot, path));
    path[0] = '\0';
    strncat(path, strrchr(cut, '/') - 3, 3);
    assert_true(invalid_has(cut, path));

    snprintf(path, sizeof(path), "%s/object.recon", f->recon);
    doc = recon_read(path);
    assert_non_null(doc);
    stats = json_object_get(doc, "object_auditor_stats_ALL");
    assert_int_equal(json_integer_value(json_object_get(stats, "passes")), 1);
    assert_int_equal(json_integer_value(json_object_get(stats, "quarantined")),
                     2);
    assert_non_null(json_object_get(doc, "object_auditor_last"));
    json_decref(doc);

    /* again: nothing more to find */
    auditor_pass(a, &st);
    assert_int_equal(st.passes, 1);
    assert_int_equal(st.quarantined, 0);
    auditor_free(a);
}

static void test_only_named_devices(void **state)
{
    struct fixture *f = *state;
    char data[PATH_MAX];
    struct auditor_stats st;
    struct auditor *a;

    put(f, 1, "o", "body", data);
    /* a missing device is skipped, not an error */
    assert_int_equal(auditor_new(&f->c, &f->hc, "sdz,,sda", &a), 0);
    auditor_pass(a, &st);
    assert_int_equal(st.passes, 1);
    assert_int_equal(st.errors, 0);
    auditor_free(a);
    assert_int_equal(auditor_new(&f->c, &f->hc, "sdz", &a), 0);
    auditor_pass(a, &st);
    assert_int_equal(st.passes, 0);
    auditor_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pass_quarantines_bad_objects,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_named_devices, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
