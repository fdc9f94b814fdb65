using System.Collections.Concurrent;
using FineTune.Models.Core.ChatTemplates;

namespace Preprocess.Worker.Services;

/// <summary>One <see cref="ConversationEncoder"/> per model folder and files hash (loading a large tokenizer.json takes seconds).</summary>
public sealed class EncoderCache
{
    private readonly ConcurrentDictionary<string, Lazy<ConversationEncoder>> _encoders = new();

    public ConversationEncoder Get(string modelFolder, string filesHash) =>
        _encoders.GetOrAdd($"{modelFolder}|{filesHash}", _ => new Lazy<ConversationEncoder>(() => ConversationEncoder.FromFolder(modelFolder))).Value;
}
