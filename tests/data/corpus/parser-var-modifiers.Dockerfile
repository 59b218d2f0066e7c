FROM alpine
ARG CACHE_ROOT=/var/cache/app/data
ARG NAME=my-app
ENV EMPTY=
RUN --mount=type=cache,target=${CACHE_ROOT%/*},id=${NAME//-/_}-${EMPTY:-none} \
    echo ok > ${CACHE_ROOT%/*}/ok
RUN --mount=type=cache,target=/c,id=${CACHE_ROOT##*/}${EMPTY:+never} cat /c/x || true
