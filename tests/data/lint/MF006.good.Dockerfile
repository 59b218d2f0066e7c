# lint: --engine buildah@1.28 --remote
FROM alpine:3.20
RUN --mount=type=cache,id=a,target=/a,sharing=locked echo x > /a/f
RUN --mount=type=cache,id=b,target=/b,sharing=locked echo y > /b/g
