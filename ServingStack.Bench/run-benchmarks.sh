#!/usr/bin/env bash
# The runs behind BENCHMARKS.md, in one go so that every number has its floors beside it:
#   1. floors: a gRPC echo server (`bench serve-echo`, the transport) and a minimal hand-written ONNX Runtime server
#      (`bench serve-ort`), loaded with the same tool at concurrency 1, 8, 32 (MNIST);
#   2. a check of the load tool itself: `bench minimal-client` (a plain Grpc.Net.Client loop) and `bench run` at c=1,
#      both against the echo server, alternating three times; the run is marked INVALID (non-zero exit, a line in the
#      summary) when the tool's median p50 is more than 1.3x the minimal client's;
#   3. ONNX Runtime in process (`bench inproc`, the limit) at batch 1, 4, 16, 32;
#   4. the server with batching off, then on: Open Inference gRPC (raw contents), TF Serving gRPC Predict
#      (tensor_content), Open Inference REST JSON and REST with binary tensors, at concurrency 1, 8, 32;
#   5. when the wide MLP is in the run: the server tuned for its throughput (a model batching block: two batch threads of
#      at most 16 rows, 500 us timeout, one intra-op thread each), Open Inference gRPC raw, beside ONNX Runtime in process
#      running two batches at once (the same layout without the server).
# Every server (and baseline) is warmed up with unrecorded load before its first measured step: on a fresh process the
# first seconds run several times slower (tiered JIT), which a 2 s per-step warm-up on a busy box does not cover.
# The summary (ratios to the floors) is written to summary.md by summarize-benchmarks.py.
#
# Usage: bash ServingStack.Bench/run-benchmarks.sh [--quick] [duration] [models]
#   --quick: MNIST only, 1 s warm-up + 3 s per step (about 6 minutes on 2 cores); otherwise 2 s + duration (default 5s)
#   per step for each model in models (default "mnist wide resnet18").
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
if [ "${1:-}" = --quick ]; then quick=true; shift; fi
if $quick; then
  duration=${1:-3s}; models=${2:-mnist}; warmup=1s
else
  duration=${1:-5s}; models=${2:-mnist wide resnet18}; warmup=2s
fi
out=bench-results/$(date -u +%Y%m%dT%H%M%SZ)
models_dir=bench-models
mkdir -p "$out"
out=$PWD/$out
echo "run-benchmarks: quick=$quick duration=$duration warmup=$warmup models='$models' -> $out"

