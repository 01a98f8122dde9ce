"""ringlab - build rings with swift-ring-builder or kura-ring and measure them.

Used by tests/interop/test_ring_quality.py, tests/interop/swift_reference.py and
bench/ring_rebalance.py. Both builders are driven through their command line with
the same verbs and argument forms (kura-ring copies swift-ring-builder's), in a
temporary directory; the resulting ``*.ring.gz`` is read back with Swift's own
``swift.common.ring.RingData.load`` (Kura writes Swift's ring format v1), so both
rings are judged by exactly the same code.

Layouts
-------
A layout is (part power, replicas, devices). Devices follow a real cluster's
shape: region ``r``, zone ``z``, server ``s`` gets IP ``10.<r>.<z>.<s>`` (port
6200; servers numbered from 1 inside each zone) and each server holds
``devs_per_server`` disks named ``sda, sdb, ...``. The IPs are only strings in
the ring; nothing is contacted. See ``LAYOUTS`` for the list.

Every build uses ``create <part_power> <replicas> 0`` (min_part_hours 0, so a
change can be rebalanced at once) and ``rebalance --force --seed <seed>``
(``--force`` because swift-ring-builder otherwise refuses to save a rebalance
that changed fewer than 1 % of partitions, which a single weight change on a
large ring can do). Each change (remove one device, add one device, change one
weight) is applied to a copy of the same initially balanced builder file, so the
three changes are independent of each other.

Metrics (all computed here from the ring file, with Swift's definitions)
------------------------------------------------------------------------
parts per device
    Number of part-replicas assigned to each device id.
balance
    Swift's ``RingBuilder.get_balance``: the maximum over devices of
    ``|100 * parts / (weight * weight_of_one_part) - 100|`` where
    ``weight_of_one_part = partitions * replicas / total weight``; a device with
    weight 0 counts 999.99 if it holds any part, else 0.
dispersion
    Swift's ``RingBuilder._build_dispersion_graph``: tiers are
    (region), (region, zone), (region, zone, ip), (region, zone, ip, device id);
    the maximum replicas allowed per tier is ``_build_max_replicas_by_tier``
    (walking down from the root with ``ceil(replicas / number of children)``,
    a device at most 1, tiers of zero-weight devices 0). For each partition
    and each tier depth, the replicas above the tier maximum are summed; the
    partition's worst depth counts. Dispersion is ``100 * sum / (partitions *
    replicas)``. Reimplemented here (no private Swift helper is imported).
changed (Swift's count)
    As ``_build_dispersion_graph(old_replica2part2dev)`` counts
    ``changed_parts``: the number of (replica index, partition) slots whose
    device id differs between the two rings. A replica that merely moved to
    another replica index of the same partition counts here.
moved
    Per partition, the size of the multiset difference
    ``Counter(new device ids) - Counter(old device ids)``, summed: the
    part-replicas that really have to be copied to a device that did not hold
    them. ``moved <= changed`` always. This is what the acceptance tests judge.
min_moves (theoretical minimum)
    A lower bound on ``moved`` for any builder that ends perfectly balanced,
    i.e. every device holding ``floor(t)`` or ``ceil(t)`` part-replicas, where
    ``t = partitions * replicas * weight / total weight`` in the *new* device
    table (0 for a removed device). Since the replica count of every partition
    is unchanged, part-replicas arriving equal part-replicas leaving, so
    ``moved >= max(arrive, leave)`` with

    * ``arrive = sum over new devices of max(0, floor(t) - old_parts)`` - the
      brief's "part-replicas that must arrive somewhere" (old_parts is what the
      device already held in the old ring and still may keep; 0 for a new
      device);
    * ``leave = sum over old devices of max(0, old_parts - ceil(t))`` - for a
      removal this includes the removed device's whole count.

    For a removal from a balanced ring ``min_moves`` is therefore the removed
    device's part-replica count (give or take rounding); for an added device
    it is about its weighted share. It ignores dispersion: when a change makes
    full dispersion and exact balance incompatible (e.g. a fourth disk in one
    of three zones makes that zone weigh more than a third), a builder may
    have to move a little more, or may keep a device one part off - both
    builders face the same bound.
"""

