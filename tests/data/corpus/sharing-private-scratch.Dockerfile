FROM alpine
RUN --mount=type=cache,target=/scratch,sharing=private \
    echo mine > /scratch/m && cat /scratch/m
