#!/usr/bin/python3
"""The outputs written on P ranks equal those written on one rank, value by value and in layout.

    /usr/bin/python3 tests/mpi/compare_outputs.py REFERENCE_DIR DIR [DIR ...]

Each DIR holds 1d.h5, 2d.h5, 3d.h5 as tests/mpi/output_mpi.cpp writes them (REFERENCE_DIR on one
rank). For every output: the XDMF sidecars are the same text; the snapshot directories hold the
same files; and every file (the main file with its external links followed, each snapshot file, the
checkpoint, the diagnostics files) has the same groups, links, datasets (type, shape, layout, every
value bit for bit) and attributes. Prints `compare: N outputs equal` last; exits 1 on a difference.
"""
import os
import sys

import h5py
import numpy as np

CASES = ("1d", "2d", "3d")


def bits(value):
    a = np.asarray(value)
    if a.dtype.kind == "f":
        return (a.dtype.str, a.shape, a.tobytes())
    if a.dtype.kind in "OSU":
        return (a.dtype.kind, a.shape, [x.decode() if isinstance(x, bytes) else str(x) for x in a.reshape(-1)])
    return (a.dtype.str, a.shape, a.tobytes())


def describe(node, follow):
    """Everything h5py sees below `node`, as a dict path -> comparable description."""
    out = {}

    def attrs(obj, path):
        for key in sorted(obj.attrs.keys()):
            if path == "/" and key in ("ranks", "threads"):
                continue  # how the run executed (wgflow info), not what it wrote
            out[f"{path}@{key}"] = bits(obj.attrs[key])

    def walk(group, path):
        attrs(group, path or "/")
        for name in sorted(group.keys()):
            link = group.get(name, getlink=True)
            child = f"{path}/{name}"
            if isinstance(link, h5py.ExternalLink):
                out[child + " (link)"] = ("external", link.filename, link.path)
                if not follow:
                    continue
            obj = group[name]
            if isinstance(obj, h5py.Group):
                walk(obj, child)
            else:
                plist = obj.id.get_create_plist()
                out[child] = ("dataset", obj.dtype.str, obj.shape, plist.get_layout(), obj.chunks,
                              obj.compression, np.asarray(obj[()]).tobytes())
                attrs(obj, child)

    walk(node, "")
    return out


def compare_file(reference, candidate, follow, problems):
    with h5py.File(reference, "r") as a, h5py.File(candidate, "r") as b:
        da, db = describe(a, follow), describe(b, follow)
    for key in sorted(set(da) | set(db)):
        if key not in da or key not in db:
            problems.append(f"{candidate}: {key} only in {'reference' if key in da else 'this file'}")
        elif da[key] != db[key]:
            problems.append(f"{candidate}: {key} differs from {reference}")


def compare_output(ref_dir, dir_, case, problems):
    ref_main, main = os.path.join(ref_dir, case + ".h5"), os.path.join(dir_, case + ".h5")
    with open(os.path.join(ref_dir, case + ".xmf")) as f, open(os.path.join(dir_, case + ".xmf")) as g:
        if f.read() != g.read():
            problems.append(f"{dir_}/{case}.xmf: not the reference's text")
    compare_file(ref_main, main, True, problems)
    ref_files = sorted(os.listdir(ref_main + ".d"))
    files = sorted(os.listdir(main + ".d"))
    if ref_files != files:
        problems.append(f"{main}.d holds {files}, the reference {ref_files}")
    for name in set(ref_files) & set(files):
        compare_file(os.path.join(ref_main + ".d", name), os.path.join(main + ".d", name), False, problems)
    return "checkpoint.h5" in files and "000002.h5" in files


def main():
    if len(sys.argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    problems = []
    compared = 0
    for dir_ in sys.argv[2:]:
        for case in CASES:
            if not compare_output(sys.argv[1], dir_, case, problems):
                problems.append(f"{dir_}/{case}.h5: no checkpoint or third snapshot to compare")
            compared += 1
    for p in problems[:40]:
        print("FAIL", p)
    print(f"compare: {len(problems)} differences in {compared} outputs" if problems else f"compare: {compared} outputs equal")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
