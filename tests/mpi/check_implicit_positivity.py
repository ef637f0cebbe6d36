#!/usr/bin/python3
"""Positivity of implicit Euler on several ranks (docs/linear_solvers.md "Positivity on several ranks"): a run
whose conservative update comes out < 0 somewhere (one rank repairs it by flux limiting, which several
ranks do not do) must, on P ranks, reject those attempts and retry smaller, and still end with q >= 0 in
every snapshot, mass at round-off and the energy non-increasing.

With --swept (repairs on any number of ranks: Newton's frozen-velocity upwind sweep, solver/steppers/upwind_sweep.hpp,
and the SG flux limiting, implicit_positivity_ranks.cpp): both runs must have needed repairs and rejected none,
and the P-rank run must have exchanged between ranks during them (the summary's "upwind sweeps / flux limiting
in N exchange rounds", N > 0); the same checks of every snapshot.

usage: check_implicit_positivity.py MPIEXEC WGFLOW WORKDIR RANKS [--swept] -- RUN OPTIONS...
"""
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np


def run(command, cwd):
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit("exit code %d: %s\n%s" % (done.returncode, " ".join(command), done.stdout))
    summary = [line for line in done.stdout.splitlines() if line.startswith("wgflow: ")]
    if len(summary) != 1:
        sys.exit("expected one summary line from %s, got:\n%s" % (" ".join(command), done.stdout))
    return summary[0]


def negative_updates(summary):
    """(negative, rejected) conservative updates of the run's summary line (0, 0 if none)."""
    m = re.search(r"(\d+) negative updates \((\d+) rejected\)", summary)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def check_output(path, what, failures):
    with h5py.File(path, "r") as f:
        d = f["diagnostics"]
        mass, energy, low = d["mass"][()], d["energy"][()], d["min"][()]
        snapshots = 0
        for name in f["steps"]:
            q = f["steps"][name]["density"][()]
            snapshots += 1
            if not np.all(q >= 0.0):
                failures.append("%s: snapshot %s has q < 0 (min %g)" % (what, name, q.min()))
    drift = np.max(np.abs(mass - mass[0])) / mass[0]
    if drift > 1e-13:
        failures.append("%s: mass drift %g" % (what, drift))
    if not np.all(low >= 0.0):
        failures.append("%s: diagnostics min < 0: %g" % (what, low.min()))
    rise = np.max(np.diff(energy)) if energy.size > 1 else 0.0
    if rise > 1e-12 * max(1.0, np.max(np.abs(energy))):
        failures.append("%s: the energy rises by %g" % (what, rise))
    if snapshots < 2:
        failures.append("%s: only %d snapshots" % (what, snapshots))
    print("%s: %d snapshots, mass drift %.2e, min q %g, largest energy change %.3g" % (what, snapshots, drift, low.min(),
                                                                                      rise))


def main():
    split = sys.argv.index("--")
    head, options = sys.argv[1:split], sys.argv[split + 1:]
    swept = "--swept" in head
    mpiexec, wgflow, work, ranks = [a for a in head if a != "--swept"]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.environ["OMP_WAIT_POLICY"] = "passive"
    failures = []
    one = run([wgflow, "run", *options, "--threads", "2", "--out", "one.h5"], work)
    many = run([mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", ranks, "-x", "OMP_NUM_THREADS=1", wgflow, "run",
                *options, "--threads", "1", "--out", "many.h5"], work)
    print(one)
    print(many)
    negative, rejected_one = negative_updates(one)
    if negative == 0 or rejected_one != 0:
        failures.append("one rank: %d negative updates, %d rejected: the case must need (and get) a repair" % (negative, rejected_one))
    negative_many, rejected = negative_updates(many)
    if swept:
        rounds = re.search(r"(?:upwind sweeps|flux limiting) in (\d+) exchange rounds", many)
        if negative_many == 0 or rejected != 0:
            failures.append("%s ranks: %d negative updates, %d rejected: each must be repaired" % (ranks, negative_many, rejected))
        if not rounds or int(rounds.group(1)) == 0:
            failures.append("%s ranks: the repairs exchanged nothing between ranks" % ranks)
    elif rejected == 0:
        failures.append("no negative update was rejected on %s ranks" % ranks)
    check_output(os.path.join(work, "one.h5"), "1 rank", failures)
    check_output(os.path.join(work, "many.h5"), ranks + " ranks", failures)
    if failures:
        sys.exit("\n".join(failures))
    print("negative updates %s on %s ranks; q >= 0, mass and energy kept" % ("repaired" if swept else "rejected", ranks))


if __name__ == "__main__":
    main()
