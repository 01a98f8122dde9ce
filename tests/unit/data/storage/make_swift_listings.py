#!/usr/bin/python3
"""Writes the listings Swift 2.30 produces for listing_cases.json.

Builds a ContainerBroker and an AccountBroker from the cases' rows, runs
each query through Swift's own list_objects_iter / list_containers_iter and
formatting (ContainerController.update_data_record + listing_formats, and
account_listing_response), and writes each body to listings/NNN.out for
tests/unit/storage/test_listing_format.c (data in tests/unit/data/storage) to compare byte for byte.

Run with Debian's python3 (python3-swift): /usr/bin/python3 make_swift_listings.py
"""
import json
import os
import shutil
import sys
import tempfile

from swift.account.backend import AccountBroker
from swift.account.utils import account_listing_response
from swift.common.middleware import listing_formats
from swift.common.swob import Request
from swift.common.utils import Timestamp
from swift.container.backend import ContainerBroker
from swift.container.server import ContainerController

HERE = os.path.dirname(os.path.abspath(__file__))
CT = {'json': 'application/json', 'xml': 'application/xml',
      'plain': 'text/plain'}


def container_body(broker, controller, q):
    p = q['params']
    records = broker.list_objects_iter(
        p.get('limit', 10000), p.get('marker', ''), p.get('end_marker'),
        p.get('prefix'), p.get('delimiter'), path=p.get('path'),
        reverse=p.get('reverse', False),
        allow_reserved=p.get('allow_reserved', False))
    listing = [controller.update_data_record(r) for r in records]
    fmt = q['format']
    if fmt == 'xml':
        return listing_formats.container_to_xml(listing, broker.container)
    if fmt == 'json':
        return json.dumps(listing).encode('ascii')
    return listing_formats.listing_to_text(listing)


def account_body(broker, q):
    p = q['params']
    req = Request.blank('/')
    if p.get('allow_reserved'):
        req.headers['X-Backend-Allow-Reserved-Names'] = 'true'
    resp = account_listing_response(
        broker.account, req, CT[q['format']], broker,
        limit=p.get('limit', 10000), marker=p.get('marker', ''),
        end_marker=p.get('end_marker', ''), prefix=p.get('prefix', ''),
        delimiter=p.get('delimiter', ''), reverse=p.get('reverse', False))
    return resp.body


def main():
    with open(os.path.join(HERE, 'listing_cases.json')) as f:
        cases = json.load(f)
    tmp = tempfile.mkdtemp()
    try:
        c = cases['container']
        cb = ContainerBroker(os.path.join(tmp, 'c.db'), account=c['account'],
                             container=c['container'])
        cb.initialize(Timestamp(1).internal, 0)
        for o in c['objects']:
            cb.put_object(o['name'], o['created_at'], o['size'],
                          o['content_type'], o['etag'],
                          deleted=o.get('deleted', 0),
                          ctype_timestamp=o.get('ctype_timestamp'),
                          meta_timestamp=o.get('meta_timestamp'))
        a = cases['account']
        ab = AccountBroker(os.path.join(tmp, 'a.db'), account=a['account'])
        ab.initialize(Timestamp(1).internal)
        for r in a['containers']:
            ab.put_container(r['name'], r['put_timestamp'],
                             r['delete_timestamp'], r['object_count'],
                             r['bytes_used'], 0)
        controller = ContainerController({'devices': tmp,
                                          'mount_check': 'false'})
        out = os.path.join(HERE, 'listings')
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for i, q in enumerate(cases['queries']):
            if q['kind'] == 'container':
                body = container_body(cb, controller, q)
            else:
                body = account_body(ab, q)
            with open(os.path.join(out, '%03d.out' % i), 'wb') as f:
                f.write(body)
        print('wrote %d listings' % len(cases['queries']))
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
