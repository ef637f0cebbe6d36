#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and run the main demo — a 2D porous medium
# spreading from a Barenblatt profile — writing porous-medium-barenblatt.h5 (+ .xmf) and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
./build/cli/wgflow run --config cases/porous-medium-barenblatt.ini --overwrite
