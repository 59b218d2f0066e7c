# syntax=docker/dockerfile:1
FROM alpine
COPY <<EOF /etc/app.conf
key=value
EOF
RUN --mount=type=cache,target=/c cat <<A > /c/a && cat <<"B" > /c/b
first $HOME
A
second $HOME
B
