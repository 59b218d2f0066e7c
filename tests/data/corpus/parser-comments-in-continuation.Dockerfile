FROM alpine
RUN --mount=type=cache,target=/c \
# the first step
    echo a > /c/a && \

    # the second step
    cat /c/a
