#!/usr/bin/python3
"""Random object and container updates applied by Swift 2.30's brokers.

Writes merge_cases.json: a sequence of container object updates (PUTs,
DELETEs, POST-style content-type/metadata updates, out of order, with
swift_bytes) and account container reports (some older than what is
stored), with the rows and stats Swift's ContainerBroker.put_object /
merge_items and AccountBroker.put_container leave. test_contdb.c and
test_acctdb.c replay them and compare.

Run with Debian's python3 (python3-swift): /usr/bin/python3 make_swift_merges.py
"""
import json
import os
import random
import shutil
import sys
import tempfile

from swift.account.backend import AccountBroker
from swift.common.utils import Timestamp, decode_timestamps
from swift.container.backend import ContainerBroker

HERE = os.path.dirname(os.path.abspath(__file__))


def ts(rng):
    return Timestamp(1700000000 + rng.randrange(0, 200) / 4.0).internal


def object_updates(rng):
    names = ['o%d' % i for i in range(12)]
    ctypes = ['text/plain', 'a/b; q=1', 'x/y;swift_bytes=77',
              'x/y; swift_bytes=5 ; z=2', 'image/jpeg']
    ops = []
    for _ in range(400):
        op = {'name': rng.choice(names), 'created_at': ts(rng),
              'size': rng.randrange(0, 1000),
              'content_type': rng.choice(ctypes),
              'etag': '%08x' % rng.randrange(1 << 32), 'deleted': 0}
        kind = rng.random()
        if kind < 0.2:
            op.update(size=0, content_type='application/deleted',
                      etag='noetag', deleted=1)
        elif kind < 0.4:
            op['ctype_timestamp'] = ts(rng)
        elif kind < 0.55:
            op['meta_timestamp'] = ts(rng)
        elif kind < 0.65:
            op['ctype_timestamp'] = ts(rng)
            op['meta_timestamp'] = ts(rng)
        ops.append(op)
    return ops


def container_updates(rng):
    names = ['c%d' % i for i in range(8)]
    ops = []
    for _ in range(200):
        deleted = rng.random() < 0.3
        ops.append({'name': rng.choice(names), 'put_timestamp': ts(rng),
                    'delete_timestamp': ts(rng) if deleted else '0',
                    'object_count': 0 if deleted else rng.randrange(5),
                    'bytes_used': rng.randrange(0, 3) * 100})
    return ops


def main():
    rng = random.Random(20241122)
    tmp = tempfile.mkdtemp()
    try:
        cb = ContainerBroker(os.path.join(tmp, 'c.db'), account='a',
                             container='c')
        cb.initialize(Timestamp(1).internal, 0)
        objs = object_updates(rng)
        for o in objs:
            cb.put_object(o['name'], o['created_at'], o['size'],
                          o['content_type'], o['etag'], deleted=o['deleted'],
                          ctype_timestamp=o.get('ctype_timestamp'),
                          meta_timestamp=o.get('meta_timestamp'))
        rows = []
        for r in cb.get_objects():
            t_data, t_ctype, t_meta = decode_timestamps(r['created_at'])
            rows.append({'name': r['name'], 'created_at': t_data.internal,
                         'ctype_timestamp': t_ctype.internal,
                         'meta_timestamp': t_meta.internal,
                         'size': r['size'],
                         'content_type': r['content_type'],
                         'etag': r['etag'], 'deleted': r['deleted']})
        info = cb.get_info()
        ab = AccountBroker(os.path.join(tmp, 'a.db'), account='a')
        ab.initialize(Timestamp(1).internal)
        conts = container_updates(rng)
        for c in conts:
            ab.put_container(c['name'], c['put_timestamp'],
                             c['delete_timestamp'], c['object_count'],
                             c['bytes_used'], 0)
        ainfo = ab.get_info()  # commits the pending updates first
        crow = []
        with ab.get() as conn:
            for r in conn.execute(
                    'SELECT name, put_timestamp, delete_timestamp, '
                    'object_count, bytes_used, deleted FROM container '
                    'ORDER BY name'):
                crow.append(dict(zip(('name', 'put_timestamp',
                                      'delete_timestamp', 'object_count',
                                      'bytes_used', 'deleted'), r)))
        out = {'objects': objs, 'object_rows': sorted(
                   rows, key=lambda r: r['name']),
               'object_count': info['object_count'],
               'bytes_used': info['bytes_used'],
               'containers': conts, 'container_rows': crow,
               'container_count': ainfo['container_count'],
               'account_object_count': ainfo['object_count'],
               'account_bytes_used': ainfo['bytes_used']}
        with open(os.path.join(HERE, 'merge_cases.json'), 'w') as f:
            json.dump(out, f, indent=1)
        print('objects %d rows %d; containers %d rows %d' % (
            len(objs), len(rows), len(conts), len(crow)))
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
