#!/usr/bin/env bash
# Runs the whole test suite. Installs the Debian packages the tests need when they are missing, then runs
# `dotnet test Plugins.sln` and ends with one summary line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests use; later transports add theirs here.
#   gcc: compiles the native library of the plugin-loading test plugin.
#   chromium: renders the status page in the browser test.
#   nats-server: the NATS transport tests start a real one on a free loopback port.
#   libngtcp2*, libgnutls*: the QUIC transport binds them; the -dev packages let a test check struct layouts.
#   golang-go, quic-go: an independent QUIC peer the interop tests build offline.
#   libucx0, libucx-dev, ucx-utils: the UCX bulk transport binds libucp; the -dev package lets a test check layouts.
#   etcd-server: the etcd discovery tests start real etcd members (and a three-member cluster) on free loopback ports;
#   etcd-client: etcdctl, only suggested by etcd-server, to look at what the tests and nodes write by hand.
#   iproute2: ip, with which the fault tests build hosts of network namespaces on a bridge and cut their links.
packages=(gcc libc6-dev chromium nats-server etcd-server etcd-client iproute2
  libngtcp2-9 libngtcp2-crypto-gnutls2 libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls30 libgnutls28-dev
  golang-go golang-github-lucas-clemente-quic-go-dev
  libucx0 libucx-dev ucx-utils)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing missing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# node and npm: the NATS tests call the server with the official JavaScript client (nats.js), which they install with
# npm on first use. Checked by command rather than listed above: Node.js may come from elsewhere (NodeSource, nvm),
# and Debian's npm would conflict with it.
node_missing=()
command -v node >/dev/null || node_missing+=(nodejs)
command -v npm >/dev/null || node_missing+=(npm)
if [ ${#node_missing[@]} -gt 0 ]; then
  echo "Installing missing Debian packages: ${node_missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${node_missing[@]}"
fi

command -v dotnet >/dev/null || { echo "dotnet is not on PATH: install the .NET 10 SDK." >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

set +e
# Build in parallel, then run the test assemblies one after another: on a 2-core machine, assemblies racing each
# other for the CPU only make timing-dependent tests (keep-alive, deadlines, drains) slower to decide.
dotnet build Plugins.sln --nologo -v q 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  dotnet test Plugins.sln --nologo --no-build -m:1 "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
set -e

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 42, Skipped: 0, Total: 42, ...").
passed=0; failed=0; skipped=0
while IFS= read -r line; do
  f=$(sed -n 's/.*Failed: *\([0-9]\+\),.*/\1/p' <<<"$line")
  p=$(sed -n 's/.*Passed: *\([0-9]\+\),.*/\1/p' <<<"$line")
  s=$(sed -n 's/.*Skipped: *\([0-9]\+\),.*/\1/p' <<<"$line")
  failed=$((failed + ${f:-0})); passed=$((passed + ${p:-0})); skipped=$((skipped + ${s:-0}))
done < <(grep -E '^(Passed|Failed)! +- +Failed: ' "$log" || true)

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before any summary: count it as a failure.
  failed=1
fi
echo
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
