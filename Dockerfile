# syntax=docker/dockerfile:1
#
# The ecsdeploy container image: the static release binary on a base with CA certificates
# and nothing else (no shell, no package manager). It compiles nothing: the release workflow
# (.github/workflows/docker.yml) unpacks the musl archives of the release into
# dist-docker/linux-amd64/ and dist-docker/linux-arm64/, and `docker buildx build
# --platform linux/amd64,linux/arm64` copies the one of each platform.
#
# Locally, from a release archive:
#   mkdir -p dist-docker/linux-amd64
#   tar -xzf ecsdeploy-x86_64-unknown-linux-musl.tar.gz --strip-components=1 \
#     -C dist-docker/linux-amd64 ecsdeploy-x86_64-unknown-linux-musl/ecsdeploy
#   docker build --platform linux/amd64 -t ecsdeploy .
#
# Run it with the config mounted at /work and AWS credentials in the environment:
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID \
#     -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN ghcr.io/ecsdeploy/ecsdeploy plan
# `up` builds images only where docker is at hand; in this image, deploy images that are
# already pushed (`image = "...:${IMAGE_TAG}"`).

# distroless/static: CA certificates (read by rustls-native-certs), /etc/passwd with the
# nonroot user, tzdata; about 2 MB.
FROM gcr.io/distroless/static-debian12:nonroot

ARG TARGETARCH
COPY --chmod=0755 dist-docker/linux-${TARGETARCH}/ecsdeploy /usr/local/bin/ecsdeploy

WORKDIR /work
ENTRYPOINT ["/usr/local/bin/ecsdeploy"]
CMD ["--help"]
