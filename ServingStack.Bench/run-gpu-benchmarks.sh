#!/usr/bin/env bash
# The GPU runs behind BENCHMARKS.md's "GPU" section: publishes the server self-contained for linux-x64 (ONNX Runtime's
# CUDA provider is in the package), starts it with --execution_provider=cuda, checks that the models really run on CUDA
# (a silent CPU fallback would make every number a lie), and measures ResNet18 and the wide MLP at batch 1, 8, 32 and 64:
#   - ONNX Runtime CUDA in process (bench inproc --provider cuda): the limit;
#   - the server over gRPC (raw contents), batching off, one request carrying the whole batch (--rows-per-request N);
#   - the server over gRPC, batching on (max_batch_size 64), N concurrent one-row requests.
# The table is written between the gpu-results markers in BENCHMARKS.md; raw results stay in bench-results/gpu-*.
#
# Usage: bash ServingStack.Bench/run-gpu-benchmarks.sh [--dry-run] [--duration 10s] [--device-id 0] [--models "resnet18 wide"]
#   --dry-run  the same steps on CPU (no publish, no GPU needed, short steps), table printed and BENCHMARKS.md untouched:
#              checks the script end to end on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=false
duration=10s
warmup=3s
device_id=0
models="resnet18 wide"
batches="1 8 32 64"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --duration) duration=$2; shift ;;
    --device-id) device_id=$2; shift ;;
    --models) models=$2; shift ;;
    --batches) batches=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

provider=cuda
if $dry_run; then
  provider=cpu
  duration=${DRY_RUN_DURATION:-3s}
  warmup=1s
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=bench-results/gpu-$stamp
models_dir=bench-models
grpc_port=${GPU_BENCH_GRPC_PORT:-18600}
rest_port=${GPU_BENCH_REST_PORT:-18601}
mkdir -p "$out"
log() { echo "[$(date -u +%T)] $*"; }

if ! $dry_run; then
  command -v nvidia-smi > /dev/null || { echo "nvidia-smi not found: this script measures a GPU (use --dry-run to check it on CPU)" >&2; exit 1; }
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
fi

log "building the bench tool"
dotnet build ServingStack.Bench -c Release -v q -nologo
bench="dotnet ServingStack.Bench/bin/Release/net10.0/ServingStack.Bench.dll"
[ -f "$models_dir/models.json" ] || $bench make-models --output "$models_dir"

if $dry_run; then
  # The published server is what a GPU node runs; on CPU the framework-dependent build is the same code.
  log "dry run: building the server (no self-contained publish)"
  dotnet build ServingStack.Inference -c Release -v q -nologo
  server=(dotnet ServingStack.Inference/bin/Release/net10.0/ServingStack.Inference.dll)
else
  log "publishing the server self-contained for linux-x64"
  dotnet publish ServingStack.Inference -c Release -r linux-x64 --self-contained -v q -nologo -o "$out/server"
  server=("$out/server/ServingStack.Inference")
fi

max_batch=0
for n in $batches; do [ "$n" -gt "$max_batch" ] && max_batch=$n; done
cat > "$out/batching.json" <<JSON
{ "max_batch_size": $max_batch, "batch_timeout_micros": 0, "max_enqueued_batches": 64, "num_batch_threads": 1 }
JSON
config_models=""
for model in $models; do
  config_models="$config_models${config_models:+, }{ \"name\": \"$model\", \"base_path\": \"$PWD/$models_dir/$model\" }"
done
echo "{ \"model_config_list\": [ $config_models ] }" > "$out/models.json"

server_pid=
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=; fi; }
trap stop_server EXIT

