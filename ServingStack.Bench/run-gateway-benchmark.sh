#!/usr/bin/env bash
# Gateway overhead (BENCHMARKS.md "Gateway"): one inference server (Release, mnist from `bench make-models`) and, in
# front of it on loopback, our gateway (its defaults), a bare YARP host (`bench serve-yarp`: one route, one destination,
# nothing else) and nginx (HTTP/1.1 keepalive upstream); the same REST load direct and through each proxy, in one run,
# REPS times in turn. Each step: a short unrecorded warm-up run, then a measured run during which the proxy's CPU time
# (utime + stime from /proc/<pid>/stat, nginx's master and workers summed) is read before and after: CPU per request is
# that delta over the measured requests. summary.csv has every step; summary.md the medians and the ratios.
# Installs Debian's nginx when missing (needs root and apt).
# Usage: bash ServingStack.Bench/run-gateway-benchmark.sh [duration, default 5s] [concurrency, default 1,8,32] [reps, default 3]
# Environment: GATEWAY_VARIANTS="label=path/to/ServingStack.Gateway.dll ..." adds other gateway builds (before/after
# comparisons in one run), each with the environment in GATEWAY_ENV_<label> ("NAME=value ...") if set, e.g.
# GATEWAY_VARIANTS="nospin=ServingStack.Gateway/bin/Release/net10.0/ServingStack.Gateway.dll"
# GATEWAY_ENV_nospin="DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"; GATEWAY_SPLIT=1 gives every gateway a split of mnist (stable 90 / canary 10, both on the
# one server) so the split, its metrics and canary analysis are on the measured path; YARP_ENV ("NAME=value ...") adds
# settings to the bare YARP host (which runs with server GC, the Web SDK's default for a web app).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-5s}
concurrency=${2:-1,8,32}
reps=${3:-3}
out=bench-results/gateway-$(date -u +%Y%m%dT%H%M%SZ)
models_dir=bench-models
server_port=28501
gateway_port=28601
yarp_port=28801
nginx_port=28701
mkdir -p "$out"
out=$PWD/$out

command -v nginx > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx > /dev/null; }

dotnet build ServingStack.Bench -c Release -v q -nologo
dotnet build ServingStack.Inference -c Release -v q -nologo
dotnet build ServingStack.Gateway -c Release -v q -nologo
bench="dotnet ServingStack.Bench/bin/Release/net10.0/ServingStack.Bench.dll"
[ -f "$models_dir/models.json" ] || $bench make-models --output "$models_dir" --models mnist

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

wait_ready() { # $1: url, $2: log
  for _ in $(seq 1 240); do
    curl -sf "$1" > /dev/null && return 0
    sleep 0.5
  done
  echo "$1 did not become ready" >&2; cat "$2" >&2; exit 1
}

