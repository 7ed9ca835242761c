# aligngate: multi-stage build. The server is pure Go (no cgo); the llama.cpp
# shared libraries it loads at run time come from the npm package that
# scripts/install-llama.sh fetches.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/aligngate ./cmd/aligngate

FROM node:20-bookworm-slim AS llama
COPY scripts/install-llama.sh /tmp/install-llama.sh
RUN bash /tmp/install-llama.sh /opt/llama

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/aligngate /usr/local/bin/aligngate
COPY --from=llama /opt/llama /opt/llama
COPY config.yaml /etc/aligngate/config.yaml
ENV YZMA_LIB=/opt/llama
EXPOSE 8080
USER 65532:65532
# Mount a GGUF correction model and pass --aligner-model /models/aligner.gguf,
# or set llamacpp.model_path in a mounted config.
ENTRYPOINT ["aligngate"]
CMD ["serve", "--config", "/etc/aligngate/config.yaml"]
