ARG BASE=python:3.10
FROM python:3.10 AS wheelhouse
RUN pip wheel --wheel-dir=/tmp/wheels pandas

FROM ${BASE} AS release
RUN --mount=type=cache,from=wheelhouse,target=/wheelhouse,ro \
    pip --no-cache-dir install -q --no-index --find-links=/wheelhouse/tmp/wheels pandas
