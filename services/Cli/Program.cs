using System.CommandLine;
using FineTune.Cli.Commands;

// ft: the FineTune.Aspire command line. Each verb is one Commands/<Verb>Command.cs with a static Create().
var root = new RootCommand("FineTune.Aspire: fine-tune local LLMs with LoRA and ship them to Ollama and llama.cpp");
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(ChatTemplateCommand.Create());
return root.Parse(args).Invoke();
