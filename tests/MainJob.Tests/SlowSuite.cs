// Process-heavy suite (real AppHosts, trainer replicas or a browser): `dotnet test` on the solution skips it; ./test.sh runs it
// (-p:FullSuite=true). tests/Directory.Build.props.
[assembly: AssemblyTrait("Category", "Slow")]
