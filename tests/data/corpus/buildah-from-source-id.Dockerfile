FROM alpine AS builder
RUN mkdir -p subdir/subdir2
COPY hello ./subdir/
COPY hello2 ./subdir/subdir2/

FROM alpine AS second
RUN --mount=type=cache,id=1,source=/subdir,from=builder,target=/test cat /test/hello

FROM alpine AS third
RUN --mount=type=cache,id=2,source=/subdir/subdir2,from=builder,target=/test cat /test/hello2
