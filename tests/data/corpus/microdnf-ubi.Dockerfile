FROM registry.access.redhat.com/ubi9/ubi-minimal
RUN --mount=type=cache,target=/var/cache/yum \
    microdnf install -y shadow-utils && microdnf clean all
