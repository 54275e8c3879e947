#!/usr/bin/env bash
# The runs behind BENCHMARKS.md: for each model, ONNX Runtime in process (the limit), then the server with batching
# off and on, over REST (Open Inference JSON) and gRPC (raw contents), at concurrency 1, 8 and 32.
# Usage: bash ServingStack.Bench/run-benchmarks.sh [duration, default 5s] [models, default "mnist wide resnet18"]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-5s}
models=${2:-mnist wide resnet18}
out=bench-results/$(date -u +%Y%m%dT%H%M%SZ)
models_dir=bench-models
mkdir -p "$out"

dotnet build ServingStack.Bench -c Release -v q -nologo
dotnet build ServingStack.Inference -c Release -v q -nologo
bench="dotnet ServingStack.Bench/bin/Release/net10.0/ServingStack.Bench.dll"
server_dll=ServingStack.Inference/bin/Release/net10.0/ServingStack.Inference.dll
[ -f "$models_dir/models.json" ] || $bench make-models --output "$models_dir"

cat > "$out/batching.json" <<'JSON'
{ "max_batch_size": 32, "batch_timeout_micros": 0, "max_enqueued_batches": 64, "num_batch_threads": 1 }
JSON

server_pid=
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
trap stop_server EXIT

start_server() { # $@: extra flags
  Logging__LogLevel__Default=Warning dotnet "$server_dll" --model_config_file="$PWD/$models_dir/models.json" \
    --rest_api_port=18501 --port=18500 --listen_address=127.0.0.1 "$@" > "$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -sf http://127.0.0.1:18501/ready > /dev/null && return 0
    sleep 0.5
  done
  echo "server did not become ready" >&2; cat "$out/server.log" >&2; exit 1
}

for model in $models; do
  $bench inproc --model-file "$models_dir/$model/1/model.onnx" --batch-sizes 1,4,16,32 \
    --duration "$duration" --warmup 2s --output "$out/$model" --label "onnxruntime in process"
done

for mode in off on; do
  flags=()
  [ "$mode" = on ] && flags=(--enable_batching=true --batching_parameters_file="$PWD/$out/batching.json")
  start_server "${flags[@]}"
  for model in $models; do
    $bench run --protocol grpc --raw --url http://127.0.0.1:18500 --model "$model" --concurrency 1,8,32 \
      --duration "$duration" --warmup 2s --output "$out/$model" --label "grpc raw, batching $mode"
    $bench run --protocol rest --url http://127.0.0.1:18501 --model "$model" --concurrency 1,8,32 \
      --duration "$duration" --warmup 2s --output "$out/$model" --label "rest v2, batching $mode"
  done
  stop_server
done

echo "results in $out"
