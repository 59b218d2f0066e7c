FROM gcc:13
ENV CCACHE_DIR=/root/.ccache PATH=/usr/lib/ccache:$PATH
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.ccache \
    ccache -z && make -j"$(nproc)" && ccache -s
