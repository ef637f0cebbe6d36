#!/usr/bin/python3
"""One wgflow run decomposed over P ranks gives the same output, bit for bit, as the run on one rank
(issue 12): every dataset and attribute of the main file, of every snapshot file and of the XDMF,
for P = 2, 3 (an uneven split), 4 and one thread per rank against the plain serial run with two threads
(--ranks 8: other counts instead, oversubscribed, e.g. 8 ranks on a 3D grid split along y and z).
With --restart-across: the run interrupted (SIGTERM to one of its ranks) on 4 ranks, continued with --restart
on 1, 2 and 3 ranks, equals the uninterrupted run.
With --kill-across K: the job on 4 ranks (mpirun and every rank) killed with SIGKILL at a random moment (up to 50 ms
after one of the next four snapshots appeared), K times in a row, each killed output continued with --restart on
1, 2 or 3 ranks in turn, the last to the end: the result equals the uninterrupted run (at least K/2 of the kills
must have landed while the job ran).
With --tolerance R (runs that are not bitwise on P ranks: the distributed FFT of an interaction term rounds
differently, the Krylov solves of implicit steppers sum in a rank-dependent order): floating-point values equal
to R relative instead of bit for bit, |a - b| <= R max(1, max|b|) over each dataset (over each column of a
table), numbers in the XDMF likewise, iteration counts (datasets named *iterations) within ITERATION_SLACK; and
every run is checked on its own: mass drift <= 1e-12 relative, min >= 0 and energy non-increasing.
--iteration-slack N replaces ITERATION_SLACK (implicit runs with an interaction term: the outer fixed point stops
at 1e-12 relative, so the FFT's rounding may cost one more outer iteration, i.e. one more inner solve).
With --crossed WHAT (particles; WHAT: hand-overs or migrations): equal outputs prove nothing about the path
between ranks if no particle ever crossed a border, so every run on P > 1 ranks (restarts included) must
report in its summary line that particles crossed: "N hand-overs in R exchange rounds" (implicit Euler's
frozen flow, solver/particle_flow.cpp) or "N migrations between ranks" (after the explicit stages), N > 0.

usage: check_decomposed_run.py MPIEXEC WGFLOW WORKDIR [--restart-across] [--kill-across K] [--ranks P,Q,...]
       [--tolerance R] [--iteration-slack N] [--crossed hand-overs|migrations]
       -- RUN OPTIONS...
"""
import re
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

# Attributes that say how a run was executed, not what it computed.
EXECUTION_ATTRIBUTES = {"ranks", "threads", "wall_seconds"}


def mpirun(mpiexec, ranks, threads):
    return [mpiexec, "--oversubscribe", "--allow-run-as-root", "-np", str(ranks), "-x", "OMP_NUM_THREADS=%d" % threads,
            "-x", "OMP_WAIT_POLICY=passive"]


def run(command, cwd, what):
    started = time.time()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit("%s: exit code %d\n%s\n%s" % (what, done.returncode, " ".join(command), done.stdout))
    return time.time() - started, done.stdout


# --crossed: what the summary line of a run on P > 1 ranks must count above 0 ("" : nothing required).
CROSSED = ""
CROSSING_TEXT = {"hand-overs": r"(\d+) hand-overs in \d+ exchange rounds", "migrations": r"(\d+) migrations between ranks"}


def crossing_problems(output, what):
    """With --crossed: the run's summary line must count particles that crossed between ranks (N > 0)."""
    if not CROSSED:
        return []
    summary = [line for line in output.splitlines() if line.startswith("wgflow: ") and " particles (" in line]
    found = re.search(CROSSING_TEXT[CROSSED], summary[0]) if len(summary) == 1 else None
    if not found:
        return ["%s: no count of %s in the summary line:\n%s" % (what, CROSSED, output)]
    print("%s: %s" % (what, found.group(0)))
    if int(found.group(1)) == 0:
        return ["%s: no particle crossed between ranks (0 %s): the run does not test the path between ranks" % (what, CROSSED)]
    return []


# 0: bit for bit; > 0: floating-point values to this relative tolerance (--tolerance).
TOLERANCE = 0.0
ITERATION_SLACK = 2  # Krylov iterations per step: PFMG on P boxes vs one box, rounding of the stopping test
LARGEST = {"relative": 0.0}  # the largest difference / max(1, |values|) seen with --tolerance


