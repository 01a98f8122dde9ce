"""Swift 2.30's own account, container or object server, in a child process,
as the reference our daemons' answers are compared with.

Why a child process: importing swift.common.utils swaps the logging
module's locks for eventlet's green ones (logging._lock, logging.threading).
In the test process that leaves every later test that logs from real
threads able to switch the main thread into eventlet's hub, where it
sleeps for ever (a ThreadingHTTPServer test hung CI that way). So no
test imports Swift in-process; conftest.py checks it.

The child reads one JSON request per line on stdin and answers one JSON
line on stdout: {"status", "headers": [[k, v], ...], "body": base64}.
"""

import base64
import importlib.util
import json
import os
import subprocess
import sys
import weakref


class SwiftOracle:
    """request(method, path, headers, query, body) -> (status, headers, body)
    from Swift's own controller of `kind` on devices under `root`."""

    def __init__(self, kind, root):
        if importlib.util.find_spec('swift') is None:
            import pytest
            pytest.skip('python3-swift not installed')
        os.makedirs(os.path.join(root, 'sda'), exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, '-W', 'ignore', os.path.abspath(__file__),
             kind, str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        weakref.finalize(self, self.proc.stdin.close)

    def request(self, method, path, headers=None, query=None, body=None):
        req = {'method': method, 'path': path,
               'headers': dict(headers or {}), 'query': query or {},
               'body': None if body is None else
               base64.b64encode(body).decode()}
        self.proc.stdin.write(json.dumps(req) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('Swift oracle died')
        resp = json.loads(line)
        return (resp['status'], {k: v for k, v in resp['headers']},
                base64.b64decode(resp['body']))

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _controller(kind, root):
    conf = {'devices': root, 'mount_check': 'false', 'log_requests': 'false'}
    if kind == 'account':
        from swift.account.server import AccountController
        return AccountController(conf)
    if kind == 'container':
        from swift.container.server import ContainerController
        return ContainerController(conf)
    from swift.common import utils
    from swift.obj.server import ObjectController
    utils.HASH_PATH_PREFIX, utils.HASH_PATH_SUFFIX = b'pre', b'suf'
    return ObjectController(conf, logger=utils.get_logger(
        {}, 'swift-object-server'))


def _serve(kind, root):
    import urllib.parse
    from swift.common.swob import Request
    app = _controller(kind, root)
    for line in sys.stdin:
        req = json.loads(line)
        url = urllib.parse.quote(req['path'], safe='/')
        if req['query']:
            url += '?' + urllib.parse.urlencode(req['query'])
        body = (None if req['body'] is None
                else base64.b64decode(req['body']))
        resp = Request.blank(url, environ={'REQUEST_METHOD': req['method']},
                             headers=req['headers'],
                             body=body).get_response(app)
        out = {'status': resp.status_int,
               'headers': [[k.lower(), v] for k, v in resp.headers.items()],
               'body': base64.b64encode(resp.body).decode()}
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    _serve(sys.argv[1], sys.argv[2])
