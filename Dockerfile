# kube-state-otel container image: `docker build -t kube-state-otel .`
# The builder compiles the release binary (etcd-client's build script needs protoc); the
# runtime is distroless with glibc, no shell, running as the `nonroot` user (65532), the
# UID the Kubernetes Deployment pins.

FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not rebuild them: build against stub sources.
# testkit/ is a member of the workspace, so cargo needs it to load Cargo.toml; the release
# build does not compile it (it is only a dev-dependency).
COPY Cargo.toml Cargo.lock ./
COPY testkit ./testkit
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src
COPY src ./src
# The stub build left newer artifacts for the crate itself; make cargo rebuild it.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/kube-state-otel /kube-state-otel

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /kube-state-otel /usr/local/bin/kube-state-otel
USER 65532:65532
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/kube-state-otel"]
CMD ["run", "--config", "/etc/kube-state-otel/config.yaml"]
