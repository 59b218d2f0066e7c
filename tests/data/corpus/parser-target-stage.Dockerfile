FROM alpine AS unused
RUN --mount=type=cache,target=/never echo never > /never/n

FROM alpine AS used
RUN --mount=type=cache,target=/c echo used > /c/u

FROM used
RUN --mount=type=cache,target=/c cat /c/u
