# lint: --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,id=w,target=/w,sharing=locked rm -rf /w/tmp && echo mine > /w/owner && cat /w/owner
