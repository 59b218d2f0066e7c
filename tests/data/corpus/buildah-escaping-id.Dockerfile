FROM alpine
RUN --mount=type=cache,id=../../escape,target=/c echo x > /c/f