dotnet build ServingStack.Bench -c Release -v q -nologo
dotnet build ServingStack.Inference -c Release -v q -nologo
bench="dotnet ServingStack.Bench/bin/Release/net10.0/ServingStack.Bench.dll"
server_dll=ServingStack.Inference/bin/Release/net10.0/ServingStack.Inference.dll
# The floors run on MNIST, so it is always made; models.json must list every model the server is to load.
needed=$(echo mnist $models | tr ' ' '\n' | sort -u | paste -sd, -)
for model in ${needed//,/ }; do
  if [ ! -f "$models_dir/$model/1/model.onnx" ] || ! grep -q "\"$model\"" "$models_dir/models.json" 2> /dev/null; then
    $bench make-models --output "$models_dir" --models "$needed"
    break
  fi
done

cat > "$out/batching.json" <<'JSON'
{ "max_batch_size": 32, "batch_timeout_micros": 0, "max_enqueued_batches": 64, "num_batch_threads": 1 }
JSON

# Free loopback ports, chosen now: other servers on this machine (other sessions' tests and benchmarks) may hold the
# usual ones, and a fixed port would silently measure whatever answers there.
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
echo_port=$(free_port); ort_port=$(free_port); grpc_port=$(free_port); rest_port=$(free_port)

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

wait_log() { # $1: log file, $2: text that says the process is ready
  for _ in $(seq 1 240); do
    grep -q "$2" "$1" 2> /dev/null && return 0
    sleep 0.5
  done
  echo "not ready: $1" >&2; cat "$1" >&2; exit 1
}

# Unrecorded load at c=8 so the process under test has compiled its hot paths before anything is measured.
warm() { # $@: bench run arguments (protocol, url, model)
  $bench run "$@" --concurrency 8 --duration 3s --warmup 0s --output "$out/warmup" --label warmup > /dev/null
}

measure() { # $1: model, $2: label, rest: bench run arguments
  local model=$1 label=$2; shift 2
  $bench run "$@" --model "$model" --concurrency 1,8,32 --duration "$duration" --warmup "$warmup" \
    --output "$out/$model" --label "$label"
}

# 1 and 2: floors and the load tool check (MNIST).
mnist_file=$models_dir/mnist/1/model.onnx
$bench serve-echo --model-file "$mnist_file" --model-name mnist --port $echo_port > "$out/serve-echo.log" 2>&1 &
pids+=($!)
$bench serve-ort --model-file "$mnist_file" --model-name mnist --port $ort_port > "$out/serve-ort.log" 2>&1 &
pids+=($!)
wait_log "$out/serve-echo.log" "listening on http://127.0.0.1:$echo_port"
wait_log "$out/serve-ort.log" "listening on http://127.0.0.1:$ort_port"

warm --protocol grpc --raw --url http://127.0.0.1:$echo_port --model mnist
check_dir=$out/tool-check
for round in 1 2 3; do
  $bench minimal-client --url http://127.0.0.1:$echo_port --model mnist --duration "$duration" --warmup "$warmup" \
    | tee -a "$check_dir.minimal.txt"
  $bench run --protocol grpc --raw --url http://127.0.0.1:$echo_port --model mnist --concurrency 1 \
    --duration "$duration" --warmup "$warmup" --output "$check_dir" --label "load tool check $round" > /dev/null
done

measure mnist "baseline: grpc echo" --protocol grpc --raw --url http://127.0.0.1:$echo_port
warm --protocol grpc --raw --url http://127.0.0.1:$ort_port --model mnist
measure mnist "baseline: hand-written ort server" --protocol grpc --raw --url http://127.0.0.1:$ort_port
stop_all

# 3: ONNX Runtime in process.
for model in $models; do
  $bench inproc --model-file "$models_dir/$model/1/model.onnx" --batch-sizes 1,4,16,32 \
    --duration "$duration" --warmup "$warmup" --output "$out/$model" --label "onnxruntime in process"
done

# 4: the server, batching off and on.
for mode in off on; do
  flags=()
  [ "$mode" = on ] && flags=(--enable_batching=true --batching_parameters_file="$out/batching.json")
  Logging__LogLevel__Default=Warning dotnet "$server_dll" --model_config_file="$PWD/$models_dir/models.json" \
    --rest_api_port=$rest_port --port=$grpc_port --listen_address=127.0.0.1 "${flags[@]}" > "$out/server-batching-$mode.log" 2>&1 &
  server_pid=$!
  pids+=($server_pid)
  for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$rest_port/ready > /dev/null && break; sleep 0.5; done
  # Ready, and ours: the process we started is still running (it exits when its port is taken).
  if ! curl -sf http://127.0.0.1:$rest_port/ready > /dev/null || ! kill -0 "$server_pid" 2> /dev/null; then
    echo "server did not become ready" >&2; cat "$out/server-batching-$mode.log" >&2; exit 1
  fi
  for model in $models; do
    warm --protocol grpc --raw --url http://127.0.0.1:$grpc_port --model "$model"
    warm --protocol rest --url http://127.0.0.1:$rest_port --model "$model"
    measure "$model" "grpc raw, batching $mode" --protocol grpc --raw --url http://127.0.0.1:$grpc_port
    measure "$model" "tf-grpc tensor_content, batching $mode" --protocol tf-grpc --raw --url http://127.0.0.1:$grpc_port
    measure "$model" "rest v2 json, batching $mode" --protocol rest --url http://127.0.0.1:$rest_port
    measure "$model" "rest v2 binary, batching $mode" --protocol rest --rest-format binary --url http://127.0.0.1:$rest_port
  done
  stop_all
done

# 5: the wide MLP's throughput layout (only when it is in the run).
if [[ " $models " == *" wide "* ]]; then
  $bench inproc --model-file "$models_dir/wide/1/model.onnx" --batch-sizes 16,32 --concurrency 2 --threads 1 \
    --duration "$duration" --warmup "$warmup" --output "$out/wide" --label "onnxruntime in process, 2 runs at once"
  /usr/bin/python3 - "$PWD/$models_dir" "$out/models-wide-throughput.json" <<'PY'
import json, sys
base, target = sys.argv[1], sys.argv[2]
config = json.load(open(f"{base}/models.json"))
models = [m for m in config["model_config_list"] if m["name"] == "wide"]
for m in models:
    m["base_path"] = f"{base}/{m['base_path']}"
    m["batching"] = {"max_batch_size": 16, "batch_timeout_micros": 500, "num_batch_threads": 2, "max_enqueued_batches": 64}
    m["execution"] = {"intra_op_threads": 1}
json.dump({"model_config_list": models}, open(target, "w"), indent=2)
PY
  Logging__LogLevel__Default=Warning dotnet "$server_dll" --model_config_file="$out/models-wide-throughput.json" \
    --rest_api_port=$rest_port --port=$grpc_port --listen_address=127.0.0.1 > "$out/server-wide-throughput.log" 2>&1 &
  server_pid=$!
  pids+=($server_pid)
  for _ in $(seq 1 240); do curl -sf http://127.0.0.1:$rest_port/ready > /dev/null && break; sleep 0.5; done
  if ! curl -sf http://127.0.0.1:$rest_port/ready > /dev/null || ! kill -0 "$server_pid" 2> /dev/null; then
    echo "server did not become ready" >&2; cat "$out/server-wide-throughput.log" >&2; exit 1
  fi
  warm --protocol grpc --raw --url http://127.0.0.1:$grpc_port --model wide
  measure wide "grpc raw, batching 2 threads x 16 (500 us)" --protocol grpc --raw --url http://127.0.0.1:$grpc_port
  stop_all
fi

/usr/bin/python3 ServingStack.Bench/summarize-benchmarks.py "$out" | tee "$out/summary.md"
echo "results in $out"
# The summary says INVALID when the load tool disagreed with the minimal client; so does the exit code.
! grep -q '^INVALID' "$out/summary.md"
