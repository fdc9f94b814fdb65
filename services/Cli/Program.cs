// ft: the FineTune command line. Each verb lives in Commands/<Verb>Command.cs with `public static Command Create()`;
// add a verb with one file and one line below. Results go to stdout (stable JSON with --json, see docs/cli.md);
// progress and errors go to stderr.
using System.CommandLine;
using FineTune.Cli;
using FineTune.Cli.Commands;

var root = new RootCommand("ft: fine-tune local LLMs with LoRA and ship them to Ollama and llama.cpp")
{
    InitCommand.Create(),
    InitTinyCommand.Create(),
    InspectCommand.Create(),
    TokenizeCommand.Create(),
    ChatTemplateCommand.Create(),
    GenerateCommand.Create(),
    TrainCommand.Create(),
    MergeCommand.Create(),
    EvalCommand.Create(),
    BenchTrainCommand.Create(),
    ExportCommand.Create(),
    SubmitCommand.Create(),
    JobsCommand.Create(),
    WatchCommand.Create(),
    CancelCommand.Create(),
    ArtifactsCommand.Create(),
    PublishCommand.Create(),
};

return await CliRunner.InvokeAsync(root, args);
