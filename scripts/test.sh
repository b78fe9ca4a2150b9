#!/usr/bin/env bash
# Builds the solution and runs every test project (generator, kernels, runtime and end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build NetCompiler.sln -c Release --nologo
dotnet test NetCompiler.sln -c Release --no-build --nologo
