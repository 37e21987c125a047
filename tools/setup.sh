#!/usr/bin/env bash
# tools/setup.sh — installs the Debian packages servesim needs to build and test, only the
# ones that are missing. Safe to run repeatedly; does nothing when everything is present.
# Besides the build: clang with its runtimes (libclang-rt-dev: AddressSanitizer,
# UndefinedBehaviorSanitizer, libFuzzer) for the sanitizer job (tools/sanitize.sh); gnuplot-nox draws `servesim report`'s plots; Slurm (slurmctld, slurmd,
# slurm-client, munge) runs the single-node cluster the Slurm sweep test starts
# (tools/slurm/local_cluster.sh; the daemons are not enabled or started by installing).
# Usage: tools/setup.sh            (uses sudo when not root)
set -euo pipefail

packages=(
  cmake g++ make
  libboost-dev libboost-program-options-dev libboost-graph-dev
  libyaml-cpp-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy clang libclang-rt-dev
  gnuplot-nox python3
  slurmctld slurmd slurm-client munge
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} build packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
