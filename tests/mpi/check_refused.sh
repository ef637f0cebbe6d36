#!/bin/sh
# wgflow run on more than one rank (until the distributed run loop exists), and bad input on more than
# one rank: exactly one error line (from rank 0), a non-zero exit (2 for bad input) within seconds, and
# no output written.
# usage: check_refused.sh MPIEXEC WGFLOW WORKDIR
set -u
mpiexec=$1 wgflow=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
out=$("$mpiexec" --oversubscribe --allow-run-as-root -np 3 "$wgflow" run --n 8 --t-end 0.01 --out "$dir/run.h5" 2>&1)
code=$?
lines=$(printf '%s\n' "$out" | grep -c '^wgflow: error: ')
printf '%s\n' "$out" | grep '^wgflow: error: '
[ "$code" -ne 0 ] || { echo "exit code 0"; exit 1; }
[ "$lines" -eq 1 ] || { echo "$lines error lines"; exit 1; }
[ ! -e "$dir/run.h5" ] || { echo "an output was written"; exit 1; }
out=$("$mpiexec" --oversubscribe --allow-run-as-root -np 3 "$wgflow" run --n -1 --out "$dir/bad.h5" 2>&1)
code=$?
lines=$(printf '%s\n' "$out" | grep -c '^wgflow: error: --n: ')
printf '%s\n' "$out" | grep '^wgflow: error: '
[ "$code" -eq 2 ] || { echo "bad input: exit code $code, not 2"; exit 1; }
[ "$lines" -eq 1 ] || { echo "bad input: $lines --n error lines"; exit 1; }
[ ! -e "$dir/bad.h5" ] || { echo "bad input: an output was written"; exit 1; }
echo "refused once"
