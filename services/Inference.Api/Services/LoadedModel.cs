using FineTune.Models;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.Tokenizers;
using FineTune.Training.Merge;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using Inference.Api.Model;

namespace Inference.Api.Services;

/// <summary>
/// A model in memory with what chat needs: the product's own CausalLM (weights, KV-cache generation), the folder's
/// tokenizer and chat template (<see cref="ConversationEncoder"/>: the same rendering training used) and the ids that end a turn.
/// An adapter is injected (PeftAdapterFiles) and merged into the base weights (AdapterMerger.MergeInto), so decoding costs
/// the same as the merged export.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelEntry entry, CausalLM model, ConversationEncoder encoder, int[] stopIds)
    {
        Entry = entry;
        Model = model;
        Encoder = encoder;
        StopIds = stopIds;
    }

    public ModelEntry Entry { get; }
    public CausalLM Model { get; }
    public ConversationEncoder Encoder { get; }

    /// <summary>End-of-turn and EOS ids of the tokenizer, the template and config.json.</summary>
    public int[] StopIds { get; }

    public static LoadedModel Load(ModelEntry entry)
    {
        var encoder = ConversationEncoder.FromFolder(entry.Folder);
        var model = CausalLM.Load(entry.Folder, CausalLM.DefaultDevice);
        try
        {
            if (entry.Adapter is { } adapterFolder)
            {
                var adapter = PeftAdapterFiles.Load(new CausalLMTrainable(model), adapterFolder);
                AdapterMerger.MergeInto(model, adapter);
            }
            model.eval();
            var stops = encoder.EndOfTurnIds.Concat(encoder.Tokenizer.EosIds).Concat(model.Config.EosTokenIds).Distinct().ToArray();
            return new LoadedModel(entry, model, encoder, stops);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}
