FROM alpine AS builder
RUN mkdir subdir
COPY hello .

FROM alpine AS second
RUN mkdir /test
RUN --mount=type=cache,from=builder,target=/test cat /test/hello