def close(a, b, name=""):
    """Within TOLERANCE of max(1, max|b|), per column of a compound table or a 2D table, else over the dataset."""
    if a.dtype.names:
        return all(same_bits(a[column], b[column], column) for column in a.dtype.names)
    if a.ndim == 2 and a.shape[0] > 0 and a.shape[1] < 64:  # a table: rows of columns
        return all(close(a[:, j], b[:, j]) for j in range(a.shape[1]))
    if a.dtype.kind != "f":
        return np.array_equal(a, b)
    if name.endswith("iterations"):
        return bool(np.all(np.abs(a - b) <= ITERATION_SLACK))
    finite = np.isfinite(b)
    if not np.array_equal(finite, np.isfinite(a)) or not np.array_equal(a[~finite], b[~finite]):
        return False
    scale = np.max(np.abs(b[finite])) if finite.any() else 0.0
    difference = np.max(np.abs(a[finite] - b[finite])) if finite.any() else 0.0
    # The measure the test passes on: relative to max(1, |values|) (a column near 0, as min q of ~1e-62,
    # is compared absolutely; its difference relative to itself said "1e18" and meant nothing).
    LARGEST["relative"] = max(LARGEST["relative"], difference / max(1.0, scale))
    return bool(difference <= TOLERANCE * max(1.0, scale))


def same_bits(a, b, name=""):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if TOLERANCE > 0 and (a.dtype.kind == "f" or a.dtype.names):
        return close(a, b, name)
    if a.dtype.kind == "f":
        return np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))
    return np.array_equal(a, b)


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def same_xdmf(text_a, text_b):
    """The same text, or (with --tolerance) the same text around numbers within TOLERANCE of each other."""
    if text_a == text_b:
        return True
    if TOLERANCE == 0 or NUMBER.sub("#", text_a) != NUMBER.sub("#", text_b):
        return False
    numbers_a = [float(x) for x in NUMBER.findall(text_a)]
    numbers_b = [float(x) for x in NUMBER.findall(text_b)]
    return all(abs(x - y) <= TOLERANCE * max(abs(y), 1.0) for x, y in zip(numbers_a, numbers_b))


def compare_attributes(x, y, where, problems):
    keys = (set(x.attrs) | set(y.attrs)) - EXECUTION_ATTRIBUTES
    for k in sorted(keys):
        if k not in x.attrs or k not in y.attrs:
            problems.append("%s: attribute %s only in one" % (where, k))
        elif not same_bits(x.attrs[k], y.attrs[k]):
            problems.append("%s: attribute %s differs: %r vs %r" % (where, k, x.attrs[k], y.attrs[k]))


def compare_h5(path_a, path_b, problems):
    """Every object (external links followed) of two files: the same names, shapes, bits and attributes."""
    seen = {"count": 0}

    def visit(ga, gb, where):
        compare_attributes(ga, gb, where, problems)
        names_a, names_b = set(ga.keys()), set(gb.keys())
        if names_a != names_b:
            problems.append("%s: members differ: %s vs %s" % (where, sorted(names_a ^ names_b), ""))
        for name in sorted(names_a & names_b):
            a, b = ga[name], gb[name]
            here = where + "/" + name
            if isinstance(a, h5py.Group) and isinstance(b, h5py.Group):
                visit(a, b, here)
            elif isinstance(a, h5py.Dataset) and isinstance(b, h5py.Dataset):
                seen["count"] += 1
                compare_attributes(a, b, here, problems)
                if not same_bits(a[()], b[()], name):
                    problems.append("%s: values differ (max |diff| %g)" % (here, np.max(np.abs(a[()] - b[()]))
                                                                          if a.shape == b.shape else float("nan")))
            else:
                problems.append("%s: a group in one file, a dataset in the other" % here)

    with h5py.File(path_a, "r") as fa, h5py.File(path_b, "r") as fb:
        visit(fa, fb, os.path.basename(path_a))
    return seen["count"]


def compare_outputs(dir_a, dir_b, name):
    problems = []
    datasets = compare_h5(os.path.join(dir_a, name + ".h5"), os.path.join(dir_b, name + ".h5"), problems)
    # The snapshot files (NNNNNN.h5); diagnostics rows files are compared through the main file's links,
    # and a restarted output keeps its checkpoint (as on one rank).
    def snapshot_files(d):
        return sorted(f for f in os.listdir(os.path.join(d, name + ".h5.d")) if f[:6].isdigit())
    snapshots_a, snapshots_b = snapshot_files(dir_a), snapshot_files(dir_b)
    if snapshots_a != snapshots_b:
        problems.append("snapshot files differ: %s vs %s" % (snapshots_a, snapshots_b))
    for f in sorted(set(snapshots_a) & set(snapshots_b)):
        if f.endswith(".h5"):
            datasets += compare_h5(os.path.join(dir_a, name + ".h5.d", f), os.path.join(dir_b, name + ".h5.d", f),
                                   problems)
    xmf_a = open(os.path.join(dir_a, name + ".xmf")).read()
    xmf_b = open(os.path.join(dir_b, name + ".xmf")).read()
    if not same_xdmf(xmf_a, xmf_b):
        problems.append("the XDMF differs")
    return problems, datasets


