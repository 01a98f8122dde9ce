#!/usr/bin/python3
# Regenerates the authz[] table of test_tempauth.c from Swift 2.30's own
# TempAuth.authorize() (Debian's python3-swift):
#   cd /tmp && /usr/bin/python3 .../tests/unit/proxy/gen_tempauth_matrix.py
# (then clang-format the table). Run it outside swift/common: a cwd holding
# an http.py shadows the standard library.
# Each row: who, method, path, container ACL (req.acl), Referer, account
# ACL, expected status (0 = allowed), expected swift_owner.
from swift.common.middleware.tempauth import TempAuth
from swift.common.swob import Request
import json
ta = TempAuth(None, {'user_test_tester': 'testing .admin', 'user_test2_tester2': 'testing2',
                     'user_admin_admin': 'admin .admin .reseller_admin',
                     'user_rr_rr': 'rr .reseller_reader'})
ta.account_acls = lambda req: req.environ.get('test.acct_acls')
G = {'tester': 'test,test:tester,AUTH_test', 'tester2': 'test2,test2:tester2',
     'admin': 'admin,admin:admin,.reseller_admin,AUTH_admin', 'rr': 'rr,rr:rr,.reseller_reader', 'anon': None}
cases = []
def case(who, method, path, acl=None, referer=None, acct=None):
    env = {'REQUEST_METHOD': method}
    if G[who]: env['REMOTE_USER'] = G[who]
    if acct: env['test.acct_acls'] = acct
    req = Request.blank(path, environ=env)
    if referer: req.referer = referer
    req.acl = acl
    r = ta.authorize(req)
    st = 0 if r is None else r.status_int
    owner = bool(req.environ.get('swift_owner'))
    print('    {"%s", "%s", "%s", %s, %s, %s, %d, %d},' % (who, method, path,
        json.dumps(acl) if acl else 'NULL', json.dumps(referer) if referer else 'NULL',
        json.dumps(json.dumps(acct)) if acct else 'NULL', st, owner))
for m in ('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'):
    for p in ('/v1/AUTH_test', '/v1/AUTH_test/c', '/v1/AUTH_test/c/o'):
        for who in ('tester', 'tester2', 'admin', 'rr', 'anon'):
            case(who, m, p)
case('tester', 'GET', '/v1/OTHER_test')
case('admin', 'GET', '/v1/AUTH_')
case('admin', 'GET', '/v1/AUTH_.misc')
case('rr', 'GET', '/v1/AUTH_.misc')
case('anon', 'GET', '/v1')
case('tester', 'GET', '/v1')
case('tester', 'GET', '//x')
for who in ('tester2', 'anon'):
    case(who, 'GET', '/v1/AUTH_test/c/o', '.r:*')
    case(who, 'GET', '/v1/AUTH_test/c', '.r:*')
    case(who, 'GET', '/v1/AUTH_test/c', '.r:*,.rlistings')
    case(who, 'GET', '/v1/AUTH_test/c/o', '.r:.example.com', 'http://www.example.com/page')
    case(who, 'GET', '/v1/AUTH_test/c/o', '.r:.example.com,.r:-bad.example.com', 'http://bad.example.com/')
    case(who, 'GET', '/v1/AUTH_test/c/o', 'test2:tester2')
    case(who, 'GET', '/v1/AUTH_test/c/o', 'test2')
    case(who, 'PUT', '/v1/AUTH_test/c/o', '*:tester2')
    case(who, 'PUT', '/v1/AUTH_test/c/o', 'test2:tester2')
    case(who, 'PUT', '/v1/AUTH_test/c', 'test2:tester2')
acct = {'admin': ['test2:tester2'], 'read-write': [], 'read-only': []}
case('tester2', 'PUT', '/v1/AUTH_test', None, None, acct)
case('tester2', 'DELETE', '/v1/AUTH_test/c', None, None, acct)
acct = {'admin': [], 'read-write': ['test2'], 'read-only': []}
case('tester2', 'PUT', '/v1/AUTH_test/c', None, None, acct)
case('tester2', 'POST', '/v1/AUTH_test', None, None, acct)
case('tester2', 'HEAD', '/v1/AUTH_test', None, None, acct)
acct = {'admin': [], 'read-write': [], 'read-only': ['test2:tester2']}
case('tester2', 'GET', '/v1/AUTH_test/c/o', None, None, acct)
case('tester2', 'PUT', '/v1/AUTH_test/c/o', None, None, acct)
