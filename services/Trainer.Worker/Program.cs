using Trainer.Worker.DataParallel;
using Trainer.Worker.Extensions;

if (args is ["train-rank", ..]) return await RankRunner.RunAsync(args[1..]);   // one rank of a group as a process (tests, bench/DataParallel.Bench)

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
return 0;
