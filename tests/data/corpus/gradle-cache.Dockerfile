FROM gradle:8-jdk21 AS build
WORKDIR /home/gradle/src
COPY . .
RUN --mount=type=cache,target=/home/gradle/.gradle gradle build --no-daemon
