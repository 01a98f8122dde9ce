/*
 * mimetypes.c - see mimetypes.h. As Python 3.11's mimetypes: the
 * extension is what posixpath.splitext() gives (a leading dot starts
 * none); a few suffixes stand for two ('.tgz' is '.tar.gz'); compression
 * suffixes ('.gz', '.bz2', ...) are encodings, not types, and are
 * skipped; the rest is looked up in lower case. Entries of
 * /etc/mime.types override the built-in ones (Python reads the file after
 * its own table). Swift also reads <swift_dir>/mime.types; we do not.
 */
#include "proxy/mimetypes.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIME_TYPES_FILE "/etc/mime.types"
#define MAX_TYPES 4096
#define EXT_MAX 255 /* bytes of an extension, the dot included */

struct ext_type {
    char *ext; /* with the dot: ".txt" */
    char *type;
};

static struct ext_type table[MAX_TYPES];
static size_t n_table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Python 3.11's built-in types_map (mimetypes._types_map_default, strict),
 * which Python loads before the file: /etc/mime.types lacks a few of them
 * ('.wiz', '.mht', '.3gp', '.ksh', ...). Printed by
 * tests/unit/data/proxy/make_mimetypes_cases.py --builtin. */
static const char *const builtin[][2] = {
    {".js", "application/javascript"},
    {".mjs", "application/javascript"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".doc", "application/msword"},
    {".dot", "application/msword"},
    {".wiz", "application/msword"},
    {".nq", "application/n-quads"},
    {".nt", "application/n-triples"},
    {".bin", "application/octet-stream"},
    {".a", "application/octet-stream"},
    {".dll", "application/octet-stream"},
    {".exe", "application/octet-stream"},
    {".o", "application/octet-stream"},
    {".obj", "application/octet-stream"},
    {".so", "application/octet-stream"},
    {".oda", "application/oda"},
    {".pdf", "application/pdf"},
    {".p7c", "application/pkcs7-mime"},
    {".ps", "application/postscript"},
    {".ai", "application/postscript"},
    {".eps", "application/postscript"},
    {".trig", "application/trig"},
    {".m3u", "application/vnd.apple.mpegurl"},
    {".m3u8", "application/vnd.apple.mpegurl"},
    {".xls", "application/vnd.ms-excel"},
    {".xlb", "application/vnd.ms-excel"},
    {".ppt", "application/vnd.ms-powerpoint"},
    {".pot", "application/vnd.ms-powerpoint"},
    {".ppa", "application/vnd.ms-powerpoint"},
    {".pps", "application/vnd.ms-powerpoint"},
    {".pwz", "application/vnd.ms-powerpoint"},
    {".wasm", "application/wasm"},
    {".bcpio", "application/x-bcpio"},
    {".cpio", "application/x-cpio"},
    {".csh", "application/x-csh"},
    {".dvi", "application/x-dvi"},
    {".gtar", "application/x-gtar"},
    {".hdf", "application/x-hdf"},
    {".h5", "application/x-hdf5"},
    {".latex", "application/x-latex"},
    {".mif", "application/x-mif"},
    {".cdf", "application/x-netcdf"},
    {".nc", "application/x-netcdf"},
    {".p12", "application/x-pkcs12"},
    {".pfx", "application/x-pkcs12"},
    {".ram", "application/x-pn-realaudio"},
    {".pyc", "application/x-python-code"},
    {".pyo", "application/x-python-code"},
    {".sh", "application/x-sh"},
    {".shar", "application/x-shar"},
    {".swf", "application/x-shockwave-flash"},
    {".sv4cpio", "application/x-sv4cpio"},
    {".sv4crc", "application/x-sv4crc"},
    {".tar", "application/x-tar"},
    {".tcl", "application/x-tcl"},
    {".tex", "application/x-tex"},
    {".texi", "application/x-texinfo"},
    {".texinfo", "application/x-texinfo"},
    {".roff", "application/x-troff"},
    {".t", "application/x-troff"},
    {".tr", "application/x-troff"},
    {".man", "application/x-troff-man"},
    {".me", "application/x-troff-me"},
    {".ms", "application/x-troff-ms"},
    {".ustar", "application/x-ustar"},
    {".src", "application/x-wais-source"},
    {".xsl", "application/xml"},
    {".rdf", "application/xml"},
    {".wsdl", "application/xml"},
    {".xpdl", "application/xml"},
    {".zip", "application/zip"},
    {".3gp", "audio/3gpp"},
    {".3gpp", "audio/3gpp"},
    {".3g2", "audio/3gpp2"},
    {".3gpp2", "audio/3gpp2"},
    {".aac", "audio/aac"},
    {".adts", "audio/aac"},
    {".loas", "audio/aac"},
    {".ass", "audio/aac"},
    {".au", "audio/basic"},
    {".snd", "audio/basic"},
    {".mp3", "audio/mpeg"},
    {".mp2", "audio/mpeg"},
    {".opus", "audio/opus"},
    {".aif", "audio/x-aiff"},
    {".aifc", "audio/x-aiff"},
    {".aiff", "audio/x-aiff"},
    {".ra", "audio/x-pn-realaudio"},
    {".wav", "audio/x-wav"},
    {".avif", "image/avif"},
    {".bmp", "image/bmp"},
    {".gif", "image/gif"},
    {".ief", "image/ief"},
    {".jpg", "image/jpeg"},
    {".jpe", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".heic", "image/heic"},
    {".heif", "image/heif"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".tiff", "image/tiff"},
    {".tif", "image/tiff"},
    {".ico", "image/vnd.microsoft.icon"},
    {".ras", "image/x-cmu-raster"},
    {".pnm", "image/x-portable-anymap"},
    {".pbm", "image/x-portable-bitmap"},
    {".pgm", "image/x-portable-graymap"},
    {".ppm", "image/x-portable-pixmap"},
    {".rgb", "image/x-rgb"},
    {".xbm", "image/x-xbitmap"},
    {".xpm", "image/x-xpixmap"},
    {".xwd", "image/x-xwindowdump"},
    {".eml", "message/rfc822"},
    {".mht", "message/rfc822"},
    {".mhtml", "message/rfc822"},
    {".nws", "message/rfc822"},
    {".css", "text/css"},
    {".csv", "text/csv"},
    {".html", "text/html"},
    {".htm", "text/html"},
    {".n3", "text/n3"},
    {".txt", "text/plain"},
    {".bat", "text/plain"},
    {".c", "text/plain"},
    {".h", "text/plain"},
    {".ksh", "text/plain"},
    {".pl", "text/plain"},
    {".srt", "text/plain"},
    {".rtx", "text/richtext"},
    {".tsv", "text/tab-separated-values"},
    {".vtt", "text/vtt"},
    {".py", "text/x-python"},
    {".etx", "text/x-setext"},
    {".sgm", "text/x-sgml"},
    {".sgml", "text/x-sgml"},
    {".vcf", "text/x-vcard"},
    {".xml", "text/xml"},
    {".mp4", "video/mp4"},
    {".mpeg", "video/mpeg"},
    {".m1v", "video/mpeg"},
    {".mpa", "video/mpeg"},
    {".mpe", "video/mpeg"},
    {".mpg", "video/mpeg"},
    {".mov", "video/quicktime"},
    {".qt", "video/quicktime"},
    {".webm", "video/webm"},
    {".avi", "video/x-msvideo"},
    {".movie", "video/x-sgi-movie"},
};

