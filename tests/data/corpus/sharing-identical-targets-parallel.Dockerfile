FROM alpine AS a
RUN --mount=type=cache,target=/cache echo a > /cache/out

FROM alpine AS b
RUN --mount=type=cache,target=/cache echo b > /cache/out

FROM alpine
COPY --from=a /etc/hostname /a
COPY --from=b /etc/hostname /b
