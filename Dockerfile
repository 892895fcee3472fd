# idv: a static, non-root image (no cgo: SQLite is modernc.org/sqlite, pure Go).
#   docker build -t idv .
#   docker run --network host idv            # FastAGI on 127.0.0.1:4573 with deploy/docker/config.toml
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# IPAGothic: the PDF reports' font (Japanese and Latin customer names).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-ipafont-gothic && rm -rf /var/lib/apt/lists/*
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /out/idv ./cmd/idv \
 && mkdir -p /out/var/lib/idv

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idv /usr/local/bin/idv
COPY --from=build /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
COPY --from=build --chown=nonroot:nonroot /out/var/lib/idv /var/lib/idv
COPY sounds/en /usr/share/idv/sounds/en
COPY sounds/ja /usr/share/idv/sounds/ja
COPY deploy/docker/config.toml /etc/idv/config.toml
USER nonroot
EXPOSE 4573
VOLUME /var/lib/idv
ENTRYPOINT ["/usr/local/bin/idv"]
CMD ["serve", "-config", "/etc/idv/config.toml"]
