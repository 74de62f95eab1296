# SENCO Oversight: multi-stage build, slim non-root runtime.
#
#   docker build -t senco-oversight .
#   docker run --rm -p 8080:8080 senco-oversight                       # demo on SQLite
#   docker run --rm -p 8080:8080 -e SENCO_DATABASE_URL=postgres://... \
#       -e SENCO_JWT_SECRET=... senco-oversight                          # production
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin senco-oversight \
 && strip target/release/senco-oversight

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/senco --create-home senco
COPY --from=build /src/target/release/senco-oversight /usr/local/bin/senco-oversight
COPY --from=build /src/data /usr/share/senco-oversight/data
USER senco
WORKDIR /var/lib/senco
ENV SENCO_BIND=0.0.0.0:8080 \
    SENCO_DATABASE_URL=sqlite:///var/lib/senco/senco.db?mode=rwc \
    RUST_LOG=info
# Orchestrators probe GET /health (200 when the database answers, 503 otherwise).
EXPOSE 8080
VOLUME ["/var/lib/senco"]
ENTRYPOINT ["senco-oversight"]
CMD ["serve"]
