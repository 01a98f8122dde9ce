/* Description: the Content-Type an object uploaded without one gets, as
 * Swift 2.30's proxy guesses it with Python's mimetypes on Debian
 * (/etc/mime.types over Python's built-in table). */
#include "proxy/mimetypes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define OCTET "application/octet-stream"

/* Name, Python's guess_type("/v1/AUTH_test/c/" + name) on this machine.
 * Printed by /usr/bin/python3 tests/unit/data/proxy/make_mimetypes_cases.py
 * (regenerate it when media-types or Python changes). */
static const struct {
    const char *name;
    const char *type;
} cases[] = {
    {"a.txt", "text/plain"},
    {"index.html", "text/html"},
    {"page.htm", "text/html"},
    {"style.css", "text/css"},
    {"data.csv", "text/csv"},
    {"app.js", "text/javascript"},
    {"doc.json", "application/json"},
    {"feed.xml", "application/xml"},
    {"paper.pdf", "application/pdf"},
    {"photo.jpg", "image/jpeg"},
    {"photo.jpeg", "image/jpeg"},
    {"logo.png", "image/png"},
    {"anim.gif", "image/gif"},
    {"icon.svg", "image/svg+xml"},
    {"movie.mp4", "video/mp4"},
    {"song.mp3", "audio/mpeg"},
    {"script.py", "text/x-python"},
    {"main.c", "text/x-csrc"},
    {"main.h", "text/x-chdr"},
    {"run.sh", "text/x-sh"},
    {"disk.iso", "application/x-iso9660-image"},
    {"disk.qcow2", "application/octet-stream"},
    {"archive.zip", "application/zip"},
    {"archive.tar", "application/x-tar"},
    {"notes.md", "text/markdown"},
    {"book.epub", "application/epub+zip"},
    {"sheet.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"font.woff2", "font/woff2"},
    {"clip.webm", "video/webm"},
    {"pic.webp", "image/webp"},
    {"mod.wasm", "application/wasm"},
    {"x.mjs", "text/javascript"},
    {"x.wiz", "application/msword"},
    {"page.mht", "message/rfc822"},
    {"clip.3gp", "audio/3gpp"},
    {"run.ksh", "text/plain"},
    {"data.h5", "application/x-hdf5"},
    {"PHOTO.JPG", "image/jpeg"},
    {"Page.HTML", "text/html"},
    {"a.Txt", "text/plain"},
    {"x.ELN", "application/octet-stream"},
    {"x.eln", "application/octet-stream"},
    {"x.teiCorpus", "application/octet-stream"},
    {"x.AMR", "audio/AMR"},
    {"a.tar.gz", "application/x-tar"},
    {"a.tar.bz2", "application/x-tar"},
    {"a.tar.xz", "application/x-tar"},
    {"a.txt.Z", "text/plain"},
    {"a.txt.z", "application/octet-stream"},
    {"a.tar.GZ", "application/gzip"},
    {"a.json.br", "application/json"},
    {"x.gz", "application/octet-stream"},
    {".gz", "application/octet-stream"},
    {"a.gz.gz", "application/gzip"},
    {"a.gz.tar", "application/x-tar"},
    {"a.tgz", "application/x-tar"},
    {"a.TGZ", "application/x-tar"},
    {"a.svgz", "image/svg+xml"},
    {"a.taz", "application/x-tar"},
    {"a.tz", "application/x-tar"},
    {"a.tbz2", "application/x-tar"},
    {"a.txz", "application/x-tar"},
    {"README", "application/octet-stream"},
    {"Makefile", "application/octet-stream"},
    {".bashrc", "application/octet-stream"},
    {".txt", "application/octet-stream"},
    {"..txt", "application/octet-stream"},
    {"...", "application/octet-stream"},
    {"..tgz", "application/octet-stream"},
    {".tar.gz", "application/octet-stream"},
    {"..tar.gz", "application/octet-stream"},
    {".a.txt", "text/plain"},
    {"a/b.c/d", "application/octet-stream"},
    {"a.txt/b", "application/octet-stream"},
    {"a/b/c.pdf", "application/pdf"},
    {"dir/.hidden", "application/octet-stream"},
    {"a/b/", "application/octet-stream"},
    {"a//b.png", "image/png"},
    {"x.", "application/octet-stream"},
    {"x..", "application/octet-stream"},
    {"a.b.c.txt", "text/plain"},
    {"v1.2.3", "application/octet-stream"},
    {"photo.jpg.", "application/octet-stream"},
    {"a. txt", "application/octet-stream"},
    {"a.tx t", "application/octet-stream"},
    {"data:text/plain,hi",
     "application/octet-stream"}, /* guess_type(name): text/plain */
    {"x:.txt", "text/plain"}, /* guess_type(name): application/octet-stream */
    {"a:b.txt", "text/plain"},
    {"résumé.pdf", "application/pdf"},
    {"日本.html", "text/html"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Runs first: the table is loaded by whichever thread asks first, so four
 * threads ask at once; all must see the whole table. */
static void *guess_all(void *arg)
{
    const char **got = arg;

    for (size_t i = 0; i < N_CASES; i++)
        got[i] = mimetype_guess(cases[i].name);
    return NULL;
}

static void test_first_use_from_threads(void **state)
{
    static const char *got[4][N_CASES];
    pthread_t t[4];

    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, guess_all, got[i]), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 4; i++)
        for (size_t k = 0; k < N_CASES; k++)
            assert_string_equal(got[i][k], mimetype_guess(cases[k].name));
}

static void test_agrees_with_python(void **state)
{
    int failed = 0;

    (void)state;
    if (access("/etc/mime.types", R_OK)) {
        print_message("no /etc/mime.types: the table is Debian's\n");
        skip();
    }
    for (size_t i = 0; i < N_CASES; i++) {
        const char *got = mimetype_guess(cases[i].name);

        if (strcmp(got, cases[i].type)) {
            print_error("'%s': got '%s', Python says '%s'\n", cases[i].name,
                        got, cases[i].type);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* Names up to Swift's 1024 bytes and past it: the extension is found
 * however long the name (a copy into a fixed buffer would cut it off). */
static void test_long_names(void **state)
{
    size_t lens[] = {1020, 1021, 1022, 1023, 1024, 1025, 5000};
    char *name;

    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];

        name = malloc(n + 1);
        assert_non_null(name);
        memset(name, 'a', n);
        memcpy(name + n - 4, ".pdf", 5);
        assert_string_equal(mimetype_guess(name), "application/pdf");
        memcpy(name + n - 7, ".tar.gz", 8);
        assert_string_equal(mimetype_guess(name), "application/x-tar");
        name[n - 8] = '/'; /* ".../.tar.gz": a dotfile, then an encoding */
        assert_string_equal(mimetype_guess(name), OCTET);
        free(name);
    }
    /* an extension longer than any in the table */
    name = malloc(2002);
    assert_non_null(name);
    name[0] = 'x';
    memset(name + 1, 't', 2000);
    name[1] = '.';
    name[2001] = '\0';
    assert_string_equal(mimetype_guess(name), OCTET);
    free(name);
}

static void test_empty_and_slashes(void **state)
{
    (void)state;
    assert_string_equal(mimetype_guess(""), OCTET);
    assert_string_equal(mimetype_guess("/"), OCTET);
    assert_string_equal(mimetype_guess("."), OCTET);
    assert_string_equal(mimetype_guess("./x"), OCTET);
    assert_string_equal(mimetype_guess("a.txt/"), OCTET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_from_threads),
        cmocka_unit_test(test_agrees_with_python),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_empty_and_slashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
