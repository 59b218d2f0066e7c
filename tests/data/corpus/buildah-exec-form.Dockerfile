FROM alpine
RUN --mount=type=cache,target=/c ["/bin/sh", "-c", "echo exec > /c/e"]
RUN --mount=type=cache,target=/c ["cat", "/c/e"]