start_server() { # $@: extra flags
  Logging__LogLevel__Default=Warning "${server[@]}" --model_config_file="$PWD/$out/models.json" \
    --execution_provider=$provider --device_id="$device_id" \
    --rest_api_port=$rest_port --port=$grpc_port --listen_address=127.0.0.1 "$@" >> "$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited" >&2; tail -20 "$out/server.log" >&2; exit 1; }
    curl -sf "http://127.0.0.1:$rest_port/ready" > /dev/null && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$rest_port/ready" > /dev/null || { echo "the server did not become ready" >&2; tail -20 "$out/server.log" >&2; exit 1; }
  for model in $models; do
    # The provider each model really got; a CUDA fallback names its reason and stops the run.
    metadata=$(curl -sf "http://127.0.0.1:$rest_port/v1/models/$model/metadata")
    echo "$metadata" > "$out/metadata-$model.json"
    if ! echo "$metadata" | tr -d ' \n' | grep -q "\"provider\":\"$(echo $provider | tr '[:lower:]' '[:upper:]')\""; then
      echo "model $model is not running on $provider:" >&2
      echo "$metadata" | tr -d '\n' | grep -o '"fallback_reason":"[^"]*"' >&2 || echo "$metadata" >&2
      exit 1
    fi
  done
}

csv_batches=$(echo $batches | tr ' ' ',')
for model in $models; do
  log "$model: ONNX Runtime $provider in process, batch $csv_batches"
  $bench inproc --model-file "$models_dir/$model/1/model.onnx" --provider $provider --device-id "$device_id" \
    --batch-sizes "$csv_batches" --duration "$duration" --warmup "$warmup" --output "$out/$model" --label "onnxruntime $provider in process"
done

log "server, batching off"
start_server
for model in $models; do
  for n in $batches; do
    $bench run --protocol grpc --raw --url "http://127.0.0.1:$grpc_port" --model "$model" --rows-per-request "$n" --concurrency 1 \
      --duration "$duration" --warmup "$warmup" --output "$out/$model" --label "grpc raw - batching off - one request of N rows"
  done
done
stop_server

log "server, batching on (max_batch_size $max_batch)"
start_server --enable_batching=true --batching_parameters_file="$PWD/$out/batching.json"
for model in $models; do
  $bench run --protocol grpc --raw --url "http://127.0.0.1:$grpc_port" --model "$model" --concurrency "$csv_batches" \
    --duration "$duration" --warmup "$warmup" --output "$out/$model" --label "grpc raw - batching on - N one-row requests"
done
stop_server

# One table: rows/s (p50 ms) per model and way of running, by batch (in process and one request of N rows) or
# concurrency (batching on: N one-row requests in flight).
table=$out/table.md
{
  echo "Run: \`bash ServingStack.Bench/run-gpu-benchmarks.sh --duration $duration\` on $(date -u +%Y-%m-%d)$($dry_run && echo ' (DRY RUN ON CPU)')."
  [ -f "$out/gpu.txt" ] && echo "GPU: $(cat "$out/gpu.txt")."
  echo
  header="| model | how |"; rule="|---|---|"
  for n in $batches; do header="$header N=$n |"; rule="$rule---|"; done
  echo "$header"; echo "$rule"
  for model in $models; do
    awk -F, -v model="$model" -v batches="$batches" '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      {
        n = ($col["label"] ~ /batching on/) ? $col["concurrency"] : $col["batch_size"]
        if (!($col["label"] in seen)) { seen[$col["label"]] = 1; order[++labels] = $col["label"] }
        cell[$col["label"], n] = sprintf("%.0f (%.2f)", $col["rows_per_s"], $col["p50_ms"])
      }
      END {
        split(batches, b, " ")
        for (l = 1; l <= labels; l++) {
          line = "| " model " | " order[l] " |"
          for (i = 1; i in b; i++) line = line " " ((order[l], b[i]) in cell ? cell[order[l], b[i]] : "") " |"
          print line
        }
      }' "$out/$model/results.csv"
  done
  echo
  echo "Cells: rows/s (p50 ms). Raw results: \`$out/*/results.csv\`."
} > "$table"

cat "$table"
if $dry_run; then
  log "dry run: BENCHMARKS.md left as it is; table in $table"
else
  start_marker='<!-- gpu-results:start -->'
  end_marker='<!-- gpu-results:end -->'
  grep -q "$start_marker" BENCHMARKS.md || { echo "BENCHMARKS.md has no $start_marker marker" >&2; exit 1; }
  awk -v start="$start_marker" -v end="$end_marker" -v table="$table" '
    $0 == start { print; while ((getline line < table) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' BENCHMARKS.md > "$out/BENCHMARKS.md.new"
  mv "$out/BENCHMARKS.md.new" BENCHMARKS.md
  log "BENCHMARKS.md updated (GPU section)"
fi
