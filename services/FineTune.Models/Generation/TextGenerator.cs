using System.Diagnostics;
using static TorchSharp.torch;

namespace FineTune.Models.Generation;

/// <summary>
/// Autoregressive generation with a KV cache: one prefill over the (left-padded) prompts, then one token per step.
/// Prompts of different lengths are batched with segment id 0 on the padding, so they never see it.
/// </summary>
/// <param name="model">The model; generation runs under no_grad and leaves its weights untouched.</param>
/// <param name="decode">Token ids → text; needed for stop strings and text output (e.g. a tokenizer's Decode).</param>
public sealed class TextGenerator(CausalLM model, Func<IReadOnlyList<int>, string>? decode = null)
{
    /// <summary>Statistics of the last <see cref="Generate"/> call.</summary>
    public GenerationStats? LastStats { get; private set; }

    public GenerationResult Generate(int[] prompt, GenerationOptions options, Action<GeneratedToken>? onToken = null,
        CancellationToken cancellationToken = default) =>
        Generate([prompt], options, onToken, cancellationToken)[0];

    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options,
        Action<GeneratedToken>? onToken = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        Validate(prompts, options);

        var batch = prompts.Count;
        var longest = prompts.Max(p => p.Length);
        var device = model.Device;
        var states = prompts.Select(p => new SequenceState(p, options.StopStrings)).ToArray();
        using var noGrad = no_grad();
        using var cache = new KVCache(model.Config, batch, longest + Math.Max(options.MaxNewTokens, 1), device, model.DType);
        using var generator = options.Seed is { } seed ? new Generator((ulong)seed, device) : null;
        var sampler = new Sampler(options, generator);

        var clock = Stopwatch.StartNew();
        var next = Prefill(prompts, longest, cache, sampler, states, options);
        var prefillSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();

        var generated = 0;
        for (var step = 0; step < options.MaxNewTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tokens = next.data<long>().ToArray();
            next.Dispose();
            generated += Accept(tokens, states, options, onToken);
            if (states.All(s => s.Finished) || step == options.MaxNewTokens - 1) { next = empty(0); break; }

            using var scope = NewDisposeScope();
            var input = tensor(tokens, [batch, 1], device: device);
            var positions = tensor(states.Select(s => (long)(s.Prompt.Length + s.Tokens.Count - 1 + (s.Finished ? 1 : 0))).ToArray(), [batch, 1], device: device);
            var logits = model.forward(input, positionIds: positions, cache: cache).squeeze(1);  // (B, V)
            next = sampler.Next(logits, options.RepetitionPenalty != 1.0 ? states.Select(s => s.Seen).ToArray() : null)
                .cpu().MoveToOuterDisposeScope();
        }
        next.Dispose();
        foreach (var (s, b) in states.Select((s, b) => (s, b)))
            if (!s.Finished) s.Finish(FinishReason.Length, decode, onToken, b);

        LastStats = new GenerationStats(prompts.Sum(p => p.Length), prefillSeconds, generated, clock.Elapsed.TotalSeconds);
        return [.. states.Select(s => s.Result!)];
    }

    private void Validate(IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token");
        if (options.StopStrings.Count > 0 && decode is null) throw new ArgumentException("stop strings need a decoder");
        var vocab = model.Config.VocabSize;
        foreach (var p in prompts)
            if (p.Any(t => t < 0 || t >= vocab))
                throw new ArgumentException($"prompt token {p.First(t => t < 0 || t >= vocab)} is outside the vocabulary [0, {vocab})");
    }

    /// <summary>Prefill: prompts left-padded to the longest, padding in segment 0; returns the first sampled token of each (on the CPU).</summary>
    private Tensor Prefill(IReadOnlyList<int[]> prompts, int longest, KVCache cache, Sampler sampler, SequenceState[] states,
        GenerationOptions options)
    {
        var batch = prompts.Count;
        var device = model.Device;
        var ids = new long[batch * longest];
        var segments = new long[batch * longest];
        for (var b = 0; b < batch; b++)
        {
            var pad = longest - prompts[b].Length;
            for (var t = 0; t < prompts[b].Length; t++)
            {
                ids[b * longest + pad + t] = prompts[b][t];
                segments[b * longest + pad + t] = 1;
            }
        }
        var ragged = prompts.Any(p => p.Length != longest);
        using var scope = NewDisposeScope();
        var input = tensor(ids, [batch, longest], device: device);
        var segs = ragged ? tensor(segments, [batch, longest], device: device) : null;
        var hidden = model.ForwardHidden(input, segmentIds: segs, cache: cache);            // (B, T, C)
        var logits = model.LmHead(hidden.narrow(1, longest - 1, 1)).squeeze(1);            // (B, V)
        return sampler.Next(logits, options.RepetitionPenalty != 1.0 ? states.Select(s => s.Seen).ToArray() : null)
            .cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Hands each unfinished sequence its sampled token (finishing it on EOS or at the length limit); returns how many tokens were taken.</summary>
    private int Accept(long[] tokens, SequenceState[] states, GenerationOptions options, Action<GeneratedToken>? onToken)
    {
        var generated = 0;
        for (var b = 0; b < states.Length; b++)
        {
            if (states[b].Finished) continue;
            generated++;
            var token = (int)tokens[b];
            if (options.EosTokenIds.Contains(token))
            {
                states[b].Finish(FinishReason.Eos, decode, onToken, b);
                continue;
            }
            states[b].Add(token, decode, onToken, b);
            if (states[b].Tokens.Count >= options.MaxNewTokens) states[b].Finish(FinishReason.Length, decode, onToken, b);
        }
        return generated;
    }

    /// <summary>One prompt's progress: tokens so far, text streamed so far, how it ended.</summary>
    private sealed class SequenceState(int[] prompt, IReadOnlyList<string> stops)
    {
        private readonly StopStringMatcher _matcher = new(stops);
        private readonly HashSet<int> _seen = [.. prompt];
        private int _emitted;

        public int[] Prompt { get; } = prompt;
        public List<int> Tokens { get; } = [];
        public IReadOnlyCollection<int> Seen => _seen;
        public bool Finished => Result is not null;
        public GenerationResult? Result { get; private set; }

        public void Add(int token, Func<IReadOnlyList<int>, string>? decode, Action<GeneratedToken>? onToken, int index)
        {
            Tokens.Add(token);
            _seen.Add(token);
            if (decode is null)
            {
                onToken?.Invoke(new GeneratedToken(index, token, null));
                return;
            }
            var text = decode(Tokens);
            var stop = _matcher.FindStop(text);
            if (stop >= 0)
            {
                onToken?.Invoke(new GeneratedToken(index, token, Delta(text, stop)));
                Result = new GenerationResult([.. Tokens], text[..stop], FinishReason.Stop);
                return;
            }
            onToken?.Invoke(new GeneratedToken(index, token, Delta(text, _matcher.SafeLength(text))));
        }

        public void Finish(FinishReason reason, Func<IReadOnlyList<int>, string>? decode, Action<GeneratedToken>? onToken, int index)
        {
            var text = decode?.Invoke(Tokens);
            var rest = text is null ? null : Delta(text, text.Length);
            if (!string.IsNullOrEmpty(rest))
                onToken?.Invoke(new GeneratedToken(index, GeneratedToken.Flush, rest));
            Result = new GenerationResult([.. Tokens], text, reason);
        }

        private string Delta(string text, int upTo)
        {
            if (upTo <= _emitted) return "";
            var d = text[_emitted..upTo];
            _emitted = upTo;
            return d;
        }
    }
}
