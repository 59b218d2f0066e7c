# syntax=docker/dockerfile:1
ARG BASE_IMAGE=fedora:42
FROM ${BASE_IMAGE} AS dnf-cache
RUN --mount=type=bind,source=deps.lst,target=/root/deps.lst \
    --mount=type=cache,target=/var/lib/dnf \
    --mount=type=tmpfs,target=/var/log \
    --mount=type=tmpfs,target=/tmp \
    dnf install -y $(grep -h '^[^#]\+$' /root/deps.lst)
