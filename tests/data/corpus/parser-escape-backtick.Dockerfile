# escape=`
FROM mcr.example/windows/servercore
RUN --mount=type=cache,target=/cache `
    echo one > /cache/one && `
    cat /cache/one