import collections
import dataclasses
import math
import os
import re
import shutil
import subprocess
import tempfile
import time

SWIFT_RING_BUILDER = "/usr/bin/swift-ring-builder"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_BALANCE = 999.99
DEFAULT_SEED = 1
NONE_DEV = 0xFFFF


# --------------------------------------------------------------------------
# layouts and changes

@dataclasses.dataclass(frozen=True)
class Device:
    region: int
    zone: int
    ip: str
    port: int
    name: str
    weight: float

    def add_args(self):
        """The '<search-value-like dev> <weight>' pair of an 'add' command."""
        return ["r%dz%d-%s:%d/%s" % (self.region, self.zone, self.ip,
                                     self.port, self.name),
                _fmt_weight(self.weight)]


@dataclasses.dataclass(frozen=True)
class Change:
    name: str          # "remove" | "add" | "weight"
    description: str
    device: Device     # the device removed, added or re-weighted
    new_weight: float = None

    def needs_id(self):
        return self.name in ("remove", "weight")


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    part_power: int
    replicas: int
    devices: tuple
    description: str

    @property
    def parts(self):
        return 1 << self.part_power

    def changes(self):
        """remove / add / weight changes, each applied to the initial ring."""
        devs = self.devices
        zones = sorted({(d.region, d.zone) for d in devs})
        first_zone = [d for d in devs if (d.region, d.zone) == zones[0]]
        last_zone = [d for d in devs if (d.region, d.zone) == zones[-1]]
        # remove: the last disk of the first zone (a failed disk taken out)
        victim = first_zone[-1]
        # add: one more disk, of the zone's most common weight, in the first
        # server of the first zone (a disk added to a free slot)
        server = first_zone[0]
        used = {d.name for d in devs if d.ip == server.ip}
        name = next("sd" + c for c in "abcdefghijklmnopqrstuvwxyz"
                    if "sd" + c not in used)
        weight = collections.Counter(d.weight for d in first_zone).most_common(1)[0][0]
        newdev = Device(server.region, server.zone, server.ip, server.port, name, weight)
        # weight: halve the weight of the first disk of the last zone (the
        # first step of draining it)
        drained = last_zone[0]
        return [
            Change("remove", "remove %s/%s" % (victim.ip, victim.name), victim),
            Change("add", "add %s/%s weight %s" % (newdev.ip, newdev.name,
                                                   _fmt_weight(weight)), newdev),
            Change("weight", "set_weight %s/%s %s -> %s" % (
                drained.ip, drained.name, _fmt_weight(drained.weight),
                _fmt_weight(drained.weight / 2)), drained, drained.weight / 2),
        ]


def _fmt_weight(w):
    return ("%d" % w) if float(w).is_integer() else repr(float(w))


def make_layout(name, part_power, replicas, regions, zones, devs_per_zone,
                devs_per_server, weights=None, description=""):
    """Regions x zones x devs_per_zone devices, devs_per_server per server.

    weights: None (all 100) or a function (region, zone, server, disk) -> weight.
    """
    devs = []
    for r in range(1, regions + 1):
        for z in range(1, zones + 1):
            for i in range(devs_per_zone):
                s, k = divmod(i, devs_per_server)
                w = 100.0 if weights is None else float(weights(r, z, s + 1, k))
                devs.append(Device(r, z, "10.%d.%d.%d" % (r, z, s + 1), 6200,
                                   "sd" + "abcdefghijklmnopqrstuvwxyz"[k], w))
    return Layout(name, part_power, replicas, tuple(devs), description)


