"""placement - compare where Kura and Swift place names, in bulk.

Helpers for tests/interop/test_ring_interop.py:

* ``write_swift_conf`` writes a swift.conf with a hash prefix and suffix that
  both sides are pointed at (Kura with ``-c``, Swift through
  ``swift_placement.py --conf``, which sets ``utils.SWIFT_CONF_FILE``).
* ``build_ring`` drives a builder CLI with swift-ring-builder's verbs
  (``swift-ring-builder`` itself or ``kura-ring``).
* ``random_paths`` makes reproducible a, a/c and a/c/o names, many of them
  non-ASCII.
* ``kura_placements`` / ``swift_placements`` run ``kura get-nodes --batch``
  and ``swift_placement.py`` on the same paths and return their JSON lines.
"""
import json
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SWIFT_PYTHON = "/usr/bin/python3"          # Debian's, with python3-swift
SWIFT_RING_BUILDER = "/usr/bin/swift-ring-builder"


def write_swift_conf(directory, prefix, suffix):
    path = os.path.join(directory, "swift.conf")
    with open(path, "w") as f:
        f.write("[swift-hash]\nswift_hash_path_prefix = %s\n"
                "swift_hash_path_suffix = %s\n" % (prefix, suffix))
    return path


def _dev_args(dev):
    """'add' arguments of one device: (region, zone, ip, device, weight)."""
    region, zone, ip, name, weight = dev
    return ["--region", str(region), "--zone", str(zone), "--ip", ip,
            "--port", "6200", "--device", name, "--weight", repr(weight)]


def build_ring(builder_cmd, directory, name, part_power, replicas, devs,
               seed=7):
    """Builds <directory>/<name>.ring.gz with a swift-ring-builder-like CLI
    and returns its path. devs: (region, zone, ip, device, weight) tuples."""
    builder = os.path.join(directory, name + ".builder")

    def run(*args):
        p = subprocess.run(builder_cmd + [builder] + [str(a) for a in args],
                           cwd=directory, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode not in (0, 1):      # 1: EXIT_WARNING
            raise RuntimeError("%s failed (%d): %s" % (
                " ".join(map(str, args)), p.returncode, p.stdout))
        return p.stdout

    run("create", part_power, replicas, 0)
    for dev in devs:
        run("add", *_dev_args(dev))
    run("rebalance", "--seed", seed)
    path = os.path.join(directory, name + ".ring.gz")
    if not os.path.exists(path):
        raise RuntimeError("%s wrote no ring" % builder_cmd[0])
    return path


# Code points to draw names from: ASCII, Latin-1, Greek, CJK, emoji (no
# surrogates, no '/', no line breaks: a name is one line and one component).
_RANGES = [(0x20, 0x7e), (0xa0, 0xff), (0x391, 0x3c9), (0x4e00, 0x4fff),
           (0x1f600, 0x1f64f)]


def _name(rng, max_len, slash=False):
    out = []
    for _ in range(rng.randint(1, max_len)):
        lo, hi = rng.choice(_RANGES)
        c = chr(rng.randint(lo, hi))
        if c == "/" and not slash:
            c = "_"
        out.append(c)
    return "".join(out)


def random_paths(n, seed):
    """n paths: 10% accounts, 20% containers, 70% objects (some with
    slashes in the object name)."""
    rng = random.Random(seed)
    paths = []
    for _ in range(n):
        kind = rng.random()
        acct = "AUTH_" + _name(rng, 12)
        if kind < 0.1:
            paths.append(acct)
        elif kind < 0.3:
            paths.append(acct + "/" + _name(rng, 20))
        else:
            paths.append("/".join([acct, _name(rng, 20),
                                   _name(rng, 40, slash=True)]))
    return paths


def _run_lines(argv, paths):
    data = "".join(p + "\n" for p in paths).encode("utf-8")
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            argv[0], p.returncode, p.stderr.decode("utf-8", "replace")))
    lines = p.stdout.decode("utf-8").split("\n")
    return [json.loads(line) for line in lines if line]


def kura_placements(kura, conf, ring, paths, handoffs=6):
    return _run_lines([kura, "get-nodes", "-c", conf, "--batch", ring,
                       "--handoffs", str(handoffs)], paths)


def swift_placements(conf, ring, paths, handoffs=6):
    return _run_lines([SWIFT_PYTHON, os.path.join(HERE, "swift_placement.py"),
                       "--conf", conf, "--ring", ring,
                       "--handoffs", str(handoffs)], paths)


def first_difference(kura, swift):
    """None when the two lists agree, else a one-line description."""
    if len(kura) != len(swift):
        return "kura gave %d answers, swift %d" % (len(kura), len(swift))
    for k, s in zip(kura, swift):
        if k != s:
            return "path %r: kura %s, swift %s" % (
                s["path"], json.dumps(k), json.dumps(s))
    return None
