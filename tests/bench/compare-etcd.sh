#!/usr/bin/env bash
# billflow beside etcd on this machine, in one run: the same closed loop
# (CLIENTS clients, one write each, each waiting for its answer) against a
# 3-member etcd cluster on loopback (a 256-byte put, first through etcd's
# native gRPC API on one HTTP/2 connection per member, as etcd's clients send
# it, then through its JSON gateway) and a 3-voter billflow devnet (a signed
# evidence transaction, executed in WASM and replicated). Prints each and
# billflow's ratio to each; the JSON of each run goes to OUT_DIR.
#
#   tests/bench/compare-etcd.sh [CLIENTS [DURATION_S [OUT_DIR]]]
#
# Installs Debian's etcd-server (and protoc, which etcd's gRPC client is built with) if missing, builds release binaries, and
# stops everything it started, whatever happens. Loopback only.
set -euo pipefail
CLIENTS=${1:-256}
DURATION=${2:-60}
OUT=${3:-target/bench}
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"

dpkg -s etcd-server protobuf-compiler >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y -qq etcd-server protobuf-compiler; }
cargo build --release --locked -p billflow-node -p billflow-devnet -p billflow-tests --bins
BENCH=target/release/billflow-bench

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# etcd: three members on loopback, default durability (fsync per commit).
CLUSTER=m1=http://127.0.0.1:23801,m2=http://127.0.0.1:23802,m3=http://127.0.0.1:23803
for i in 1 2 3; do
  etcd --name "m$i" --data-dir "$WORK/etcd$i" \
    --listen-client-urls "http://127.0.0.1:2379$i" --advertise-client-urls "http://127.0.0.1:2379$i" \
    --listen-peer-urls "http://127.0.0.1:2380$i" --initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
    --initial-cluster "$CLUSTER" --initial-cluster-state new --log-level error \
    >"$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
done
ETCD_PIDS=("${PIDS[@]}")
for _ in $(seq 60); do
  curl -sf http://127.0.0.1:23791/health | grep -q '"health":"true"' && break
  sleep 0.5
done
curl -sf http://127.0.0.1:23791/health | grep -q '"health":"true"' || { echo "etcd did not become healthy"; cat "$WORK"/etcd*.log; exit 1; }
ENDPOINTS=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793
MEMBERS=(--pid "${ETCD_PIDS[0]}" --pid "${ETCD_PIDS[1]}" --pid "${ETCD_PIDS[2]}")
echo "etcd over gRPC: $CLIENTS clients, ${DURATION} s"
$BENCH --workload etcd-grpc --etcd "$ENDPOINTS" --clients "$CLIENTS" --duration-s "$DURATION" "${MEMBERS[@]}" \
  --json >"$OUT/etcd-grpc.json"
echo "etcd over its JSON gateway: $CLIENTS clients, ${DURATION} s"
$BENCH --workload etcd --etcd "$ENDPOINTS" --clients "$CLIENTS" --duration-s "$DURATION" "${MEMBERS[@]}" \
  --json >"$OUT/etcd.json"
for p in "${ETCD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done

# billflow: a 3-voter devnet, the evidence workload.
target/release/billflow-devnet --base-port 7600 --voters 3 --observers 0 --dir "$WORK/devnet" --rate-per-s 1000000 \
  >"$WORK/devnet.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 240); do grep -q '^ready:' "$WORK/devnet.log" && break; sleep 0.5; done
grep -q '^ready:' "$WORK/devnet.log" || { echo "the devnet did not become ready"; cat "$WORK/devnet.log"; exit 1; }
echo "billflow evidence: $CLIENTS clients, ${DURATION} s"
$BENCH --devnet-json "$WORK/devnet/devnet.json" --workload evidence --clients "$CLIENTS" --duration-s "$DURATION" \
  --json >"$OUT/billflow-evidence.json"

python3 - "$OUT/etcd-grpc.json" "$OUT/etcd.json" "$OUT/billflow-evidence.json" <<'EOF'
import json, sys
grpc, etcd, bf = (json.load(open(p)) for p in sys.argv[1:4])
print(f"{'':16}{'etcd gRPC':>12}{'etcd JSON':>12}{'billflow':>12}{'/ gRPC':>9}{'/ JSON':>9}")
for key, label in [("committed_per_s", "committed/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("max_ms", "max ms")]:
    g, e, b = grpc[key], etcd[key], bf[key]
    print(f"{label:16}{g:>12.1f}{e:>12.1f}{b:>12.1f}{(b / g if g else 0):>9.2f}{(b / e if e else 0):>9.2f}")
print("host: one core's ed25519 checks a second at each run's start: "
      + ", ".join(f"{run['host_ed25519_verify_per_s']:.0f}" for run in (grpc, etcd, bf)))
for run in (grpc, etcd, bf):
    cpu = sum(n["cpu_s"] or 0 for n in run["nodes"])
    rss = max((n["peak_rss_mb"] or 0 for n in run["nodes"]), default=0)
    print(f"{run['workload']:>10}: {run['committed']} committed, {run['errors']} errors, "
          f"cluster CPU {cpu:.1f} s, largest peak RSS {rss:.0f} MB")
EOF
