"""Bad ring files given to ``kura get-nodes``: one line on stderr naming
the problem, exit 2, never a crash or a partial answer.

Every file is made here from a good ring written by ``kura-ring``, so each
case differs from a valid file in exactly one way.
"""
import gzip
import json
import os
import struct
import subprocess

import pytest

BUILD = os.environ.get("KURA_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
KURA = os.path.join(BUILD, "tools", "kura")
KURA_RING = os.path.join(BUILD, "tools", "kura-ring")


def ring_bytes(header, arrays):
    """A ring file's uncompressed stream, as Swift's serialize_v1."""
    text = json.dumps(header, sort_keys=True).encode()
    return (b"R1NG" + struct.pack("!H", 1) + struct.pack("!I", len(text)) +
            text + b"".join(arrays))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = tmp_path_factory.mktemp("getnodes")
    b = str(d / "object.builder")
    subprocess.run([KURA_RING, b, "create", "6", "3", "0"], check=True,
                   stdout=subprocess.DEVNULL)
    devs = []
    for i in range(1, 5):
        devs += ["r1z%d-10.0.0.%d:6200/sda" % (i, i), "100"]
    subprocess.run([KURA_RING, b, "add"] + devs, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([KURA_RING, b, "rebalance"], check=True,
                   stdout=subprocess.DEVNULL)
    conf = d / "swift.conf"
    conf.write_text("[swift-hash]\nswift_hash_path_suffix = fuzz\n")
    return d, str(d / "object.ring.gz"), str(conf)


def raw(path):
    with gzip.open(path) as f:
        return f.read()


def get_nodes(conf, path):
    return subprocess.run([KURA, "get-nodes", "-c", conf, path, "a", "c",
                           "o"], capture_output=True, text=True, timeout=60)


def cases(good_path):
    data = raw(good_path)
    with open(good_path, "rb") as f:
        packed = f.read()
    jlen = struct.unpack("!I", data[6:10])[0]
    header = json.loads(data[10:10 + jlen])
    arrays = data[10 + jlen:]
    flipped = bytearray(packed)
    flipped[len(flipped) // 2] ^= 0xFF
    zero_devs = dict(header, devs=[])
    huge = dict(header, part_shift=0)  # 2^32 partitions declared
    return {
        "empty": (b"", "gzip"),
        "not gzip": (b"R1NG not compressed", "gzip"),
        "truncated": (packed[:len(packed) // 2], "truncated"),
        "corrupted": (bytes(flipped), None),
        "wrong magic": (gzip.compress(b"R2NG" + data[4:]), "magic"),
        "wrong version": (gzip.compress(data[:4] + struct.pack("!H", 9) +
                                        data[6:]), "version"),
        "bad json": (gzip.compress(data[:10] + b"{" * jlen +
                                   arrays), "JSON"),
        "zero devices": (gzip.compress(ring_bytes(zero_devs, [arrays])),
                         "device"),
        # the first array whole, the second cut short, the third missing
        # (only the last array may be short: fractional replicas)
        "short arrays": (gzip.compress(data[:10 + jlen + len(arrays) // 3 +
                                             10]), None),
        "trailing bytes": (gzip.compress(data + b"\0\0"), None),
        "oversized": (gzip.compress(ring_bytes(huge, [arrays])), None),
    }


CASES = ["empty", "not gzip", "truncated", "corrupted", "wrong magic",
         "wrong version", "bad json", "zero devices", "short arrays",
         "trailing bytes", "oversized"]


@pytest.mark.parametrize("case", CASES)
def test_bad_ring_file(good, case):
    d, good_path, conf = good
    assert get_nodes(conf, good_path).returncode == 0
    content, word = cases(good_path)[case]
    path = str(d / ("bad-%s.ring.gz" % case.replace(" ", "-")))
    with open(path, "wb") as f:
        f.write(content)
    r = get_nodes(conf, path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kura get-nodes: "), \
        r.stderr
    assert path in lines[0]
    if word:
        assert word.lower() in lines[0].lower(), lines[0]
