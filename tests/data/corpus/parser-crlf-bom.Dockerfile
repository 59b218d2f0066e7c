# syntax=docker/dockerfile:1
FROM alpine
RUN --mount=type=cache,target=/c \
    echo crlf > /c/f
RUN --mount=type=cache,target=/c cat /c/f
