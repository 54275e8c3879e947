#!/usr/bin/env bash
# Gateway overhead (BENCHMARKS.md "Gateway overhead"): one inference server (Release, mnist from `bench make-models`),
# the gateway (YARP) in front of it and nginx as a plain reverse proxy (HTTP/1.1 keepalive upstream), all on loopback;
# the same REST load direct, through the gateway and through nginx, in one run.
# Installs Debian's nginx when missing (needs root and apt).
# Usage: bash ServingStack.Bench/run-gateway-benchmark.sh [duration, default 5s] [concurrency, default 1,8,32]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-5s}
concurrency=${2:-1,8,32}
out=bench-results/gateway-$(date -u +%Y%m%dT%H%M%SZ)
models_dir=bench-models
server_port=18501
gateway_port=18601
nginx_port=18701
mkdir -p "$out"
out=$PWD/$out

command -v nginx > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx > /dev/null; }

dotnet build ServingStack.Bench -c Release -v q -nologo
dotnet build ServingStack.Inference -c Release -v q -nologo
dotnet build ServingStack.Gateway -c Release -v q -nologo
bench="dotnet ServingStack.Bench/bin/Release/net10.0/ServingStack.Bench.dll"
[ -f "$models_dir/models.json" ] || $bench make-models --output "$models_dir"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

wait_ready() { # $1: url, $2: log
  for _ in $(seq 1 120); do
    curl -sf "$1" > /dev/null && return 0
    sleep 0.5
  done
  echo "$1 did not become ready" >&2; cat "$2" >&2; exit 1
}

export Logging__LogLevel__Default=Warning
dotnet ServingStack.Inference/bin/Release/net10.0/ServingStack.Inference.dll --model_config_file="$PWD/$models_dir/models.json" \
  --rest_api_port=$server_port --port=18500 --listen_address=127.0.0.1 > "$out/server.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$server_port/v2/models/mnist/ready" "$out/server.log"

ReverseProxy__Routes__all__ClusterId=inference \
ReverseProxy__Routes__all__Match__Path='{**catch-all}' \
ReverseProxy__Clusters__inference__Destinations__a__Address="http://127.0.0.1:$server_port" \
Gateway__ListenAddress=127.0.0.1 Gateway__RestPort=$gateway_port Gateway__GrpcPort=18600 \
  dotnet ServingStack.Gateway/bin/Release/net10.0/ServingStack.Gateway.dll > "$out/gateway.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$gateway_port/v2/models/mnist/ready" "$out/gateway.log"

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
wait_ready "http://127.0.0.1:$nginx_port/v2/models/mnist/ready" "$out/nginx.log"

for target in "direct $server_port" "gateway $gateway_port" "nginx $nginx_port"; do
  set -- $target
  $bench run --protocol rest --url "http://127.0.0.1:$2" --model mnist --concurrency "$concurrency" \
    --duration "$duration" --warmup 2s --output "$out" --label "$1"
done

stop_all
echo "results in $out"
