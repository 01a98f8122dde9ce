#!/usr/bin/python3
"""Random container listings from Swift 2.30, for test_listing_format.c.

Names and query parameters are drawn from a small alphabet (including a
two-byte character and the delimiters) so that prefixes, markers,
end_markers, delimiters, reverse, limit and path meet in every
combination. Writes listing_random.json: the objects and, per query, the
parameters and the plain-text body Swift's container server would send.

Run with Debian's python3 (python3-swift):
/usr/bin/python3 make_swift_random_listings.py
"""
import json
import os
import random
import shutil
import sys
import tempfile

from swift.common.middleware import listing_formats
from swift.common.utils import Timestamp
from swift.container.backend import ContainerBroker
from swift.container.server import ContainerController

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHABET = ['a', 'b', '/', '-', '\u00e9', '0', '//']
DELIMITERS = ['/', '-', '\u00e9', 'a', '0']


def rand_str(rng, lo, hi):
    return ''.join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def main():
    rng = random.Random(4242)
    tmp = tempfile.mkdtemp()
    try:
        cb = ContainerBroker(os.path.join(tmp, 'c.db'), account='a',
                             container='c')
        cb.initialize(Timestamp(1).internal, 0)
        objects = []
        names = sorted(set(rand_str(rng, 1, 6) for _ in range(400)))
        for i, name in enumerate(names):
            o = {'name': name, 'created_at': Timestamp(1000 + i).internal,
                 'size': i, 'content_type': 't/t', 'etag': 'e%d' % i,
                 'deleted': 1 if rng.random() < 0.1 else 0}
            objects.append(o)
            cb.put_object(o['name'], o['created_at'], o['size'],
                          o['content_type'], o['etag'], deleted=o['deleted'])
        controller = ContainerController({'devices': tmp,
                                          'mount_check': 'false'})
        queries = []
        for _ in range(400):
            p = {}
            if rng.random() < 0.5:
                p['prefix'] = rand_str(rng, 0, 3)
            if rng.random() < 0.5:
                p['delimiter'] = rng.choice(DELIMITERS)
            if rng.random() < 0.4:
                p['marker'] = rand_str(rng, 1, 4)
            if rng.random() < 0.4:
                p['end_marker'] = rand_str(rng, 1, 4)
            if rng.random() < 0.4:
                p['reverse'] = True
            if rng.random() < 0.15:
                p['path'] = rand_str(rng, 0, 3)
            p['limit'] = rng.choice([0, 1, 2, 5, 13, 10000])
            records = cb.list_objects_iter(
                p['limit'], p.get('marker', ''), p.get('end_marker'),
                p.get('prefix'), p.get('delimiter'), path=p.get('path'),
                reverse=p.get('reverse', False))
            listing = [controller.update_data_record(r) for r in records]
            # the rows chosen are the point here; the formats are checked
            # by listing_cases.json
            body = listing_formats.listing_to_text(listing).decode('utf-8')
            queries.append({'params': p, 'body': body})
        with open(os.path.join(HERE, 'listing_random.json'), 'w') as f:
            json.dump({'objects': objects, 'queries': queries}, f, indent=0,
                      ensure_ascii=False)
        print('%d objects, %d queries' % (len(objects), len(queries)))
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