def physics_problems(directory, name):
    """Mass conserved to round-off (1e-12 relative), min >= 0, energy non-increasing (to 1e-12 of its
    size) in /diagnostics of one run."""
    with h5py.File(os.path.join(directory, name + ".h5"), "r") as f:
        mass, low, energy = (f["diagnostics/" + c][()] for c in ("mass", "min", "energy"))
    problems = []
    drift = np.max(np.abs(mass - mass[0])) / abs(mass[0])
    if not drift <= 1e-12:
        problems.append("mass drifts by %g relative" % drift)
    if not np.min(low) >= 0:
        problems.append("negative density %g" % np.min(low))
    rise = np.max(np.diff(energy)) if len(energy) > 1 else 0.0
    if not rise <= 1e-12 * np.max(np.abs(energy)):
        problems.append("energy rises by %g" % rise)
    if len(mass) < 3:
        problems.append("only %d diagnostics rows" % len(mass))
    return problems


def rank_processes(mpirun_pid):
    """The wgflow processes mpirun started (its children), by pid."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                command = f.read()
        except OSError:
            continue
        if int(fields[1]) == mpirun_pid and b"wgflow" in command:
            pids.append(int(entry))
    return sorted(pids)


def interrupt_after_snapshot(command, cwd, snapshot_file):
    """Starts the run; once snapshot_file exists sends SIGTERM to ONE of its ranks (the last started):
    the stop must be agreed by all ranks at the same step. (A signal to mpirun reaches every rank as
    SIGTERM too, but only ~2 s later here.) Returns the run's exit code and output."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while not os.path.exists(os.path.join(cwd, snapshot_file)) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.002)
    ranks = rank_processes(proc.pid)
    if proc.poll() is None:
        if ranks:
            os.kill(ranks[-1], signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=240)
    return proc.returncode, out


