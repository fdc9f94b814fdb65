using FineTune.Training.Model;

namespace FineTune.Training.Tests;

/// <summary>Tiny real decoders (TestSupport/Models/TinyDecoder) wrapped for training.</summary>
internal static class TinyModels
{
    public static CausalLMTrainable Llama(long seed = 1, int layers = 2, int hidden = 32, int vocab = 64, bool tie = false) =>
        new(TinyDecoder.Create(TinyDecoder.ConfigJson(layers: layers, hidden: hidden, vocab: vocab, tie: tie, maxPositions: 256), seed, std: 0.1));
}
