# One image with every npushare binary (scheduler, device plugin, arbiter, CLI) and the
# soft-slicing runtime (libvnpu.so + ld.so.preload), for deploy/kustomize. Not built in CI here
# (no container builder on the CI machines); its build steps are the scripts CI runs:
# scripts/setup installs the Debian packages, scripts/build configures and builds.
#   docker build -t npushare:latest .
# Multi-arch: build on (or for) linux/arm64 as well; nothing here is architecture-specific.

FROM debian:12 AS build
WORKDIR /src
COPY . .
# scripts/setup installs exactly the packages CI installs (scripts/packages/*.txt).
RUN ./scripts/setup \
 && BUILD_DIR=/src/build ./scripts/build -DCMAKE_BUILD_TYPE=Release \
      -DNPUSHARE_BUILD_TESTS=OFF -DNPUSHARE_BUILD_BENCH=OFF -DNPUSHARE_BUILD_SIM=OFF \
 && mkdir -p /out/usr/local/bin /out/usr/local/npushare/lib \
 && for b in npushare npushare-scheduler npushare-device-plugin npushare-arbiter; do \
      install -m 0755 "build/bin/$b" /out/usr/local/bin/; done \
 && install -m 0644 build/lib/libvnpu.so /out/usr/local/npushare/lib/libvnpu.so \
 && echo /usr/local/npushare/lib/libvnpu.so > /out/usr/local/npushare/ld.so.preload \
 && chmod 0644 /out/usr/local/npushare/ld.so.preload

FROM debian:12-slim
# Runtime libraries of the binaries above (the -dev packages' shared objects; the list is
# what `ldd` names for the four binaries, minus what these pull in).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libssl3 libyaml-cpp0.7 libgrpc++1.51 libprotobuf32 \
      libspdlog1.10 libfmt9 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# No USER here: each manifest sets its own (the scheduler drops every capability but
# NET_BIND_SERVICE for port 443, which a non-root user could not use; the device plugin and
# arbiter get what deploy/kustomize/base/device-plugin-daemonset.yaml documents line by line).
ENTRYPOINT ["npushare"]
