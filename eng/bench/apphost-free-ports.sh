#!/usr/bin/env bash
# Runs the built AppHost (Release) as the http launch profile does, but with every dashboard port free (Aspire says nothing
# when 18888 is taken). Arguments go to the AppHost. Used by eng/bench/apphost-startup.sh (BENCHMARKS.md).
fp() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export ASPNETCORE_URLS=http://localhost:$(fp) ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:$(fp) ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://localhost:$(fp) ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:$(fp) ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development
exec dotnet "$(dirname "$0")/../../AppHost/bin/Release/net10.0/AppHost.dll" "$@"
