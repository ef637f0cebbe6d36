#!/bin/sh
# Bad input to wgflow run on more than one rank: exactly one error line (from rank 0), a non-zero exit (2 for bad input) within seconds, and
# no output written.
# usage: check_refused.sh MPIEXEC WGFLOW WORKDIR
set -u
mpiexec=$1 wgflow=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1

# refused_once WHAT EXPECTED_CODE LINE_PREFIX OUTPUT ARGS...: 3 ranks, one matching error line, no output.
refused_once() {
  what=$1 expected=$2 prefix=$3 output=$4
  shift 4
  out=$("$mpiexec" --oversubscribe --allow-run-as-root -np 3 "$wgflow" run "$@" --out "$output" 2>&1)
  code=$?
  lines=$(printf '%s\n' "$out" | grep -c "^$prefix")
  printf '%s\n' "$out" | grep '^wgflow: error: '
  case $expected in
    nonzero) [ "$code" -ne 0 ] || { echo "$what: exit code 0"; exit 1; } ;;
    *) [ "$code" -eq "$expected" ] || { echo "$what: exit code $code, not $expected"; exit 1; } ;;
  esac
  [ "$lines" -eq 1 ] || { echo "$what: $lines error lines"; printf "%s\n" "$out"; exit 1; }
  [ ! -e "$output" ] || { echo "$what: an output was written"; exit 1; }
}

# Errors found while setting up a decomposed run: a missing input file, a potential that is bad in
# some ranks' boxes only (the lowest such rank's message, on every rank).
refused_once "missing initial file" 2 "wgflow: error: --initial file:$dir/none.h5: no such file" "$dir/f.h5" --n 16 --initial "file:$dir/none.h5"
refused_once "potential bad in one box" 2 'wgflow: error: --potential: V = -nan at x = (-4.833333)' "$dir/v.h5" --case fokker-planck --n 30 --potential 'log(x)'
refused_once "bad input" 2 'wgflow: error: --n: ' "$dir/bad.h5" --n -1
# What decomposed runs cannot do yet, and more ranks than the grid can be split into: exit 2, one line.
refused_once "implicit eigen" 2 'wgflow: error: mpirun: 3 ranks: --linear-solver eigen is not available' "$dir/i.h5" --n 16 --stepper implicit-euler --linear-solver eigen
refused_once "too big for the machine" 2 'wgflow: error: --n: 4000^3 cells with --stepper ssp-rk3 need about' "$dir/m.h5" --dim 3 --n 4000
refused_once "too many ranks" 2 'wgflow: error: mpirun: 3 ranks: the 4 cells along y' "$dir/s.h5" --dim 2 --n 4
echo "refused once"
