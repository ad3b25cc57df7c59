# One image with every entra2okta binary; docker-compose.yml picks the command.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/ ./worker ./hookserver ./starter ./internal/cmd/fakeidp

FROM alpine:3.22
RUN apk add --no-cache ca-certificates wget && adduser -D -u 10001 app
COPY --from=build /out/ /usr/local/bin/
USER app
