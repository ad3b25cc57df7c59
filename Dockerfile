# One image with every entra2okta binary; docker-compose.yml picks the command.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/ ./worker ./hookserver ./starter ./internal/cmd/fakeidp

FROM alpine:3.22
# uid and gid 10001, created explicitly. /shared is the demo's volume: Docker
# copies a mount point's owner into a new named volume, so fakeidp (this user)
# can write its certificates there.
RUN apk add --no-cache ca-certificates wget \
 && addgroup -g 10001 app && adduser -D -u 10001 -G app app \
 && mkdir /shared && chown 10001:10001 /shared
COPY --from=build /out/ /usr/local/bin/
# By number, so that a runtime can check it is not root. Docker Compose mounts
# file secrets with their owner and mode on the host: make the files under
# ./secrets readable by this uid (chown 10001:10001, chmod 0400).
USER 10001:10001
