/*
 * mimetypes.c - see mimetypes.h. As Python: a few suffixes stand for
 * two ('.tgz' is '.tar.gz'), compression suffixes ('.gz', '.bz2', ...)
 * are encodings, not types, and are skipped; the extension is looked up
 * as written, then in lower case. Entries of /etc/mime.types override
 * the built-in ones (Python reads the file after its own table).
 */
#include "proxy/mimetypes.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIME_TYPES_FILE "/etc/mime.types"
#define MAX_TYPES 4096

struct ext_type {
    char *ext; /* with the dot: ".txt" */
    char *type;
};

static struct ext_type table[MAX_TYPES];
static size_t n_table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Python's types_map, the common part, for machines without the file. */
static const char *const builtin[][2] = {
    {".txt", "text/plain"},      {".html", "text/html"},
    {".htm", "text/html"},       {".css", "text/css"},
    {".csv", "text/csv"},        {".js", "text/javascript"},
    {".json", "application/json"}, {".xml", "text/xml"},
    {".pdf", "application/pdf"}, {".zip", "application/zip"},
    {".tar", "application/x-tar"}, {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},     {".png", "image/png"},
    {".gif", "image/gif"},       {".svg", "image/svg+xml"},
    {".mp4", "video/mp4"},       {".mp3", "audio/mpeg"},
    {".py", "text/x-python"},    {".c", "text/plain"},
    {".h", "text/plain"},        {".sh", "application/x-sh"},
    {".iso", "application/x-iso9660-image"},
    {".qcow2", "application/octet-stream"},
};

static const char *const encodings[] = {".gz", ".Z", ".bz2", ".xz", ".br",
                                        NULL};
static const char *const suffix_map[][2] = {
    {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"}, {".taz", ".tar.gz"},
    {".tz", ".tar.gz"},   {".tbz2", ".tar.bz2"}, {".txz", ".tar.xz"},
};

static void put(const char *ext, const char *type)
{
    for (size_t i = 0; i < n_table; i++) {
        if (!strcmp(table[i].ext, ext)) {
            char *t = strdup(type);

            if (t) {
                free(table[i].type);
                table[i].type = t;
            }
            return;
        }
    }
    if (n_table == MAX_TYPES)
        return;
    table[n_table].ext = strdup(ext);
    table[n_table].type = strdup(type);
    if (table[n_table].ext && table[n_table].type) {
        n_table++;
    } else {
        free(table[n_table].ext);
        free(table[n_table].type);
    }
}

static void load(void)
{
    FILE *f;
    char line[1024];

    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        put(builtin[i][0], builtin[i][1]);
    f = fopen(MIME_TYPES_FILE, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *save = NULL, *type, *ext;

        *strchrnul(line, '#') = '\0';
        type = strtok_r(line, " \t\r\n", &save);
        if (!type)
            continue;
        while ((ext = strtok_r(NULL, " \t\r\n", &save))) {
            char dotted[256];

            snprintf(dotted, sizeof(dotted), ".%s", ext);
            put(dotted, type);
        }
    }
    fclose(f);
}

static const char *find(const char *ext)
{
    for (size_t i = 0; i < n_table; i++)
        if (!strcmp(table[i].ext, ext))
            return table[i].type;
    return NULL;
}

static const char *lookup(const char *ext)
{
    char lower[256];
    const char *t = find(ext);
    size_t i;

    if (t)
        return t;
    for (i = 0; ext[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)ext[i]);
    lower[i] = '\0';
    return find(lower);
}

const char *mimetype_guess(const char *name)
{
    char buf[1024], *ext;
    const char *base = strrchr(name, '/');

    pthread_once(&once, load);
    snprintf(buf, sizeof(buf), "%s", base ? base + 1 : name);
    ext = strrchr(buf, '.');
    if (!ext || ext == buf)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(suffix_map) / sizeof(suffix_map[0]); i++) {
        if (!strcmp(ext, suffix_map[i][0]) &&
            (size_t)(ext - buf) + strlen(suffix_map[i][1]) < sizeof(buf)) {
            strcpy(ext, suffix_map[i][1]);
            ext = strrchr(buf, '.');
            break;
        }
    }
    for (size_t i = 0; encodings[i]; i++) {
        if (!strcmp(ext, encodings[i])) {
            *ext = '\0';
            ext = strrchr(buf, '.');
            if (!ext || ext == buf)
                return "application/octet-stream";
            break;
        }
    }
    {
        const char *t = lookup(ext);

        return t ? t : "application/octet-stream";
    }
}
