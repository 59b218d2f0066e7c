FROM alpine AS one
COPY hello .

FROM alpine AS two
COPY hello2 .

FROM alpine
RUN mkdir /test
RUN --mount=type=cache,from=one,target=/test --mount=type=cache,from=two,target=/test2 cat /test2/hello2 && cat /test/hello