# Unequal weights: every zone holds one 1 TB, two 2 TB and one 3 TB disk
# (weights 100/200/200/300) on two servers, in a different arrangement per
# zone, so that the zones weigh the same and a weight-proportional ring is
# fully dispersible, while servers and disks differ.
_MIXED = {1: [[100, 300], [200, 200]],
          2: [[300, 200], [100, 200]],
          3: [[200, 100], [200, 300]]}

LAYOUTS = collections.OrderedDict((l.name, l) for l in [
    make_layout("10-3-4", 10, 3, 1, 1, 4, 2,
                description="1 zone, 2 servers x 2 disks"),
    make_layout("16-3-12", 16, 3, 1, 3, 4, 4,
                description="3 zones x 1 server x 4 disks"),
    make_layout("16-3-12w", 16, 3, 1, 3, 4, 2,
                weights=lambda r, z, s, k: _MIXED[z][s - 1][k],
                description="3 zones x 2 servers x 2 disks, weights 100/200/300 mixed"),
    make_layout("16-3-24r2", 16, 3, 2, 3, 4, 4,
                description="2 regions x 3 zones x 1 server x 4 disks"),
    make_layout("18-3-48", 18, 3, 1, 4, 12, 4,
                description="4 zones x 3 servers x 4 disks"),
    make_layout("20-3-100", 20, 3, 1, 5, 20, 4,
                description="5 zones x 5 servers x 4 disks"),
])


# --------------------------------------------------------------------------
# running the builders

def find_kura_ring():
    """Path of the kura-ring binary, or None: $KURA_RING when set (and only
    it), else build/tools/kura-ring of this repository."""
    p = os.environ.get("KURA_RING") or os.path.join(REPO, "build", "tools", "kura-ring")
    if os.path.isfile(p) and os.access(p, os.X_OK):
        return os.path.abspath(p)
    return None


def builder_command(kind):
    if kind == "swift":
        return [SWIFT_RING_BUILDER]
    if kind == "kura":
        exe = find_kura_ring()
        if not exe:
            raise FileNotFoundError("kura-ring is not built (build/tools/kura-ring)")
        return [exe]
    if os.path.sep in kind:          # an explicit path to a compatible CLI
        return [kind]
    raise ValueError("unknown builder %r" % kind)


class BuilderError(RuntimeError):
    pass