/* Compression suffixes: encodings, matched case-sensitively as Python. */
static const char *const encodings[] = {".gz", ".Z",  ".bz2",
                                        ".xz", ".br", NULL};
/* Python's suffix_map, matched in lower case: '.tgz' is '.tar.gz'. Each
 * value ends in an encoding, so the type is that of its first part. */
static const char *const suffix_map[][2] = {
    {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"},   {".taz", ".tar.gz"},
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

/* One line of a mime.types file, as Python's MimeTypes.readfp(): words
 * split on white space, a word starting with '#' ends the line, the
 * first word is the type and the others its extensions. */
static void read_line(char *line)
{
    char *save = NULL, *type, *ext;
    char dotted[EXT_MAX + 1];

    type = strtok_r(line, " \t\r\n\v\f", &save);
    if (!type || type[0] == '#')
        return;
    while ((ext = strtok_r(NULL, " \t\r\n\v\f", &save)) && ext[0] != '#') {
        /* longer than any extension looked up: no use storing it */
        if (strlen(ext) < EXT_MAX)
            put(strcat(strcpy(dotted, "."), ext), type);
    }
}

static void load(void)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *f;

    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        put(builtin[i][0], builtin[i][1]);
    f = fopen(MIME_TYPES_FILE, "re");
    if (!f)
        return;
    while (getline(&line, &cap, f) != -1)
        read_line(line);
    free(line);
    fclose(f);
}

/* The type of extension [ext, end) ("" when empty), looked up in lower
 * case only, as Python 3.11: keys with capitals in mime.types ('.ELN')
 * are never matched. */
static const char *lookup(const char *ext, const char *end)
{
    char lower[EXT_MAX + 1];
    size_t len = (size_t)(end - ext);

    if (len == 0 || len > EXT_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)tolower((unsigned char)ext[i]);
    lower[len] = '\0';
    for (size_t i = 0; i < n_table; i++)
        if (!strcmp(table[i].ext, lower))
            return table[i].type;
    return NULL;
}

/* Python's posixpath.splitext() of the base name [base, end): where the
 * extension starts (its last dot), or 'end' when there is none. Leading
 * dots start no extension: '.bashrc' and '..txt' have none. */
static const char *splitext(const char *base, const char *end)
{
    const char *dot = end;

    while (dot > base && dot[-1] != '.')
        dot--;
    if (dot == base)
        return end;
    dot--;
    for (const char *p = base; p < dot; p++)
        if (*p != '.')
            return dot;
    return end;
}

static bool is_ext(const char *ext, const char *end, const char *want,
                   bool nocase)
{
    size_t len = (size_t)(end - ext);

    if (strlen(want) != len)
        return false;
    return nocase ? !strncasecmp(ext, want, len) : !memcmp(ext, want, len);
}

/* Python's MimeTypes.guess_type() of "/v1/a/c/<name>" (Swift guesses from
 * the request path, so no URL scheme is ever seen): split off the
 * extension, expand a suffix_map one, drop an encoding, look the rest up.
 * Works on the name in place, so no length is too long. */
const char *mimetype_guess(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *end = base + strlen(base);
    const char *ext = splitext(base, end);
    const char *t;

    pthread_once(&once, load);
    for (size_t i = 0; i < sizeof(suffix_map) / sizeof(suffix_map[0]); i++) {
        if (is_ext(ext, end, suffix_map[i][0], true)) {
            /* base + ".tar.gz": the extension is ".gz", an encoding,
             * and then ".tar", after a base that has a non-dot */
            const char *sub = suffix_map[i][1];

            t = lookup(sub, strchr(sub + 1, '.'));
            return t ? t : "application/octet-stream";
        }
    }
    for (size_t i = 0; encodings[i]; i++) {
        if (is_ext(ext, end, encodings[i], false)) {
            end = ext;
            ext = splitext(base, end);
            break;
        }
    }
    t = lookup(ext, end);
    return t ? t : "application/octet-stream";
}
