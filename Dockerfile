# automlops itself, as an image: the Cloud Build step `check-compiled-output` of a generated
# codebase runs it to check that the committed output is what automlops makes of the committed
# notebook. Tag it with the version that compiled the codebase (`automlops --version`):
#   docker build -t <af_registry_location>-docker.pkg.dev/<project_id>/<af_registry_name>/automlops:<version> .
#   docker push <that tag>
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && strip target/release/automlops

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/automlops /usr/local/bin/automlops
ENTRYPOINT ["/usr/local/bin/automlops"]
