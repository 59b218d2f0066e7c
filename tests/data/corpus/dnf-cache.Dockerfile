FROM fedora:40
RUN echo keepcache=True >> /etc/dnf/dnf.conf
RUN --mount=type=cache,target=/var/cache/dnf \
    dnf install -y --setopt=install_weak_deps=False git make
