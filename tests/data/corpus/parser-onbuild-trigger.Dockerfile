FROM centos:centos8 AS base
ONBUILD RUN --mount=type=cache,target=/var/cache/dnf dnf update -y && dnf clean all
RUN dnf --version

FROM base
RUN --mount=type=cache,target=/var/cache/dnf dnf install -y git
