#!/usr/bin/python3
"""Writes listing_cases.json: the objects, container reports and queries
that make_swift_listings.py runs through Swift 2.30 and
test_listing_format.c through Kura. Edit the lists below, then run this
and make_swift_listings.py."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

objs = []
def ts(i): return '%016.05f' % (1700000000 + i * 1.23457)
names = ['a', 'a/', 'a/b', 'a/b/c', 'a/b/d', 'a/c', 'a-b', 'a0', 'b', 'b/x', 'ba',
         'photos/', 'photos/2024/jan.jpg', 'photos/2024/feb.jpg', 'photos/2025/x',
         'photos/me.jpg', 'photosx', 'p', 'q&r<s>"t\'u', 'tab\tnl\nx', 'ctl\x01\x7f',
         'caf\u00e9/cr\u00e8me', 'caf\u00e9/\u00e9', 'caf\u00e9\u00e9', '\u65e5\u672c/\u8a9e',
         'emoji\U0001F600/x', 'emoji\U0001F600y', 'z\u00ff', 'z\u00fe|a', 'z\u00fe|b',
         'dir0', 'dir/sub/x', 'dir/y', 'dir1', 'x' * 1024, 'zz//double', 'zz/', 'zz/a']
i = 0
for n in names:
    i += 1
    objs.append({'name': n, 'created_at': ts(i), 'size': i * 7,
                 'content_type': 'text/plain', 'etag': '%032x' % (i * 7919)})
# special content types and updates
extra = [
    {'name': 'ct1', 'content_type': 'text/plain; charset=utf-8'},
    {'name': 'ct2', 'content_type': 'application/x;swift_bytes=12345'},
    {'name': 'ct3', 'content_type': 'a/b; x="q;r" ; swift_bytes=3; y=1'},
    {'name': 'ct4', 'content_type': 'a/b ; k = v;;junk'},
    {'name': 'ct5', 'content_type': 'a/b;swift_bytes=abc'},
    {'name': 'ct6', 'content_type': 'x/y;swift_bytes=1_000'},
    {'name': 'ct7', 'content_type': 'x/y&<z>"'},
]
for e in extra:
    i += 1
    objs.append(dict(e, created_at=ts(i), size=i, etag='e%d' % i))
# overwrite, delete, post-style updates, older update ignored
i += 1; objs.append({'name': 'a/c', 'created_at': ts(i), 'size': 999, 'content_type': 'new/type', 'etag': 'new'})
i += 1; objs.append({'name': 'b', 'created_at': ts(i), 'size': 0, 'content_type': 'application/deleted', 'etag': 'noetag', 'deleted': 1})
i += 1; objs.append({'name': 'a0', 'created_at': ts(1), 'size': 5, 'content_type': 'old/type', 'etag': 'old'})
i += 1; objs.append({'name': 'p', 'created_at': ts(17), 'size': 17 * 7, 'content_type': 'post/type', 'etag': '%032x' % (17 * 7919), 'ctype_timestamp': ts(i), 'meta_timestamp': ts(i + 1)})
i += 2; objs.append({'name': 'dir/deleted/x', 'created_at': ts(i), 'size': 0, 'content_type': 'application/deleted', 'etag': 'noetag', 'deleted': 1})
i += 1; objs.append({'name': '\x00reserved', 'created_at': ts(i), 'size': 1, 'content_type': 'r/r', 'etag': 'r'})
conts = []
for j, n in enumerate(['c1', 'c2', 'dir/a', 'dir/b', 'dir2', 'caf\u00e9', 'q&<>"', 'gone', '\x00res']):
    conts.append({'name': n, 'put_timestamp': ts(j + 1), 'delete_timestamp': '0', 'object_count': j, 'bytes_used': j * 100})
conts.append({'name': 'gone', 'put_timestamp': ts(1), 'delete_timestamp': ts(50), 'object_count': 0, 'bytes_used': 0})
conts.append({'name': 'c1', 'put_timestamp': ts(0), 'delete_timestamp': '0', 'object_count': 42, 'bytes_used': 4200})
queries = []
cparams = [{}, {'limit': 5}, {'limit': 0}, {'prefix': 'a'}, {'prefix': 'a/'}, {'delimiter': '/'},
           {'prefix': 'photos/', 'delimiter': '/'}, {'prefix': 'photos/2024/', 'delimiter': '/'},
           {'marker': 'a/b'}, {'end_marker': 'b'}, {'marker': 'a', 'end_marker': 'a/c'},
           {'delimiter': '/', 'marker': 'a/'}, {'delimiter': '/', 'marker': 'dir/'},
           {'reverse': True}, {'reverse': True, 'limit': 3}, {'reverse': True, 'delimiter': '/'},
           {'reverse': True, 'marker': 'photos/me.jpg', 'end_marker': 'a/b'},
           {'reverse': True, 'prefix': 'photos/', 'delimiter': '/'},
           {'reverse': True, 'delimiter': '/', 'end_marker': 'a/'},
           {'path': ''}, {'path': 'photos'}, {'path': 'photos/'}, {'path': 'a//'}, {'path': 'dir', 'reverse': True},
           {'delimiter': '|', 'prefix': 'z'}, {'delimiter': '\u00e9'}, {'delimiter': '\u00fe'},
           {'delimiter': 'b', 'prefix': 'a'}, {'delimiter': '/', 'limit': 4},
           {'delimiter': '/', 'limit': 1, 'marker': 'a'}, {'prefix': 'caf\u00e9'},
           {'allow_reserved': True, 'limit': 3}, {'prefix': 'zz', 'delimiter': '/'},
           {'marker': 'photos/2024', 'prefix': 'photos/', 'delimiter': '/'},
           {'end_marker': 'photos/2024/z', 'prefix': 'photos/', 'delimiter': '/'},
           {'prefix': 'nothing'}, {'prefix': 'ct'}]
for p in cparams:
    for f in ('json', 'xml', 'plain'):
        queries.append({'kind': 'container', 'params': p, 'format': f})
aparams = [{}, {'limit': 2}, {'delimiter': '/'}, {'prefix': 'dir/'}, {'reverse': True},
           {'marker': 'c2'}, {'end_marker': 'dir2'}, {'reverse': True, 'delimiter': '/'},
           {'allow_reserved': True}, {'prefix': 'none'}]
for p in aparams:
    for f in ('json', 'xml', 'plain'):
        queries.append({'kind': 'account', 'params': p, 'format': f})
with open(os.path.join(HERE, 'listing_cases.json'), 'w') as f:
    json.dump({'container': {'account': 'AUTH_test', 'container': 'c&<"x>', 'objects': objs},
               'account': {'account': 'AUTH_t&<"st>', 'containers': conts},
               'queries': queries}, f, indent=1)
print(len(queries))
