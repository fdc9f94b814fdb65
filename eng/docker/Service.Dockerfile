# Container image of one service of the app model, named by its folder under services/ (the folder, the project and the
# assembly share that name). Build from the repository root; the tag is the image the Kubernetes publisher writes:
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Dataset.Api -t finetune/dataset:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Preprocess.Worker -t finetune/preprocess:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Export.Worker -t finetune/export:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Trainer.Worker -t finetune/trainer:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Inference.Api -t finetune/inference:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Studio -t finetune/studio:latest .
#   docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE=Trainer.Worker --build-arg TORCHSHARP_BACKEND=cuda -t finetune/trainer:latest-cuda .
# TORCHSHARP_BACKEND=cpu (default) uses TorchSharp-cpu (libtorch CPU, on this repository's feed). A GPU image needs
# TorchSharp-cuda-linux instead (TORCHSHARP_BACKEND=cuda; restored from nuget.org, several GB of CUDA libtorch), and
# the node needs the NVIDIA driver and device plugin; the CUDA runtime libraries come inside the package.
# The Kubernetes publisher gives a workload with WithGpu(n) the "-cuda" tag. See docs/deploy.md.

ARG DOTNET_VERSION=10.0
ARG TORCHSHARP_BACKEND=cpu

# The Studio embeds chart.js at build (services/Studio/Studio.csproj reads eng/node/node_modules/chart.js). The image
# installs that one npm package, at the version eng/node/package.json pins, instead of relying on a host's node_modules
# (which .dockerignore keeps out of the context).
FROM node:22-bookworm-slim AS web-assets
COPY eng/node/package.json /tmp/package.json
RUN version="$(node -p "require('/tmp/package.json').dependencies['chart.js']")" \
 && npm install --prefix /web --no-save --no-audit --no-fund --ignore-scripts "chart.js@${version}"

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
ARG SERVICE
ARG TORCHSHARP_BACKEND
RUN test -n "$SERVICE" || { echo "name the service: --build-arg SERVICE=<folder under services/, e.g. Trainer.Worker>" >&2; exit 1; }
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY ServiceDefaults/ ServiceDefaults/
COPY services/ services/
COPY --from=web-assets /web/node_modules/chart.js eng/node/node_modules/chart.js
# -r linux-x64 puts libtorch, libc10, libtorch_cpu (or _cuda) and libLibTorchSharp.so beside the assemblies of the
# services that reference TorchSharp. Dataset.Api does not (FineTune.Contracts validates its jobs; the preprocess worker
# writes the generated models it names), nor does Export.Worker (the trainer merges, the export only converts), so their
# images carry no libtorch.
RUN dotnet publish services/${SERVICE}/${SERVICE}.csproj -c Release -r linux-x64 --self-contained false \
      -p:TorchSharpBackend=${TORCHSHARP_BACKEND} -p:UseAppHost=false -o /app

# TorchSharp's native dependencies travel in /app (libtorch, libc10, libtorch_cpu or libtorch_cuda and its CUDA
# libraries, libgomp, libLibTorchSharp.so). What the base image must supply is a libstdc++ from GCC 13 or later:
# libLibTorchSharp.so from TorchSharp 0.107 requires GLIBCXX_3.4.32. Ubuntu 24.04 (noble) has it; Debian 12 does
# not (there the repository's build patches the library, see build/TorchSharpNativeFix.targets).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS runtime-cpu
ENV LD_LIBRARY_PATH=/app

FROM runtime-cpu AS runtime-cuda
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

# The runtime stage of the chosen backend (cpu or cuda, the values Directory.Build.targets maps).
FROM runtime-${TORCHSHARP_BACKEND}
ARG SERVICE
ENV SERVICE_ASSEMBLY=${SERVICE}.dll
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
EXPOSE 8080
# The shell only expands the assembly name; exec makes dotnet PID 1, so it gets SIGTERM (graceful shutdown, the
# trainer's checkpoint on stop). Arguments given to the container (Kubernetes args) are passed on.
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"$SERVICE_ASSEMBLY\" \"$@\"", "--"]
