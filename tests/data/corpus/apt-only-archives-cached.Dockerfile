FROM ubuntu:jammy
ENV DEBIAN_FRONTEND=noninteractive
RUN --mount=type=cache,target=/var/cache/apt \
    apt-get update -qq && apt-get install -y -qq python3 python3-pip
