#!/usr/bin/python3
# Prints the cases[] table of tests/unit/proxy/test_mimetypes.c: object
# names and the Content-Type Swift 2.30's proxy gives them when uploaded
# without one, i.e. Python's
#   mimetypes.guess_type(req.path_info)[0] or 'application/octet-stream'
# on this machine (Debian's /usr/bin/python3 with /etc/mime.types from the
# media-types package). Regenerate after either changes:
#   /usr/bin/python3 tests/unit/data/proxy/make_mimetypes_cases.py
# and paste the output over the table (then clang-format it).
# With --builtin it prints instead the builtin[] table of proxy/mimetypes.c:
# Python's own types_map, which it loads before /etc/mime.types.
#
# Swift guesses from the whole path, "/v1/AUTH_test/c/<name>", so a name
# never starts a URL scheme ("data:...") as a bare guess_type(name) would;
# the script checks that the two agree for every name below but those with
# a ':', where the path's answer is the one kept.
import json
import mimetypes
import sys

NAMES = [
    # common extensions
    'a.txt', 'index.html', 'page.htm', 'style.css', 'data.csv', 'app.js',
    'doc.json', 'feed.xml', 'paper.pdf', 'photo.jpg', 'photo.jpeg',
    'logo.png', 'anim.gif', 'icon.svg', 'movie.mp4', 'song.mp3',
    'script.py', 'main.c', 'main.h', 'run.sh', 'disk.iso', 'disk.qcow2',
    'archive.zip', 'archive.tar', 'notes.md', 'book.epub', 'sheet.xlsx',
    'font.woff2', 'clip.webm', 'pic.webp', 'mod.wasm', 'x.mjs',
    # in Python's built-in table only, not in /etc/mime.types
    'x.wiz', 'page.mht', 'clip.3gp', 'run.ksh', 'data.h5',
    # case: types are looked up in lower case
    'PHOTO.JPG', 'Page.HTML', 'a.Txt',
    # case: mime.types keys with capitals are never matched as written
    'x.ELN', 'x.eln', 'x.teiCorpus', 'x.AMR',
    # compression suffixes are encodings, case-sensitive
    'a.tar.gz', 'a.tar.bz2', 'a.tar.xz', 'a.txt.Z', 'a.txt.z',
    'a.tar.GZ', 'a.json.br', 'x.gz', '.gz', 'a.gz.gz', 'a.gz.tar',
    # suffix_map, matched in lower case
    'a.tgz', 'a.TGZ', 'a.svgz', 'a.taz', 'a.tz', 'a.tbz2', 'a.txz',
    # no extension, dotfiles, leading dots
    'README', 'Makefile', '.bashrc', '.txt', '..txt', '...', '..tgz',
    '.tar.gz', '..tar.gz', '.a.txt',
    # directories: only the last segment counts
    'a/b.c/d', 'a.txt/b', 'a/b/c.pdf', 'dir/.hidden', 'a/b/', 'a//b.png',
    # trailing and multiple dots, odd extensions
    'x.', 'x..', 'a.b.c.txt', 'v1.2.3', 'photo.jpg.', 'a. txt', 'a.tx t',
    # ':' would be a URL scheme to guess_type(name)
    'data:text/plain,hi', 'x:.txt', 'a:b.txt',
    # UTF-8 names
    'r\u00e9sum\u00e9.pdf', '\u65e5\u672c.html',
]


def swift_type(name):
    return mimetypes.guess_type('/v1/AUTH_test/c/' + name)[0] or \
        'application/octet-stream'


def print_builtin():
    for ext, type_ in mimetypes._types_map_default.items():
        print('    {"%s", "%s"},' % (ext, type_))


def print_cases():
    for name in NAMES:
        print_case(name)


def print_case(name):
    want = swift_type(name)
    bare = mimetypes.guess_type(name)[0] or 'application/octet-stream'
    if ':' not in name:
        assert bare == want, (name, bare, want)
    note = '' if bare == want else ' /* guess_type(name): %s */' % bare
    # json.dumps escapes as C does for these names; UTF-8 stays as bytes
    print('    {%s, "%s"},%s' % (json.dumps(name, ensure_ascii=False), want,
                                 note))


if __name__ == '__main__':
    if sys.argv[1:] == ['--builtin']:
        print_builtin()
    else:
        print_cases()
