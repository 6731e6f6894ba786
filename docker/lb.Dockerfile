# The load balancer of compose.yaml's `shared` profile: Debian's nginx, built from the same
# Debian base as the mock's image (no nginx image is pulled), passing TLS through untouched
# (the stream module: TCP) to the mock replicas, round-robin (docker/nginx-shared.conf).
# Passthrough, not termination: the browser sees the replicas' own certificate, issued by the
# CA they share, and no private key lives in the balancer.
#
# Build context: this folder (compose.yaml: `build: {context: docker, dockerfile: ...}`).

FROM python:3.11-slim-bookworm

# Bookworm's nginx 1.22 and its stream module (a dynamic module, loaded by the config). The
# stable archive carries one version of each package, so none is pinned (DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx libnginx-mod-stream \
 && rm -rf /var/lib/apt/lists/*

COPY nginx-shared.conf /etc/nginx/nginx-shared.conf

# Unprivileged (Debian's www-data, 33): it listens on 8443 and writes only its pid file, in /tmp.
USER 33:33

EXPOSE 8443

# Healthy: nginx accepts a TCP connection on its port (bash's /dev/tcp; no client in the image).
HEALTHCHECK --interval=2s --timeout=5s --start-period=10s --retries=15 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8443"]

# exec form, in the foreground: nginx is PID 1 and gets `docker stop`'s SIGTERM (a fast stop).
CMD ["nginx", "-c", "/etc/nginx/nginx-shared.conf", "-g", "daemon off;"]
