"""Issue 5, acceptance 7: kill -9 of single daemons (any storage server,
background daemon or the proxy) at random moments during a mixed
workload (PUTs, overwrites, DELETEs). Each killed daemon
is started again at once, as a supervisor would. Afterwards no
acknowledged write is lost: every object is in a state its acknowledged
history allows, and its replicas converge to that state.
"""
import hashlib
import random
import threading
import time

import breakage
import probe
from swiftclient.exceptions import ClientException

WRITERS = 4
NAMES_PER_WRITER = 15
RUN_SECONDS = 30
TIMEOUT = 240


class History:
    """Per object, the states a reader may find: the last acknowledged one
    and those of writes that failed after it (they may or may not have
    landed). None is 'deleted or never written'."""

    def __init__(self):
        self.allowed = {}
        self.lock = threading.Lock()

    def acked(self, name, state):
        with self.lock:
            self.allowed[name] = {state}

    def unknown(self, name, state):
        with self.lock:
            self.allowed.setdefault(name, {None}).add(state)


def writer(cluster, w, history, stop, counts):
    conn = cluster.swift()
    rnd = random.Random(w)
    names = ['w%d-%02d' % (w, i) for i in range(NAMES_PER_WRITER)]
    for n in names:
        history.allowed.setdefault(n, {None})
    while not stop.is_set():
        name = rnd.choice(names)
        if rnd.random() < 0.25:
            op, state = 'delete', None
        else:
            body = ('%s %f ' % (name, time.time())).encode() * rnd.randint(
                1, 3000)
            op, state = 'put', hashlib.md5(body).hexdigest()
        try:
            if op == 'put':
                conn.put_object('c', name, body)
            else:
                try:
                    conn.delete_object('c', name)
                except ClientException as e:
                    if e.http_status != 404:
                        raise
            history.acked(name, state)
            counts['acked'] += 1
        except Exception:
            history.unknown(name, state)
            counts['failed'] += 1


def test_kill9_loses_nothing_acknowledged(cluster, capsys):
    probe.require(probe.binary('kura-replicator'),
                  probe.binary('kura-updater'))
    cluster.swift().put_container('c')
    victims = ['%s-server-%d' % (k, i) for k in probe.SERVER_KINDS
               for i in range(1, cluster.nodes + 1)]
    victims += ['object-%s-%d' % (d, i)
                for d in ('replicator', 'updater', 'auditor', 'expirer')
                for i in range(1, cluster.nodes + 1)]
    victims += ['proxy-server']
    history, stop = History(), threading.Event()
    counts = {'acked': 0, 'failed': 0}
    threads = [threading.Thread(target=writer,
                                args=(cluster, w, history, stop, counts))
               for w in range(WRITERS)]
    for t in threads:
        t.start()
    rnd, killed = random.Random(7), []
    deadline = time.monotonic() + RUN_SECONDS
    try:
        while time.monotonic() < deadline:
            time.sleep(rnd.uniform(0.5, 3))
            # the proxy once for sure, the rest at random
            name = 'proxy-server' if len(killed) == 3 else rnd.choice(victims)
            if breakage.kill9(cluster, name):
                killed.append(name)
            # a supervisor starts it again; aio starts what is missing
            cluster.aio('start')
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    cluster.aio('start')
    assert killed and counts['acked'] > 0, (killed, counts)

    account = cluster.account
    paths = {'%s/c/%s' % (account, n): n for n in history.allowed}

    def converged():
        """[(object, why)] not yet in one allowed state on all replicas."""
        bad = []
        for path, reps in cluster.replica_status(list(paths)).items():
            states = set()
            for status, headers in reps.values():
                if status is None:
                    states.add('unreachable')
                elif status == 404:
                    states.add(None)
                elif status // 100 == 2:
                    states.add(headers.get('etag', '').strip('"'))
                else:
                    states.add('status %d' % status)
            allowed = history.allowed[paths[path]]
            if len(states) != 1 or not states <= allowed:
                bad.append((paths[path], sorted(map(str, states)),
                            sorted(map(str, allowed))))
        return bad

    last = []

    def done():
        last[:] = converged()
        return not last
    try:
        took = probe.wait_until(done, TIMEOUT, 'replicas converge')
    except AssertionError:
        raise AssertionError('not converged: %s' % last[:10])

    # and through the proxy. It may still skip servers it saw fail (error
    # limiting: 10 errors within 60 s, as Swift) and ask handoffs, which
    # answer 404, until it lets them in again: wait for that, not longer
    conn = cluster.swift()
    wrong = []

    def proxy_agrees():
        wrong[:] = []
        for name in sorted(history.allowed):
            try:
                etag = conn.head_object('c', name)['etag'].strip('"')
            except ClientException as e:
                assert e.http_status == 404, e
                etag = None
            if etag not in history.allowed[name]:
                wrong.append((name, etag, history.allowed[name]))
        return not wrong
    try:
        probe.wait_until(proxy_agrees, 150, 'the proxy answers as stored',
                         interval=5)
    except AssertionError:
        raise AssertionError('through the proxy: %s' % wrong[:10])
    with capsys.disabled():
        print('\nkill -9: %d writes acknowledged, %d failed, %d kills (%s); '
              'replicas converged %.1f s after' % (
                  counts['acked'], counts['failed'], len(killed),
                  ', '.join(sorted(set(killed))), took))