def kill_job(command, cwd, seconds, after_file=None):
    """Starts the job and SIGKILLs mpirun and all its ranks at once `seconds` after it started (after
    `after_file` appeared, if given): what a batch system does to a job past its time. Returns True if
    the job was still running when killed."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if after_file is not None:
        give_up = time.time() + 240
        while not os.path.exists(os.path.join(cwd, after_file)) and proc.poll() is None and time.time() < give_up:
            time.sleep(0.001)
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.001)
    running = proc.poll() is None
    if running:
        for pid in rank_processes(proc.pid) + [proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    proc.wait(timeout=60)
    return running


def killed_across(mpiexec, wgflow, options, work, kills):
    """--kill-across: K SIGKILLs of the whole job, each at a random moment shortly after a randomly chosen
    one of the next few snapshots appeared (so that it lands while the job runs, inside a write or between
    writes), each continued by --restart on 1, 2, 3 ranks in turn; then a last restart to the end."""
    import random
    seed = int(time.time())
    rng = random.Random(seed)
    here = os.path.join(work, "killed")
    os.makedirs(here)
    landed = 0
    command = mpirun(mpiexec, 4, 1) + [wgflow, "run", *options, "--threads", "1", "--quiet", "--out", "run.h5"]
    for attempt in range(kills):
        written = os.path.join(here, "run.h5.d")
        done = len([f for f in os.listdir(written) if f[:6].isdigit()]) if os.path.isdir(written) else 0
        target = os.path.join("run.h5.d", "%06d.h5" % (done + rng.randint(0, 3)))
        if kill_job(command, here, rng.uniform(0.0, 0.05), target):
            landed += 1
        ranks = 1 + attempt % 3
        command = mpirun(mpiexec, ranks, 1) + [wgflow, "run", "--restart", "run.h5", "--threads", "1", "--quiet"]
    run(command, here, "the last restart after %d kills" % kills)
    return here, landed, seed


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    head, options = sys.argv[1:split], sys.argv[split + 1:]
    restart_across = "--restart-across" in head
    rank_counts = (2, 3, 4)
    if "--ranks" in head:
        at = head.index("--ranks")
        rank_counts = tuple(int(p) for p in head[at + 1].split(","))
        del head[at:at + 2]
    if "--tolerance" in head:
        global TOLERANCE
        at = head.index("--tolerance")
        TOLERANCE = float(head[at + 1])
        del head[at:at + 2]
    if "--iteration-slack" in head:
        global ITERATION_SLACK
        at = head.index("--iteration-slack")
        ITERATION_SLACK = int(head[at + 1])
        del head[at:at + 2]
    if "--crossed" in head:
        global CROSSED
        at = head.index("--crossed")
        CROSSED = head[at + 1]
        if CROSSED not in CROSSING_TEXT:
            sys.exit("--crossed: hand-overs or migrations (got %s)" % CROSSED)
        del head[at:at + 2]
    kills = 0
    if "--kill-across" in head:
        at = head.index("--kill-across")
        kills = int(head[at + 1])
        del head[at:at + 2]
    mpiexec, wgflow, work = [a for a in head if a != "--restart-across"]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    reference = os.path.join(work, "serial")
    os.makedirs(reference)
    os.environ["OMP_WAIT_POLICY"] = "passive"
    run([wgflow, "run", *options, "--threads", "2", "--quiet", "--out", "run.h5"], reference, "serial run")
    failures = []
    quiet = [] if CROSSED else ["--quiet"]  # --crossed reads the summary line
    for ranks in rank_counts:
        here = os.path.join(work, "np%d" % ranks)
        os.makedirs(here)
        seconds, output = run(mpirun(mpiexec, ranks, 1) + [wgflow, "run", *options, "--threads", "1", *quiet, "--out", "run.h5"],
                              here, "run on %d ranks" % ranks)
        if ranks > 1:
            failures += crossing_problems(output, "np %d" % ranks)
        problems, datasets = compare_outputs(reference, here, "run")
        print("np %d: %d datasets compared, %d differences (%.1f s)" % (ranks, datasets, len(problems), seconds))
        if datasets < 3:
            failures.append("np %d: only %d datasets compared" % (ranks, datasets))
        failures += ["np %d: %s" % (ranks, p) for p in problems[:10]]
        if TOLERANCE > 0:
            failures += ["np %d: %s" % (ranks, p) for p in physics_problems(here, "run")]

    if restart_across:
        stopped = os.path.join(work, "stopped")
        os.makedirs(stopped)
        code, out = interrupt_after_snapshot(
            mpirun(mpiexec, 4, 1) + [wgflow, "run", *options, "--threads", "1", "--quiet", "--out", "run.h5"], stopped,
            os.path.join("run.h5.d", "000001.h5"))
        # The interruption must have happened: a checkpoint, not a finished run.
        if code == 0 or not os.path.exists(os.path.join(stopped, "run.h5.d", "checkpoint.h5")):
            failures.append("the 4-rank run was not interrupted (exit %d, no checkpoint)\n%s" % (code, out))
        else:
            for ranks in (1, 2, 3):
                here = os.path.join(work, "restart_np%d" % ranks)
                shutil.copytree(stopped, here)
                _, output = run(mpirun(mpiexec, ranks, 1) + [wgflow, "run", "--restart", "run.h5", "--threads", "1", *quiet],
                                here, "restart on %d ranks" % ranks)
                if ranks > 1:
                    failures += crossing_problems(output, "restart on %d ranks" % ranks)
                problems, datasets = compare_outputs(reference, here, "run")
                print("restart of a 4-rank run on %d ranks: %d datasets compared, %d differences" %
                      (ranks, datasets, len(problems)))
                failures += ["restart on %d ranks: %s" % (ranks, p) for p in problems[:10]]

    if kills > 0:
        here, landed, seed = killed_across(mpiexec, wgflow, options, work, kills)
        problems, datasets = compare_outputs(reference, here, "run")
        print("%d SIGKILLs of the job (%d while it ran; seed %d), restarted on 1-3 ranks: %d datasets compared, "
              "%d differences" % (kills, landed, seed, datasets, len(problems)))
        if landed < kills // 2:
            failures.append("only %d of %d kills landed while the job ran (seed %d)" % (landed, kills, seed))
        failures += ["killed and restarted: %s" % p for p in problems[:10]]

    if TOLERANCE > 0:
        failures += ["serial: %s" % p for p in physics_problems(reference, "run")]
        print("largest difference relative to max(1, |values|): %.2e" % LARGEST["relative"])
    if failures:
        sys.exit("\n".join(failures))
    if TOLERANCE > 0:
        print("decomposed runs equal the serial run to %g relative" % TOLERANCE)
    else:
        print("decomposed runs equal the serial run bit for bit")


if __name__ == "__main__":
    main()