class Run:
    """One builder file in its own directory, driven through the CLI."""

    def __init__(self, kind, workdir, timeout=3600):
        self.kind = kind
        self.cmd = builder_command(kind)
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.builder_file = os.path.join(workdir, "object.builder")
        self.ring_file = os.path.join(workdir, "object.ring.gz")
        self.timeout = timeout
        self.times = collections.OrderedDict()   # verb -> seconds (summed)
        self.log = []

    def cli(self, *args, ok=(0,)):
        argv = self.cmd + [self.builder_file] + [str(a) for a in args]
        t0 = time.monotonic()
        p = subprocess.run(argv, cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=self.timeout)
        dt = time.monotonic() - t0
        verb = str(args[0])
        self.times[verb] = self.times.get(verb, 0.0) + dt
        self.log.append((argv, p.returncode, p.stdout, p.stderr, dt))
        if p.returncode not in ok:
            raise BuilderError("%s exited %d\n--- stdout\n%s--- stderr\n%s" % (
                " ".join(argv), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
        return p

    def rebalance(self, seed=DEFAULT_SEED):
        """rebalance --force --seed; makes sure the ring file is (re)written."""
        if os.path.exists(self.ring_file):
            os.unlink(self.ring_file)
        # swift-ring-builder exits 1 (EXIT_WARNING) for a successful rebalance
        # whose dispersion or balance is not perfect, 2 on errors.
        p = self.cli("rebalance", "--force", "--seed", seed, ok=(0, 1))
        if p.returncode == 1 and "Reassigned" not in p.stdout and \
                "Balance is now" not in p.stdout:
            raise BuilderError("rebalance did not rebalance:\n" + p.stdout + p.stderr)
        if not os.path.exists(self.ring_file):
            self.cli("write_ring")
        return parse_rebalance_output(p.stdout)

    def copy_to(self, workdir):
        """A new Run on a copy of this builder file (not the backups)."""
        other = Run(self.kind, workdir, self.timeout)
        shutil.copy2(self.builder_file, other.builder_file)
        return other


def parse_rebalance_output(out):
    """What the CLI says about its rebalance (informational only)."""
    m = re.search(r"Reassigned (\d+) \(([\d.]+)%\) partitions\. Balance is now "
                  r"([\d.]+)\.\s+Dispersion is now ([\d.]+)", out)
    if not m:
        return {}
    return {"reassigned": int(m.group(1)), "balance": float(m.group(3)),
            "dispersion": float(m.group(4))}


def build_initial(kind, layout, workdir, seed=DEFAULT_SEED):
    """create + add (one command for all devices) + rebalance. Returns the Run."""
    run = Run(kind, workdir)
    run.cli("create", layout.part_power, layout.replicas, 0)
    args = []
    for d in layout.devices:
        args += d.add_args()
    run.cli("add", *args)
    run.reported = run.rebalance(seed)
    return run


def apply_change(base, change, workdir, seed=DEFAULT_SEED):
    """Copy base's builder, apply one Change, rebalance. Returns the new Run."""
    run = base.copy_to(workdir)
    if change.needs_id():
        dev_id = device_id(load_ring(base.ring_file), change.device)
        if change.name == "remove":
            run.cli("remove", "d%d" % dev_id)
        else:
            run.cli("set_weight", "d%d" % dev_id, _fmt_weight(change.new_weight))
    else:
        run.cli("add", *change.device.add_args())
    run.reported = run.rebalance(seed)
    return run


def device_id(ring, dev):
    for d in ring.devs:
        if d and d["ip"] == dev.ip and d["device"] == dev.name and \
                d["port"] == dev.port:
            return d["id"]
    raise KeyError("%s/%s not in ring" % (dev.ip, dev.name))


# --------------------------------------------------------------------------
# metrics

def load_ring(path):
    # imported here, not at the top: importing Swift swaps logging's locks
    # for eventlet's, and pytest collects this module before running the
    # functional tests, which serve HTTP from real threads
    # (tests/functional/swift_oracle.py)
    from swift.common.ring import RingData
    return RingData.load(path)


def _r2p2d(ring):
    r2p = ring._replica2part2dev_id
    for arr in r2p:
        if NONE_DEV in arr:
            raise ValueError("ring has unassigned part-replicas")
    return r2p


def parts_per_dev(ring):
    counts = collections.Counter()
    for arr in _r2p2d(ring):
        counts.update(arr)
    return {d["id"]: counts.get(d["id"], 0) for d in ring.devs if d}


def replica_count(ring):
    """Replicas as a float (Swift allows fractional replica counts)."""
    r2p = ring._replica2part2dev_id
    parts = 1 << (32 - ring._part_shift)
    return sum(len(a) for a in r2p) / float(parts)


def balance(ring):
    devs = [d for d in ring.devs if d]
    parts = 1 << (32 - ring._part_shift)
    total_weight = sum(d["weight"] for d in devs)
    one_part = parts * replica_count(ring) / total_weight
    counts = parts_per_dev(ring)
    worst = 0.0
    for d in devs:
        n = counts[d["id"]]
        if not d["weight"]:
            b = MAX_BALANCE if n else 0.0
        else:
            b = abs(100.0 * n / (d["weight"] * one_part) - 100.0)
        worst = max(worst, b)
    return worst


def tiers_for_dev(d):
    return ((d["region"],), (d["region"], d["zone"]),
            (d["region"], d["zone"], d["ip"]),
            (d["region"], d["zone"], d["ip"], d["id"]))


def max_replicas_by_tier(ring):
    """Swift's _build_max_replicas_by_tier (bound = ceil), reimplemented."""
    children = collections.defaultdict(set)
    for d in ring.devs:
        if d and d["weight"]:
            parent = ()
            for t in tiers_for_dev(d):
                children[parent].add(t)
                parent = t
    mr = collections.defaultdict(float)

    def walk(tier, count):
        if len(tier) == 4:
            count = min(1, count)
        mr[tier] = count
        subs = children.get(tier)
        if subs:
            for s in subs:
                walk(s, math.ceil(float(count) / len(subs)))
    walk((), replica_count(ring))
    return mr


def dispersion(ring):
    """Swift's dispersion (%) of a ring, see the module docstring."""
    r2p = _r2p2d(ring)
    maxr = max_replicas_by_tier(ring)
    # per device: the (depth, tier, max allowed) of its four tiers
    dev_tiers = {}
    for d in ring.devs:
        if d:
            dev_tiers[d["id"]] = [(len(t), t, maxr[t]) for t in tiers_for_dev(d)]
    parts = 1 << (32 - ring._part_shift)
    total = sum(len(a) for a in r2p)
    if len(set(len(a) for a in r2p)) == 1:
        columns = zip(*r2p)
    else:   # fractional replicas: the last array is shorter
        columns = ([a[p] for a in r2p if p < len(a)] for p in range(parts))
    cache = {}
    at_risk = 0
    for devs in columns:
        key = tuple(sorted(devs))
        risk = cache.get(key)
        if risk is None:
            count = collections.Counter()
            for dev in devs:
                for depth, t, m in dev_tiers[dev]:
                    count[(depth, t, m)] += 1
            depth_risk = [0] * 5
            for (depth, t, m), n in count.items():
                if n > m:
                    depth_risk[depth] += n - m
            risk = max(depth_risk)
            cache[key] = risk
        at_risk += risk
    return 100.0 * at_risk / total


def moves(old, new):
    """(changed, moved) between two rings, see the module docstring."""
    o, n = _r2p2d(old), _r2p2d(new)
    changed = 0
    for r in range(max(len(o), len(n))):
        if r >= len(o) or r >= len(n):
            changed += len(n[r]) if r < len(n) else 0
            continue
        oa, na = o[r], n[r]
        changed += sum(1 for a, b in zip(oa, na) if a != b)
        changed += max(0, len(na) - len(oa))
    moved = 0
    if len(o) == len(n) and len(set(len(a) for a in o + n)) == 1:
        for oc, nc in zip(zip(*o), zip(*n)):
            if oc != nc:
                moved += sum((collections.Counter(nc) - collections.Counter(oc)).values())
    else:
        parts = 1 << (32 - new._part_shift)
        for p in range(parts):
            oc = collections.Counter(a[p] for a in o if p < len(a))
            nc = collections.Counter(a[p] for a in n if p < len(a))
            moved += sum((nc - oc).values())
    return changed, moved


def min_moves(old, new):
    """Theoretical minimum part-replica moves from old to new's device table.

    Returns (minimum, arrive, leave); see the module docstring.
    """
    old_counts = parts_per_dev(old)
    new_devs = {d["id"]: d for d in new.devs if d}
    parts = 1 << (32 - new._part_shift)
    total = parts * replica_count(new)
    weight = sum(d["weight"] for d in new_devs.values())
    target = {i: total * d["weight"] / weight for i, d in new_devs.items()}
    arrive = sum(max(0, math.floor(t) - old_counts.get(i, 0))
                 for i, t in target.items())
    leave = sum(max(0, n - math.ceil(target.get(i, 0)))
                for i, n in old_counts.items())
    return max(arrive, leave), arrive, leave


def validate_ring(ring):
    """"ok", or what is wrong: a replica array of the wrong length, a
    part-replica on a missing device, or a partition twice on one device."""
    r2p = ring._replica2part2dev_id
    parts = 1 << (32 - ring._part_shift)
    devs = {d["id"] for d in ring.devs if d}
    for r, arr in enumerate(r2p):
        if len(arr) != parts and r != len(r2p) - 1:
            return "replica %d has %d partitions, not %d" % (r, len(arr), parts)
        bad = set(arr) - devs
        if bad:
            return "replica %d uses missing device ids %s" % (r, sorted(bad)[:5])
    if len(set(len(a) for a in r2p)) == 1:
        for p, col in enumerate(zip(*r2p)):
            if len(set(col)) != len(col):
                return "partition %d twice on one device: %r" % (p, col)
    else:
        for p in range(parts):
            col = [a[p] for a in r2p if p < len(a)]
            if len(set(col)) != len(col):
                return "partition %d twice on one device: %r" % (p, col)
    return "ok"


def ring_metrics(ring):
    return {"balance": balance(ring), "dispersion": dispersion(ring),
            "parts_per_dev": parts_per_dev(ring)}


def change_metrics(old, new):
    changed, moved = moves(old, new)
    minimum, arrive, leave = min_moves(old, new)
    m = ring_metrics(new)
    m.update({"changed": changed, "moved": moved, "min_moves": minimum,
              "min_arrive": arrive, "min_leave": leave})
    return m


# --------------------------------------------------------------------------
# a whole experiment: one layout, one builder, initial ring + three changes

def run_layout(kind, layout, workdir=None, seed=DEFAULT_SEED, jobs=1,
               metrics=True, changes=None, validate=False):
    """Builds layout with builder kind, then each change on a copy.

    Returns a dict: {"initial": {...}, "<change>": {...}, ...}, each with the
    metrics (unless metrics=False), the CLI's own report ("reported") and the
    CLI wall times ("times": verb -> seconds); with validate=True also
    "valid" (see validate_ring()). jobs > 1 runs the changes in
    parallel (wall times then include contention).
    """
    own = workdir is None
    if own:
        workdir = tempfile.mkdtemp(prefix="ringlab-%s-%s-" % (kind, layout.name))
    try:
        base = build_initial(kind, layout, os.path.join(workdir, "initial"), seed)
        old = load_ring(base.ring_file)
        out = collections.OrderedDict()
        out["initial"] = {"times": dict(base.times), "reported": base.reported}
        if metrics:
            out["initial"].update(ring_metrics(old))
        if validate:
            out["initial"]["valid"] = validate_ring(old)
        todo = [c for c in layout.changes() if changes is None or c.name in changes]

        def one(change):
            run = apply_change(base, change, os.path.join(workdir, change.name), seed)
            res = {"times": dict(run.times), "reported": run.reported,
                   "description": change.description}
            new = load_ring(run.ring_file)
            if metrics:
                res.update(change_metrics(old, new))
            if validate:
                res["valid"] = validate_ring(new)
            return change.name, res

        if jobs > 1 and len(todo) > 1:
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(jobs) as ex:
                results = list(ex.map(one, todo))
        else:
            results = [one(c) for c in todo]
        for name, res in results:
            out[name] = res
        return out
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def summary(result):
    """Result without the bulky per-device counts (for JSON files, logs)."""
    out = collections.OrderedDict()
    for phase, r in result.items():
        out[phase] = {k: v for k, v in r.items() if k != "parts_per_dev"}
    return out


def swift_version():
    import swift
    return swift.__version__


def layout_signature(layout, seed=DEFAULT_SEED):
    """A digest of what determines a result: layout, changes, seed, method."""
    import hashlib
    import json
    desc = {"part_power": layout.part_power, "replicas": layout.replicas,
            "devices": [dataclasses.astuple(d) for d in layout.devices],
            "changes": [(c.name, dataclasses.astuple(c.device), c.new_weight)
                        for c in layout.changes()],
            "seed": seed, "method": "create-0/add-all/rebalance--force--seed/v1"}
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]
