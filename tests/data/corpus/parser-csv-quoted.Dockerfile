FROM alpine
RUN --mount=type=cache,"target=/c,with comma",id=q echo q > "/c,with comma/q"
