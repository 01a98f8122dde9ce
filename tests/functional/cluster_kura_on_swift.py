"""KURA_TEST_TARGET=kura-on-swift: kura-proxy in front of OpenStack Swift
2.30's account, container and object servers (Debian's swift-account,
swift-container, swift-object packages), on rings built by Swift's own
RingBuilder.

The storage half is SwiftCluster's (cluster.py): swift.conf, the rings,
the three servers over 4 devices and the container-updater, in a temp dir
on /dev/shm when it has room. Only the proxy differs: instead of Swift's
proxy and memcached, $KURA_BUILD/proxy/kura-proxy reads the same swift_dir
(hash path prefix/suffix, the rings) and has the same tempauth users and
account autocreation.
"""
import os
import textwrap

import pytest

from cluster import BUILD, SwiftCluster, free_port, wait_port


class KuraProxyOnSwift(SwiftCluster):
    REQUIRED = ('/usr/bin/swift-object-server',
                '/usr/bin/swift-container-server',
                '/usr/bin/swift-account-server', '/usr/bin/swift')

    def __init__(self):
        self.proxy_exe = os.path.join(BUILD, 'proxy', 'kura-proxy')
        if not os.path.exists(self.proxy_exe):
            pytest.skip('kura-proxy not built')
        super().__init__()

    def _start_proxy(self):
        self.proxy_port = free_port()
        conf = os.path.join(self.etc, 'kura-proxy-server.conf')
        with open(conf, 'w') as f:
            f.write(textwrap.dedent('''\
                [DEFAULT]
                bind_ip = 127.0.0.1
                bind_port = %d
                swift_dir = %s
                log_name = proxy-server
                log_file = %s

                [pipeline:main]
                pipeline = catch_errors gatekeeper healthcheck proxy-logging cache tempauth copy proxy-logging proxy-server

                [app:proxy-server]
                account_autocreate = true

                [filter:tempauth]
                user_admin_admin = admin .admin .reseller_admin
                user_test_tester = testing .admin
                user_test2_tester2 = testing2 .admin
                user_test_tester3 = testing3
                ''') % (self.proxy_port, self.etc,
                        os.path.join(self.tmp, 'kura-proxy.log')))
        p = self._spawn([self.proxy_exe, conf], 'kura-proxy.stderr.log')
        wait_port(self.proxy_port, p, 60, 'kura-proxy')
