#!/usr/bin/env bash
# Installs wgflow's build and test dependencies from Debian packages, only those that are missing.
# Idempotent: a second run installs nothing and does not touch the network.
# --with-paraview adds ParaView 5.11 with its Python (tests/paraview, scripts/render_snapshot.py) and
# Xvfb for screenshots: 165 packages, about 150 MB to download (800 MB installed), 2-3 minutes.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libhdf5-dev hdf5-tools libboost-program-options-dev doctest-dev
  libfftw3-dev libfftw3-mpi-dev libmuparser-dev
  libhypre-dev libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  python3-h5py python3-numpy python3-matplotlib
)
for arg in "$@"; do
  case "$arg" in
    --with-paraview) packages+=(paraview python3-paraview xvfb xauth) ;;
    *) echo "install-deps: unknown option $arg (known: --with-paraview)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
