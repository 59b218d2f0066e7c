FROM ruby:3.3
ENV BUNDLE_PATH=/bundle
WORKDIR /app
COPY Gemfile Gemfile.lock ./
RUN --mount=type=cache,target=/bundle bundle install --jobs 4