# CPU ticks (utime + stime) of a process and its children (nginx's workers).
cpu_ticks() { # $1: pid
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    # Fields 14 and 15, counted after the command name's closing parenthesis (a name may hold spaces).
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

export Logging__LogLevel__Default=Warning
dotnet ServingStack.Inference/bin/Release/net10.0/ServingStack.Inference.dll --model_config_file="$PWD/$models_dir/models.json" \
  --rest_api_port=$server_port --port=28500 --listen_address=127.0.0.1 > "$out/server.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$server_port/v2/models/mnist/ready" "$out/server.log"

declare -A target_port target_pid
targets=(direct)
target_port[direct]=$server_port
target_pid[direct]=""

start_gateway() { # $1: label, $2: dll, $3: REST port
  local split=() extra_name="GATEWAY_ENV_$1"
  read -r -a extra <<< "${!extra_name:-}"
  if [ "${GATEWAY_SPLIT:-0}" = 1 ]; then
    split=(ReverseProxy__Clusters__canary__Destinations__a__Address="http://127.0.0.1:$server_port"
      Gateway__Splits__mnist__Targets__0__Name=stable Gateway__Splits__mnist__Targets__0__Cluster=inference Gateway__Splits__mnist__Targets__0__Weight=90
      Gateway__Splits__mnist__Targets__1__Name=canary Gateway__Splits__mnist__Targets__1__Cluster=canary Gateway__Splits__mnist__Targets__1__Weight=10)
  fi
  env ReverseProxy__Routes__all__ClusterId=inference \
    ReverseProxy__Routes__all__Match__Path='{**catch-all}' \
    ReverseProxy__Clusters__inference__Destinations__a__Address="http://127.0.0.1:$server_port" \
    "${split[@]}" "${extra[@]}" \
    Gateway__ListenAddress=127.0.0.1 Gateway__RestPort="$3" Gateway__GrpcPort=$(($3 + 1000)) \
    dotnet "$2" > "$out/$1.log" 2>&1 &
  pids+=($!)
  targets+=("$1"); target_port[$1]=$3; target_pid[$1]=$!
  wait_ready "http://127.0.0.1:$3/v2/models/mnist/ready" "$out/$1.log"
}

# A bare YARP host as a user's first one runs: the Web SDK's default, server GC (YARP_ENV adds or overrides settings).
read -r -a yarp_env <<< "${YARP_ENV:-}"
env DOTNET_gcServer=1 "${yarp_env[@]}" $bench serve-yarp --upstream "http://127.0.0.1:$server_port" --port $yarp_port > "$out/yarp.log" 2>&1 &
pids+=($!)
targets+=(yarp); target_port[yarp]=$yarp_port; target_pid[yarp]=$!
wait_ready "http://127.0.0.1:$yarp_port/v2/models/mnist/ready" "$out/yarp.log"

start_gateway gateway "$PWD/ServingStack.Gateway/bin/Release/net10.0/ServingStack.Gateway.dll" $gateway_port
port=$((gateway_port + 10))
for variant in ${GATEWAY_VARIANTS:-}; do
  start_gateway "${variant%%=*}" "${variant#*=}" $port
  port=$((port + 10))
done

cat > "$out/nginx.conf" <<NGINX
worker_processes auto;
pid $out/nginx.pid;
error_log $out/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $out/nginx-body;
  proxy_temp_path $out/nginx-proxy;
  upstream inference { server 127.0.0.1:$server_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://inference;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
nginx -c "$out/nginx.conf" > "$out/nginx.log" 2>&1 &
pids+=($!)
targets+=(nginx); target_port[nginx]=$nginx_port; target_pid[nginx]=$!
wait_ready "http://127.0.0.1:$nginx_port/v2/models/mnist/ready" "$out/nginx.log"

echo "rep,target,concurrency,requests,rps,p50_ms,cpu_us_per_request" > "$out/summary.csv"
for rep in $(seq 1 "$reps"); do
  for c in ${concurrency//,/ }; do
    # Each repetition starts one target further on, so that no target always runs right after another.
    n=${#targets[@]}
    for i in $(seq 0 $((n - 1))); do
      target=${targets[$(((i + rep - 1) % n))]}
      url="http://127.0.0.1:${target_port[$target]}"
      $bench run --protocol rest --url "$url" --model mnist --concurrency "$c" --duration 2s --warmup 0s \
        --output "$out/warmup" --label "$target" > /dev/null
      step="$out/rep$rep-$target-c$c"
      pid=${target_pid[$target]}
      before=$([ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
      $bench run --protocol rest --url "$url" --model mnist --concurrency "$c" --duration "$duration" --warmup 0s \
        --output "$step" --label "$target" > "$step.log"
      after=$([ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
      # results.csv: requests is column 9, rps 13, p50 16.
      read -r requests rps p50 < <(awk -F, 'NR == 2 {print $9, $13, $16}' "$step/results.csv")
      cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.1f", ((n > 0 && t > 0) ? t / hz * 1e6 / n : 0)}')
      echo "$rep,$target,$c,$requests,$rps,$p50,$cpu" | tee -a "$out/summary.csv"
    done
  done
done

python3 - "$out/summary.csv" > "$out/summary.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for key in {(r["target"], int(r["concurrency"])) for r in rows}:
    picked = [r for r in rows if (r["target"], int(r["concurrency"])) == key]
    med[key] = (statistics.median(float(r["rps"]) for r in picked), statistics.median(float(r["cpu_us_per_request"]) for r in picked), len(picked))
targets = list(dict.fromkeys(r["target"] for r in rows))
# Ratios are paired: each repetition's value over bare YARP's (or nginx's) in the same repetition, then the median of
# those, so that load drifting between repetitions cancels out as far as it can.
def paired(target, base, c, field):
    by_rep = {(r["rep"], r["target"]): float(r[field]) for r in rows if int(r["concurrency"]) == c}
    ratios = [by_rep[(rep, target)] / by_rep[(rep, base)] for rep in {r["rep"] for r in rows}
              if (rep, target) in by_rep and by_rep.get((rep, base))]
    return f"{statistics.median(ratios):.2f}" if ratios else ""
print("| target | conc | req/s (median) | proxy CPU µs/request (median) | req/s ÷ bare YARP | CPU ÷ bare YARP | CPU ÷ nginx | reps |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for c in sorted({k[1] for k in med}):
    for t in targets:
        rps, cpu, n = med[(t, c)]
        proxy = t != "direct"
        print(f"| {t} | {c} | {rps:,.0f} | {f'{cpu:.0f}' if proxy else ''} | {paired(t, 'yarp', c, 'rps')} | "
              f"{paired(t, 'yarp', c, 'cpu_us_per_request') if proxy else ''} | {paired(t, 'nginx', c, 'cpu_us_per_request') if proxy else ''} | {n} |")
PY
cat "$out/summary.md"
stop_all
echo "results in $out"
